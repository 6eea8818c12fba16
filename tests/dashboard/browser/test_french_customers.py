"""The customer-level pages in French in a real browser (gunicorn on a private copy of the bundled snapshot, with
one back-dated campaign measured by a refresh): /cross-sell, a rule, a product, Client 360, /campaigns and a
campaign, /predictions with ?lang=fr render French texts, French chart titles, axes and legends (plotly SVG),
French money and dates, and no English interface word."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import date

import pytest
from dash.testing.wait import until

from analytics.settings import load_settings
from jobs import audiences
from jobs.refresh import run
from jobs.store import open_store
from tests.dashboard.browser.conftest import severe_logs
from tests.dashboard.conftest import gunicorn

# English words of these pages' interface (whole words, any case: table headers are upper-cased by CSS). Words
# spelt the same in French (Lift, Support, Audience, Segment, Source, Date, Total, Code, Conviction, Score,
# Champions) cannot be told apart and are not listed.
ENGLISH = ["Rules", "rule", "Confidence", "Baskets", "basket", "Window", "Export", "Customers", "customer",
           "Buyers", "Revenue", "Recency", "Frequency", "Monetary", "Purchase history", "Recommended", "Usual",
           "Churn", "Members", "Target", "Control", "Predicted", "Actual", "Method", "Backtest against", "Decile",
           "Invoice", "Quantity", "Orders", "Product", "Reset filters", "Leverage", "Redundant", "antecedent",
           "consequent", "days", "priority", "What to do", "Bought with", "Popular in", "Measured", "campaign",
           "Created", "predictions", "Not at risk", "At risk", "Net value", "Show", "Open",
           "Find", "highest", "Every", "Split", "Why", "Expected", "Next order", "holdout", "customers", "Loyal",
           "Hibernating", "Click", "Share", "bought", "ago", "Download", "Day", "Difference", "Minimum",
           "Strongest", "Must", "anywhere", "Cross-sell", "Campaigns", "Predictions", "Movement"]
SPACE = "[\u00a0\u202f ]"  # French digit groups and units (selenium reads a non-breaking space as a space)
MONEY = rf"\d{{1,3}}(?:{SPACE}\d{{3}})*(?:,\d\d)?{SPACE}£"
DAY = r"\d{1,2} (janv|févr|mars|avr|mai|juin|juil|août|sept|oct|nov|déc)\.? 20\d\d"
PLOT_TEXT = ".gtitle, .xtitle, .ytitle, .legendtext, .cbtitle"
FIRST_RULE = '.ag-center-cols-container .ag-row[row-index="0"] .ag-cell[col-id="antecedent"]'
# data shown as it is, in its own language: product names and codes, customers' countries, audience names
DATA = (".product-link, .client-product, .ag-cell[col-id='antecedent'], .ag-cell[col-id='consequent'], "
        "#product-title, #client-country, .client-lines td:first-child, .campaign-link, #campaign-title")


@pytest.fixture(scope="module")
def french_settings(published_store, tmp_path_factory):
    """A private copy of the bundled snapshot with one audience (the at-risk list, 30 % held out, purchases
    counted from 1 Oct 2011), measured by a refresh."""
    target = tmp_path_factory.mktemp("french-customers") / "store"
    shutil.copytree(published_store.removeprefix("file://"), target)
    base = load_settings({})
    settings = replace(base, store=replace(base.store, url=f"file://{target}"))
    store = open_store(settings.store)
    customers, version = audiences.snapshot_table(store, "customers")
    members, source = audiences.members_from(customers, named_list="at-risk")
    audiences.create(store, settings, members, name="Relance", note=None, control_share=0.3, created_by="test",
                     source=source, snapshot_version=version, as_of=date(2011, 10, 1))
    run(settings)
    return settings


@pytest.fixture(scope="module")
def french_server(french_settings):
    with gunicorn({"STORE_URL": french_settings.store.url}) as url:
        yield url


@pytest.fixture(scope="module")
def customer(french_settings) -> str:
    """An at-risk customer with returns and rule-based recommendations."""
    store = open_store(french_settings.store)
    customers = audiences.snapshot_table(store, "customers")[0]
    recommendations = audiences.snapshot_table(store, "recommendations")[0]
    with_rules = set(recommendations.loc[recommendations["source"] == "rule", "customer_id"])
    chosen = customers[customers["at_risk"] & (customers["returns_count"] > 0)
                       & customers["customer_id"].isin(with_rules)]
    return str(chosen.sort_values("customer_id")["customer_id"].iloc[0])


def english_left(dash_duo) -> list[str]:
    """English words of :data:`ENGLISH` on the page, data (:data:`DATA`) left out; each with its line."""
    body = dash_duo.find_element("body").text
    for text in sorted((e.text for e in dash_duo.find_elements(DATA) if e.text), key=len, reverse=True):
        body = body.replace(text, "")
    found = []
    for word in ENGLISH:
        pattern = rf"(?<![\w-]){re.escape(word)}(?![\w-])"
        found += [f"{word}: {line}" for line in body.splitlines() if re.search(pattern, line, re.IGNORECASE)]
    return found


def plot_texts(dash_duo, graph: str) -> tuple[str, set[str]]:
    """The title of a plotly graph, and the texts of its title, axis titles, legend and colour bar (SVG)."""
    texts = {e.text for e in dash_duo.find_elements(f"{graph} " + PLOT_TEXT.replace(", ", f", {graph} ")) if e.text}
    title = dash_duo.driver.execute_script(  # a title wrapped for phones: its lines (tspans) joined by a space
        "const title = document.querySelector(arguments[0]); const lines = title.querySelectorAll('tspan.line');"
        "return lines.length ? Array.from(lines).map(line => line.textContent).join(' ') : title.textContent;",
        f"{graph} .gtitle")
    return title, texts


def assert_french(dash_duo) -> None:
    assert dash_duo.find_element("html").get_attribute("lang") == "fr"
    left = english_left(dash_duo)
    assert left == [], left
    assert severe_logs(dash_duo) == []


def test_cross_sell_explorer_and_a_rule_in_french(dash_duo, french_server):
    dash_duo.server_url = f"{french_server}/cross-sell?lang=fr"
    dash_duo.wait_for_contains_text("#cs-count", " règles", timeout=30)
    dash_duo.wait_for_element(FIRST_RULE, timeout=20)
    dash_duo.wait_for_element("#cs-scatter .gtitle", timeout=20)
    assert re.fullmatch(rf"(\d|{SPACE})+ sur (\d|{SPACE})+ règles", dash_duo.find_element("#cs-count").text)
    body = dash_duo.find_element("body").text
    for french in ("Support minimal", "Confiance minimale", "Lift minimal", "Doit contenir", "Ne doit pas contenir",
                   "Règles les plus fortes", "Réinitialiser les filtres", "Exporter en CSV", "Ventes croisées",
                   "Masquer les règles redondantes"):
        assert french.casefold() in body.casefold(), french
    headers = [e.text for e in dash_duo.find_elements(".ag-header-cell-text") if e.text]
    assert headers[:4] == ["Si un panier contient…", "…il contient souvent aussi", "Support", "Confiance"]
    title, texts = plot_texts(dash_duo, "#cs-scatter")
    assert title.startswith("Support × confiance, couleur selon le lift")
    assert {"Support (% des paniers, échelle log)", "Confiance (%)", "Lift"} <= texts
    assert dash_duo.driver.title == "Ventes croisées · Segments clients"
    assert_french(dash_duo)

    dash_duo.find_element(FIRST_RULE).click()  # the rule page keeps the language
    until(lambda: "/cross-sell/rule/" in dash_duo.driver.current_url, timeout=15)
    dash_duo.wait_for_contains_text("#rule-words", "Achetés ensemble dans", timeout=20)
    words = dash_duo.find_element("#rule-words").text
    assert "(confiance)" in words and "(lift)" in words
    count = dash_duo.find_element("#rule-audience-count").text
    assert re.search(rf"clients? ont acheté l’antécédent mais jamais .* valeur nette cumulée {MONEY}", count)
    table = dash_duo.find_element("#rule-audience").text
    assert "DERNIER ACHAT" in table.upper() and re.search(DAY, table)
    assert dash_duo.find_element("#rule-back").text == "← Toutes les règles"
    assert dash_duo.driver.title == "Règle de vente croisée · Segments clients"
    # the antecedent's product names are data: left out of the English check with the rule's sentences
    for element in dash_duo.find_elements("#rule-words li"):
        assert element.text
    assert_french(dash_duo)


def test_product_page_in_french(dash_duo, french_server):
    dash_duo.server_url = f"{french_server}/products/22697?lang=fr"
    dash_duo.wait_for_element("#product-monthly .gtitle", timeout=20)
    dash_duo.wait_for_element("#product-segments .gtitle", timeout=20)
    assert re.fullmatch(MONEY, dash_duo.find_element("#product-revenue").text)
    body = dash_duo.find_element("body").text
    for french in ("Chiffre d’affaires", "Acheteurs", "Paniers", "Unités vendues", "Recommandé à",
                   "Les clients qui l’achètent achètent aussi", "Acheté après ces produits", "Règle →"):
        assert french in body, french
    title, texts = plot_texts(dash_duo, "#product-monthly")
    assert title == "Chiffre d’affaires et acheteurs par mois" and {"Chiffre d’affaires (£)", "Acheteurs"} <= texts
    title, texts = plot_texts(dash_duo, "#product-segments")
    assert title == "Acheteurs par segment" and "Acheteurs" in texts
    assert dash_duo.driver.title == "Produit 22697 · Segments clients"
    assert_french(dash_duo)


def test_client_360_in_french(dash_duo, french_server, customer):
    dash_duo.server_url = f"{french_server}/client/{customer}?lang=fr"
    dash_duo.wait_for_text_to_equal("#client-title", customer, timeout=20)
    body = dash_duo.find_element("body").text
    for french in ("Que faire", "Risque d’attrition", "À risque", "Récence", "Fréquence", "Montant",
                   "Panier moyen", "Premier achat", "Historique d’achats", "Produits habituels",
                   "Produits recommandés", "Valeur prévue", "Commandes attendues, 90 prochains jours",
                   "Pourquoi à risque :", "Acheté avec", "Qualité des prévisions →"):
        assert french.casefold() in body.casefold(), french  # labels are upper-cased by CSS
    assert re.fullmatch(rf"(\d|{SPACE})+ factures? · (\d|{SPACE})+ retours?",
                        dash_duo.find_element("#client-history-summary").text)
    assert dash_duo.find_elements(".client-order-return .client-return-badge")[0].text.upper() == "RETOUR"
    assert re.fullmatch(MONEY, dash_duo.find_element("#client-net").text)
    assert re.fullmatch(DAY, dash_duo.find_element("#client-first").text)
    assert dash_duo.find_element("#client-recency").text.endswith(" jours")
    assert re.search(r"commande habituellement tous les \d+ jours|une seule commande",
                     dash_duo.find_element("#client-pred-reason").text)
    assert dash_duo.driver.title == f"Client {customer} · Segments clients"
    assert_french(dash_duo)


def test_campaigns_in_french(dash_duo, french_server, french_settings):
    [saved] = open_store(french_settings.store).audiences()
    dash_duo.server_url = f"{french_server}/campaigns?lang=fr"
    row = dash_duo.wait_for_element(f"#campaign-row-{saved['audience_id']}", timeout=20)
    assert "Relance" in row.text and "à une date passée" in row.text
    body = dash_duo.find_element("body").text
    for french in ("Campagnes", "Audience", "Créée", "Achats comptés à partir du", "Membres", "groupe témoin"):
        assert french.casefold() in body.casefold(), french
    assert re.search(DAY, row.text) and ("il y a" in row.text or "à l’instant" in row.text)  # created seconds ago
    assert dash_duo.driver.title == "Campagnes · Segments clients"
    assert_french(dash_duo)

    dash_duo.find_element(".campaign-link").click()
    dash_duo.wait_for_element("#campaign-daily-graph .gtitle", timeout=20)
    verdict = dash_duo.find_element("#campaign-verdict").text
    assert re.search(r"(Pas encore assez de preuves|La cible a (plus|moins) acheté) : [+−]\d+,\d points", verdict)
    assert re.search(rf"achats jusqu’au {DAY} \(\d+ jours\)", verdict)
    results = dash_duo.find_element("#campaign-results").text
    assert "Part d’acheteurs" in results and "Commandes par membre" in results and re.search(r"\d,\d\d", results)
    title, texts = plot_texts(dash_duo, "#campaign-daily-graph")
    assert title.startswith("Part d’acheteurs depuis la date de")
    assert {"Cible", "Témoin", "Jour", "Membres ayant acheté (%)"} <= texts
    assert "Télécharger la liste cible (CSV)" in dash_duo.find_element("body").text
    assert dash_duo.driver.title == "Campagne · Segments clients"
    assert_french(dash_duo)


def test_predictions_in_french(dash_duo, french_server):
    dash_duo.server_url = f"{french_server}/predictions?lang=fr"
    dash_duo.wait_for_element("#pred-calibration .gtitle", timeout=20)
    body = dash_duo.find_element("body").text
    for french in ("Quelle est la qualité des prévisions", "Backtest face à des références naïves", "Méthode",
                   "Commandes prévues", "AUC rachat", "BG/NBD + Gamma-Gamma (commandes attendues)",
                   "La liste des clients à risque est donc triée par défaut"):
        assert french.casefold() in body.casefold(), french
    assert re.search(rf"jusqu’au {DAY} \(exclu\)", dash_duo.find_element("#pred-scope").text)
    assert re.search(MONEY, dash_duo.find_element("#pred-backtest-table").text)
    title, texts = plot_texts(dash_duo, "#pred-calibration")
    assert title.startswith("Calibration : commandes prévues et réelles")
    assert {"Prévu", "Réel", "Commandes par client sur la période de test"} <= texts
    assert dash_duo.driver.title == "Prévisions · Segments clients"
    assert_french(dash_duo)
