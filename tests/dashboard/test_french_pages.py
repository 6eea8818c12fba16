"""The analysis pages (Executive summary, Segments, Movement, Actions) rendered in French on the bundled snapshot:
French headings, KPI labels and definitions, chart texts, grid headers and scheme texts, no English left; the
segment ids in links stay English."""

from __future__ import annotations

import re

import pytest

from dashboard.i18n import use_language
from tests.dashboard.components import by_id, fetched, page_module, text, walk

# English words of these pages' own texts: none may remain on a French page (whole words, any case).
ENGLISH = ["Executive summary", "Gross sales", "Returns", "Net revenue", "Guest sales", "Active customers",
           "Average", "customers", "customer", "revenue", "at risk", "at stake", "Share", "Monthly", "priority",
           "Overview", "Recency", "Frequency", "Monetary", "See", "Mean", "High", "Medium", "Low", "Critical",
           "orders", "days", "Click", "Period", "moved", "What", "Best", "Cumulative", "partial", "the", "and",
           "of", "to", "from", "with", "per", "by", "between", "upgraded", "downgraded", "lapsed", "new", "Export",
           "Create audience", "Matrix", "Priority", "Tactic", "Top products", "Scheme", "Loyal", "Lose", "Sleep",
           "Hibernating", "Need Attention", "Promising", "Reward", "Upsell", "Reactivate", "Win back", "Expected",
           "Chance", "Next", "Last purchase", "Why", "All", "Net value", "Measure", "To", "From"]


def english_left(words: str) -> list[str]:
    """The words of :data:`ENGLISH` found in ``words`` (whole words, any case)."""
    return [word for word in ENGLISH if re.search(rf"(?<![\w.-]){re.escape(word)}(?![\w-])", words, re.IGNORECASE)]


def assert_french(words: str) -> None:
    """No word of :data:`ENGLISH` in ``words``; the failure shows each one in its context."""
    found = english_left(words)
    contexts = [re.search(rf".{{0,60}}(?<![\w.-]){re.escape(word)}(?![\w-]).{{0,60}}", words, re.IGNORECASE | re.S)
                for word in found]
    assert found == [], [match.group(0) for match in contexts if match]


def figure_texts(tree: object) -> str:
    """Every text of the plotly figures of a tree: titles, axis titles, trace names, hover templates, annotations,
    category labels (plotly's own tokens such as ``%{x}`` removed)."""
    texts: list[str] = []
    for component in walk(tree):
        figure = getattr(component, "figure", None)
        if figure is None:
            continue
        layout = figure.layout
        texts += [layout.title.text or "", layout.title.subtitle.text or ""]
        texts += [axis.title.text or "" for axis in (layout.xaxis, layout.yaxis)]
        texts += [note.text or "" for note in layout.annotations]
        for trace in figure.data:
            texts += [str(getattr(trace, "name", "") or ""), str(getattr(trace, "hovertemplate", "") or "")]
            for key in ("y", "theta", "text"):
                values = getattr(trace, key, None)
                if values is not None and len(values) and isinstance(values[0], str):
                    texts += list(values)
            node = getattr(trace, "node", None)
            if node is not None and node.label is not None:
                texts += list(node.label) + [str(node.hovertemplate or "")]
            link = getattr(trace, "link", None)
            if link is not None:
                texts.append(str(link.hovertemplate or ""))
    return re.sub(r"%\{[^}]*\}|<[^>]+>", " ", " ".join(texts))


def tooltips(tree: object) -> str:
    """The hover texts of a tree: KPI definitions (tooltips) and ``title`` attributes."""
    found = [text(c) for c in walk(tree) if type(c).__name__ == "Tooltip"]
    found += [str(getattr(c, "title", "") or "") for c in walk(tree) if isinstance(getattr(c, "title", None), str)]
    return " ".join(found)


@pytest.fixture
def french(in_request):
    with use_language("fr"):
        yield


def test_executive_summary_in_french(dash_app, french):
    tree = page_module("/").layout()
    body = text(tree, " ")
    for words in ("Synthèse exécutive", "Ventes brutes", "Retours", "Chiffre d’affaires net", "Clients actifs",
                  "Panier moyen", "Valeur client moyenne", "des clients font 80", "Voir la liste et que faire"):
        assert words in body, words
    assert re.search(r"8\s911\s408\s£", by_id(tree, "kpi-revenue").children)  # French money format
    assert by_id(tree, "pareto-share").children.replace("\u202f", " ").replace("\xa0", " ") == "27,2 %"
    assert "Clients ayant acheté dans les 90 derniers jours" in tooltips(tree)  # a KPI definition
    charts = figure_texts(tree)
    assert "Courbe de Pareto" in charts and "Ventes brutes et retours par mois" in charts
    assert "Clients fidèles" in charts  # segment names of the share chart: the scheme's French labels
    assert_french(body)
    assert_french(charts)
    assert_french(tooltips(tree))


def test_executive_summary_of_a_segment_in_french(dash_app, french):
    tree = page_module("/").layout(segment="Loyal")
    body = text(tree, " ")
    assert "Synthèse exécutive — Clients fidèles" in body
    assert_french(body)
    assert_french(figure_texts(tree))


def test_segments_overview_and_segment_in_french(dash_app, french):
    page = page_module("/segments")
    overview = page.layout()
    body = text(overview, " ")
    assert "Vue d’ensemble" in body and "Clients fidèles" in body and "les plus urgents d’abord" in body
    assert "Ce que signifie chaque score" in body
    assert_french(body)
    assert_french(figure_texts(overview))
    assert by_id(overview, "segment-card-loyal").href.endswith("segment=Loyal")  # ids: English
    tree = page.layout(segment="Loyal", lang="fr")
    assert text(by_id(tree, "segment-title")) == "Clients fidèles"
    assert by_id(tree, "segment-action").children == "Monter en gamme"  # the scheme's action_fr
    products = by_id(tree, "segment-products")
    names = [text(cell) for cell in walk(products) if type(cell).__name__ == "Td"]
    body = text(tree, " ")
    for name in sorted(names, key=len, reverse=True):  # product descriptions are data (English)
        body = body.replace(name, "")
    assert "Panier moyen" in body and "Action recommandée" in body and "Meilleurs produits du segment" in body
    charts = figure_texts(tree)
    assert "Profil RFM" in charts and "Récence (R)" in charts and "Tous les clients" in charts
    assert_french(body)
    assert_french(charts)
    assert_french(tooltips(tree))


def test_movement_in_french(dash_app, french):
    page = page_module("/movement")
    tree = page.layout(list="downgrades")
    body = text(tree, " ")
    for words in ("Mouvements entre segments", "Matrice de transition", "Baisses de clients haute valeur",
                  "en hausse", "devenus inactifs", "Exporter en CSV", "CSV, en-têtes en français", "Mesure"):
        assert words in body, words
    assert re.search(r"10 nov\. 2011", body)  # the window's dates, French style
    charts = figure_texts(tree)
    assert "Clients passant du 10 nov. 2011" in charts and "Clients fidèles" in charts
    assert_french(body)
    assert_french(charts)
    assert_french(tooltips(tree))
    grid = by_id(tree, "movement-grid")
    assert [c["headerName"] for c in grid.columnDefs][:4] == ["Client", "Segment de départ", "Segment d’arrivée",
                                                              "Mouvements"]
    scope = by_id(tree, "movement-scope").data
    response, count = page.get_rows({"startRow": 0, "endRow": 25}, by_id(tree, "page-version").data, scope)
    assert {row["from_segment"] for row in response["rowData"]} <= {"Champions", "Clients fidèles"}
    assert {row["movement"] for row in response["rowData"]} == {"baisse"}
    assert re.fullmatch(r"\d+ clients", count.replace("\u202f", " "))


def test_actions_in_french(dash_app, french):
    page = page_module("/actions")
    tree = page.layout(segment="Can't Lose Them")
    body = text(tree, " ")
    for words in ("Actions — À ne pas perdre", "Matrice des actions prioritaires", "Réactiver",
                  "Campagne de réengagement personnalisée", "Clients haute valeur à risque — À ne pas perdre",
                  "Créer une audience", "Exporter en CSV", "À risque seulement", "par an en jeu"):
        assert words in body, words
    assert_french(body)
    assert_french(tooltips(tree))
    grid = by_id(tree, "at-risk-grid")
    headers = " ".join(c["headerName"] + " " + c.get("headerTooltip", "") for c in grid.columnDefs)
    assert "Score de risque" in headers and "Dernier achat" in headers
    assert_french(headers)
    assert grid.dashGridOptions["localeText"]["page"] == "Page" and grid.dashGridOptions["localeText"]["of"] == "sur"
    segment_filter = next(c for c in grid.columnDefs if c["colId"] == "segment")["filterParams"]["filterOptions"]
    assert {(option["displayKey"], option["displayName"]) for option in segment_filter[1:]} >= {
        ("is:Loyal", "Clients fidèles"), ("is:Can't Lose Them", "À ne pas perdre")}  # values: ids; shown: names
    version = by_id(tree, "page-version").data
    response, count = page.get_rows({"startRow": 0, "endRow": 25}, version, by_id(tree, "actions-scope").data)
    first = response["rowData"][0]
    assert first["segment"] == "À ne pas perdre" and first["action"] == "Réactiver"
    assert "segment=Can%27t+Lose+Them" in first["href"] and "segment_id" not in first  # the id stays English
    reasons = [row["risk_reason"] for row in response["rowData"]]  # written in English by the refresh
    assert all(re.search(r"aucune depuis \d+ jours", reason) for reason in reasons), reasons[:3]
    assert not any("none for" in reason or "usually orders" in reason for reason in reasons)
    assert re.fullmatch(r"\d+ clients", count.replace("\u202f", " "))


def _headers(download: dict) -> list[str]:
    return download["content"].lstrip("\ufeff").split("\r\n", 1)[0].split(",")


def test_exports_keep_the_contract_and_offer_readable_headers(dash_app, french):
    from analytics.campaign_columns import CAMPAIGN_COLUMNS

    page = page_module("/actions")
    version = by_id(page.layout(), "page-version").data
    scope, grid = {"segment": "Champions", "view": "all"}, {"startRow": 0, "endRow": 25}
    contract, readable = (fetched(href) for href in page.export_links(grid, version, scope))
    assert _headers(contract) == list(CAMPAIGN_COLUMNS)  # a French page still exports the English names
    headers = _headers(readable)
    assert headers[:3] == ["N° client", "Pays", "Segment"] and "Code produit 1" in headers
    assert len(headers) == len(CAMPAIGN_COLUMNS)
    assert contract["content"].split("\r\n", 1)[1] == readable["content"].split("\r\n", 1)[1]  # same rows
    movement = page_module("/movement")
    scope = by_id(movement.layout(), "movement-scope").data | {"list": "downgrades"}
    download = fetched(movement.export_links({}, version, scope)[1])
    assert _headers(download)[:3] == ["N° client", "Pays", "Segment"]
