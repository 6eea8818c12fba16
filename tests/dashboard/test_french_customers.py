"""The customer-level pages in French, rendered on the bundled snapshot: Cross-sell (explorer and rule), Product,
Client 360, Campaigns and Predictions show French texts, French numbers and dates, French segment names, and
no English interface word. The English pages are covered by their own tests."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from dashboard import data
from dashboard.components import campaign_view, prediction_view
from dashboard.components import rules_view as rv
from dashboard.i18n import use_language
from tests.dashboard.components import by_id, page_module, text
from tests.dashboard.test_campaigns import TOKEN, configure, private_audiences, save  # noqa: F401 (fixture)

# English words of these pages' interface (whole words, any case). Words spelt the same in French (Lift, Support,
# Audience, Segment, Source, Date, Total, Code, Conviction, Score) cannot be told apart and are not listed.
ENGLISH = ["Rules", "rule", "Confidence", "Baskets", "basket", "Window", "Export", "Customers", "customer",
           "Buyers", "Revenue", "Recency", "Frequency", "Monetary", "Purchase history", "Recommended", "Usual",
           "Churn", "Members", "Target", "Control", "Predicted", "Actual", "Method", "Backtest against", "Decile",
           "Invoice", "Quantity", "Orders", "Product", "Reset filters", "Leverage", "Redundant", "antecedent",
           "consequent", "days", "priority", "What to do", "Bought with", "Popular in", "Measured",
           "campaign", "Created", "predictions", "Not at risk", "At risk", "Net value",
           "Show", "Open", "Type an id", "Find", "highest", "Every", "Split", "Why", "Expected", "Next order",
           "holdout", "split", "customers", "Loyal", "Hibernating"]
SPACE = "[\u00a0\u202f ]"  # French digit groups and units: (narrow) non-breaking spaces
MONEY = rf"\d{{1,3}}(?:{SPACE}\d{{3}})*(?:,\d\d)?{SPACE}£"
MONTHS = r"(janv|févr|mars|avr|mai|juin|juil|août|sept|oct|nov|déc)\.?"


def english_left(tree: object) -> list[str]:
    """The English words of :data:`ENGLISH` found in the text of ``tree``."""
    shown = text(tree, " ")
    return [word for word in ENGLISH if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", shown, re.IGNORECASE)]


@pytest.fixture
def version(in_request) -> str:
    return data.current_version()


def _without(tree: object, *component_ids: str) -> object:
    """``tree`` with the children of the given components emptied (data shown as it is: product names...)."""
    from tests.dashboard.components import walk

    for component in walk(tree):
        if getattr(component, "id", None) in component_ids:
            component.children = None
    return tree


def test_cross_sell_explorer_in_french(dash_app, version):
    page = page_module("/cross-sell")
    with use_language("fr"):
        layout = page.layout(segment="Can't Lose Them")
        out = page.apply_filters(0.01, 0, 0, [2, 3], [], "anywhere", [], "anywhere", "", ["hide"], {}, version,
                                 {"segment": None})
        empty = page.apply_filters(0, 0, 500, [2, 3], [], "anywhere", [], "anywhere", "", ["hide"], {}, version,
                                   {"segment": None})
        headers = [column["headerName"] for column in rv.column_defs()]
    shown = text(layout, " ")
    assert "Ventes croisées — règles du segment À ne pas perdre" in shown  # the segment by its French name
    for french in ("Support minimal", "Confiance minimale", "Lift minimal", "Doit contenir", "Fenêtre",
                   "Exporter en CSV", "Réinitialiser les filtres",
                   "Règles les plus fortes"):
        assert french in shown, french
    assert english_left(layout) == []
    assert re.fullmatch(rf"(?:\d|{SPACE})+ sur (?:\d|{SPACE})+ règles", out[2])  # "412 sur 2 555 règles"
    figure = out[5]
    assert figure["layout"]["title"]["text"].startswith("Support × confiance, couleur selon le lift")
    assert figure["layout"]["yaxis"]["title"]["text"] == "Confiance (%)"
    assert "Cliquer pour ouvrir" in figure["data"][0]["hovertemplate"]
    assert out[7] == "1,00\u00a0%"  # the slider's value, French decimals
    assert empty[3].startswith("Aucune règle ne correspond. Pour voir des règles, baissez le lift minimal à ×")
    assert headers[:5] == ["Si un panier contient…", "…il contient souvent aussi", "Support", "Confiance", "Lift"]


def test_rule_grid_rows_and_windows_in_french(dash_app, version):
    rules = page_module("/cross-sell").rule_set(version, None)
    with use_language("fr"):
        row = rv.grid_rows(rules.frame.head(1))[0]
        assert rv.window_label("last 60 days") == "60 derniers jours"
        assert rv.window_label("all baskets") == "tous les paniers"
    assert re.fullmatch(r"×\d+,\d\d", row["lift"]) and "," in row["confidence"]


def test_rule_page_in_french(dash_app, version):
    page = page_module("/cross-sell/rule/<rule_id>")
    rules = data.table("rules", version)
    rule = rules[rules["antecedents"].map(len) == 1].iloc[0]
    with use_language("fr"):
        layout = page.layout(rule_id=rule["rule_id"])
        missing = page.layout(rule_id="0000")
    words = text(by_id(layout, "rule-words"), " ")
    assert words.startswith("Achetés ensemble dans ") and "(confiance)" in words and "(lift)" in words
    assert re.search(rf"\d clients ont acheté l’antécédent mais jamais .* — valeur nette cumulée {MONEY}",
                     text(by_id(layout, "rule-audience-count")))
    table = text(by_id(layout, "rule-audience"), " ")
    assert "Valeur nette (£)" in table and "Dernier achat" in table
    assert re.search(rf"\d{{1,2}} {MONTHS} 20\d\d", table)
    # the customers' segments by their French names
    names = set(data.table("segments", version)["label_fr"])
    assert any(name in table for name in names - set(data.table("segments", version)["segment"]))
    assert english_left(_without(layout, "rule-words", "rule-audience-count", "audience-modal")) == []
    assert "Aucune règle avec cet identifiant" in text(missing)


def test_product_page_in_french(dash_app, version):
    page = page_module("/products/<code>")
    with use_language("fr"):
        layout = page.layout(code="22697")
        missing = page.layout(code="NOPE")
    shown = text(layout, " ")
    for french in ("Chiffre d’affaires", "Acheteurs", "Paniers", "Unités vendues", "Recommandé à",
                   "Les clients qui l’achètent achètent aussi", "Acheté après ces produits", "Confiance", "Règle →"):
        assert french in shown, french
    assert re.fullmatch(MONEY, text(by_id(layout, "product-revenue")))
    monthly = by_id(layout, "product-monthly").figure
    assert monthly.layout.title.text.replace("<br>", " ") == "Chiffre d’affaires et acheteurs par mois"
    assert monthly.data[1].name == "Acheteurs" and re.fullmatch(rf"{MONTHS} 20\d\d", monthly.data[1].customdata[0])
    segments = by_id(layout, "product-segments").figure
    assert segments.layout.title.text == "Acheteurs par segment" and "Clients fidèles" in list(segments.data[0].y)
    assert english_left(_without(layout, "product-title", "product-then", "product-before")) == []
    assert "Aucun produit de code article NOPE" in text(missing)


def test_client_360_in_french(dash_app, version):
    page = page_module("/client/<customer_id>")
    with use_language("fr"):
        layout = page.layout(customer_id="12347")
        search = page_module("/client").layout()
    shown = text(layout, " ")
    for french in ("Que faire", "Risque d’attrition", "Récence", "Fréquence", "Montant", "Panier moyen",
                   "Premier achat", "Historique d’achats", "Produits habituels", "Produits recommandés",
                   "Valeur prévue", "Commandes attendues, 90 prochains jours", "Acheté avec"):
        assert french in shown, french
    assert text(by_id(layout, "client-recency")).endswith(" jours")
    assert re.fullmatch(r"\d+ commandes?", text(by_id(layout, "client-frequency")))
    assert re.fullmatch(rf"\d{{1,2}} {MONTHS} 20\d\d", text(by_id(layout, "client-first")))
    assert re.fullmatch(MONEY, text(by_id(layout, "client-net"))) and "," in text(by_id(layout, "client-net"))
    summary = text(by_id(layout, "client-history-summary"))
    assert re.fullmatch(rf"(?:\d|{SPACE})+ factures? · (?:\d|{SPACE})+ retours?", summary)
    customers = data.table("customers", version)
    segment = customers.loc[customers["customer_id"] == "12347", "segment"].iloc[0]
    segments = data.table("segments", version).set_index("segment")
    assert text(by_id(layout, "client-segment-link")) == segments.loc[segment, "label_fr"]
    assert text(by_id(layout, "client-action")).endswith(segments.loc[segment, "action_fr"])
    left = english_left(_without(layout, "client-country"))
    assert left == [], left
    assert "Tout sur un client" in text(search, " ") and english_left(_without(search, "client-examples-at-risk",
                                                                               "client-examples-best")) == []


def test_predicted_value_texts_in_french():
    with use_language("fr"):
        reason = prediction_view.risk_reason_text(
            "usually orders every 21 days; none for 96 days — 4.6× the usual gap; value £5,400/year", "£")
        first = prediction_view.risk_reason_text("one order so far (repeat customers order every 30 days); none for "
                                                 "300 days — 10.0× the usual gap; value £1,234/year", "£")
        due = prediction_view.next_order_text(pd.Series({"next_order_date": pd.Timestamp("2011-10-03")}),
                                              "2011-12-09")
    assert reason == ("commande habituellement tous les 21 jours\u00a0; aucune depuis 96 jours — 4,6× l’écart "
                      "habituel\u00a0; valeur 5\u202f400 £/an").replace("5\u202f400 £", _french_money(5400))
    assert first.startswith("une seule commande (les clients réguliers commandent tous les 30 jours)")
    assert due == "attendue le 3 oct. 2011 (il y a 67 jours)"
    # a sentence of another shape is shown as written
    assert prediction_view.risk_reason_text("something else", "£") == "something else"


def _french_money(value: float) -> str:
    from dashboard.components import format as fmt

    with use_language("fr"):
        return fmt.money(value, "£", 0)


def test_predictions_page_in_french(dash_app, version):
    page = page_module("/predictions")
    with use_language("fr"):
        layout = page.layout()
    shown = text(layout, " ")
    for french in ("Quelle est la qualité des prévisions", "Backtest face à des références naïves", "Méthode",
                   "Commandes prévues", "Commandes passées", "AUC rachat", "BG/NBD + Gamma-Gamma (commandes attendues)",
                   "classement par récence (les plus récents d’abord)", "Ajusté sur les jours d’achat jusqu’au"):
        assert french in shown, french
    assert re.search(rf"jusqu’au \d{{1,2}} {MONTHS} 20\d\d \(exclu\)", shown)
    figure = by_id(layout, "pred-calibration").figure
    assert figure.layout.title.text.replace("<br>", " ").startswith("Calibration : commandes prévues et réelles")
    assert [trace.name for trace in figure.data] == ["Prévu", "Réel"]
    assert figure.layout.xaxis.title.text.startswith("Décile des commandes prévues")
    assert english_left(layout) == []


def test_campaign_results_and_verdicts_in_french():
    results = pd.DataFrame([
        {"metric": "bought", "label": "Share who bought", "unit": "points", "target_value": 31.25,
         "control_value": 28.0, "difference": 3.1, "ci_low": 0.8, "ci_high": 5.4, "p_value": 0.0081,
         "significant": True, "test": "Welch t-test stratified by segment, 95% CI"}])
    with use_language("fr"):
        table = campaign_view.results_table(results, "£")
        verdict = campaign_view.measured_text("Target bought more: +3.2 points [−0.4, +6.8]")
        waiting = campaign_view.measured_text("Waiting for data: no purchase recorded since 2011-10-01 yet.")
        warning = campaign_view.measured_text(
            "The control group (1,234 members) is too small to detect an uplift of 2 points in the share who "
            "bought: the smallest detectable at 80 % power is 3.4 points.")
    assert text(by_id(table, "result-bought"), "|") == "Part d’acheteurs|31,2\u00a0%|28,0\u00a0%|+3,10 points " \
        "[+0,80, +5,40]|0,008"
    assert by_id(table, "result-bought").children[0].title == "Test t de Welch stratifié par segment, IC à 95\u00a0%"
    assert verdict == "La cible a plus acheté\u00a0: +3,2 points [−0,4, +6,8]"
    assert waiting == "En attente de données\u00a0: aucun achat enregistré depuis le 1 oct. 2011."
    assert warning.startswith("Le groupe témoin (1\u202f234 membres)") and warning.endswith("est de 3,4 points.")


def test_campaign_pages_in_french(dash_app, private_audiences, monkeypatch):  # noqa: F811 (fixture)
    listing = page_module("/campaigns")
    with use_language("fr"):
        empty = listing.layout()
    assert "Aucune audience pour l’instant." in text(empty) and english_left(empty) == []
    configure(monkeypatch, ops_token=TOKEN)
    save(token=TOKEN)
    [saved] = private_audiences.audiences()
    with use_language("fr"):
        rows = listing.layout()
        detail = page_module("/campaigns/<audience_id>").layout(audience_id=saved["audience_id"])
    row = by_id(rows, f"campaign-row-{saved['audience_id']}")
    assert "Mesurée après la prochaine actualisation" in text(row) and "120 / 14" in text(row)
    facts = text(by_id(detail, "campaign-facts"), " ")
    assert "134 membres : 120 en cible (contactés), 14 en témoin" in facts.replace("\u00a0", " ")
    assert "Pas encore mesurée" in text(by_id(detail, "campaign-verdict"))
    assert "Télécharger la liste cible (CSV)" in text(detail)
    assert english_left(rows) == [] and english_left(detail) == []
