"""The analysis pages (Executive summary, Segments, Movement, Actions) in French in a real browser, served by
gunicorn on the bundled snapshot: French texts in the page and in the charts' SVG, French money and dates,
``<html lang="fr">``, no English word left (data such as product names and risk reasons aside), and a navbar that
still fits one line at desktop width."""

from __future__ import annotations

import re

import pytest

from tests.dashboard.browser.conftest import severe_logs
from tests.dashboard.test_french_pages import english_left

# plotly's SVG texts: titles, axis titles, tick labels, legend, annotations, Sankey nodes
SVG_TEXTS = ("return Array.from(document.querySelectorAll('.gtitle, .g-gtitle text, .xtitle, .ytitle, .legendtext, "
             ".annotation-text, .xtick text, .ytick text, .sankey-node text, .angularaxistick text'))"
             ".map(e => e.textContent).join(' | ')")
PAGES = [
    ("/", "#monthly-graph .gtitle", ["Synthèse exécutive", "Ventes brutes", "Chiffre d’affaires net", "Panier moyen",
                                     "Clients actifs", "Voir la liste et que faire"],
     ["Courbe de Pareto", "Ventes brutes et retours par mois", "Clients fidèles"]),
    ("/segments", "#segment-comparison-graph .gtitle", ["Vue d’ensemble", "les plus urgents d’abord",
                                                        "Ce que signifie chaque score", "À ne pas perdre"],
     ["Chiffre d’affaires et clients par segment", "Part des clients (%)", "Taille des segments"]),
    ("/segments?segment=Loyal", "#segment-radar .gtitle", ["Clients fidèles", "Action recommandée", "Monter en gamme",
                                                          "Meilleurs produits du segment", "Récence moyenne"],
     ["Profil RFM", "Récence (R)", "Tous les clients"]),
    ("/movement", "#movement-sankey .sankey-node", ["Mouvements entre segments", "Matrice de transition",
                                                    "en hausse", "Baisses de clients haute valeur", "10 nov. 2011"],
     ["Clients passant du 10 nov. 2011", "Clients fidèles", "À ne pas perdre"]),
    ("/actions", '.at-risk-grid .ag-row[row-index="0"]', ["Matrice des actions prioritaires", "Réactiver",
                                                         "Clients haute valeur à risque", "Score de risque",
                                                         "Exporter en CSV", "Créer une audience"], []),
]


def _strip_data(dash_duo, body: str) -> str:
    """The page text without what is data: product names (segment's top products)."""
    data = [e.text for e in dash_duo.find_elements('#segment-products tbody td:nth-child(2)')]
    for text in sorted(filter(None, data), key=len, reverse=True):
        body = body.replace(text, "")
    return body


@pytest.mark.parametrize(("path", "ready", "texts", "chart_texts"), PAGES, ids=[page[0] for page in PAGES])
def test_analysis_page_in_french(dash_duo, live_server, path, ready, texts, chart_texts):
    dash_duo.server_url = live_server + path + ("&" if "?" in path else "?") + "lang=fr"
    dash_duo.wait_for_element(ready, timeout=30)
    dash_duo.wait_for_text_to_equal("#nav-home", "Synthèse exécutive", timeout=20)
    assert dash_duo.find_element("html").get_attribute("lang") == "fr"
    body = dash_duo.find_element("body").text
    for text in texts:  # any case: KPI labels and table headers are upper-cased by CSS
        assert text.casefold() in body.casefold(), text
    svg = dash_duo.driver.execute_script(SVG_TEXTS)
    for text in chart_texts:  # (a title's lines, tspans, are joined without a space: compare without spaces)
        assert re.sub(r"\s", "", text) in re.sub(r"\s", "", svg), text
    left = english_left(_strip_data(dash_duo, body)) + english_left(svg)
    assert left == [], [line for line in (body + "\n" + svg).splitlines() if english_left(line)]
    assert severe_logs(dash_duo) == []


def test_french_formats_on_the_executive_summary(dash_duo, live_server):
    dash_duo.server_url = live_server + "/?lang=fr"
    dash_duo.wait_for_element("#monthly-graph .gtitle", timeout=30)
    assert re.fullmatch(r"8\s911\s408\s£", dash_duo.find_element("#kpi-revenue").text)
    assert re.fullmatch(r"27,2\s%", dash_duo.find_element("#pareto-share").text)
    ticks = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#monthly-graph .xtick text')).map(e => e.textContent)")
    assert any(re.match(r"(janv|févr|mars|avr|mai|juin|juil|août|sept|oct|nov|déc)\.? 2011", t) for t in ticks), ticks
    assert dash_duo.driver.title == "Synthèse exécutive · Segments clients"


def test_actions_grid_in_french(dash_duo, live_server):
    dash_duo.server_url = live_server + "/actions?segment=Can%27t+Lose+Them&lang=fr"
    dash_duo.wait_for_element('.at-risk-grid .ag-row[row-index="0"]', timeout=30)
    headers = [e.text for e in dash_duo.find_elements(".at-risk-grid .ag-header-cell-text")]
    assert "Client" in headers and "Score de risque" in headers and "Dernier achat" in headers
    dash_duo.wait_for_contains_text(".at-risk-grid .ag-paging-row-summary-panel", " sur ", timeout=15)
    segment = dash_duo.find_element('.at-risk-grid .ag-row[row-index="0"] .ag-cell[col-id="segment"]').text
    assert segment == "À ne pas perdre"
    dates = dash_duo.find_element('.at-risk-grid .ag-row[row-index="0"] .ag-cell[col-id="last_purchase"]').text
    assert re.fullmatch(r"\d{1,2} \w+\.? 20\d\d", dates)
    assert dash_duo.find_element("#filter-chip").text.startswith("Segment : À ne pas perdre")
    assert dash_duo.find_element("#export-csv-local").text == "CSV, en-têtes en français"


def test_the_navbar_fits_one_line_at_desktop_width_in_french_as_in_english(dash_duo, live_server):
    dash_duo.driver.set_window_size(1400, 1000)
    heights = {}
    for lang in ("en", "fr"):
        dash_duo.server_url = f"{live_server}/movement?lang={lang}"
        dash_duo.wait_for_element("#movement-sankey .sankey-node", timeout=30)
        dash_duo.wait_for_element(f"#lang-{lang}[aria-current]", timeout=10)
        links = dash_duo.find_elements(".app-navbar .nav-link")
        assert len(links) >= 8
        tops = {round(link.location["y"]) for link in links}
        assert len(tops) == 1, (lang, tops)  # every page link on one line
        heights[lang] = dash_duo.driver.execute_script("return document.querySelector('.app-navbar').offsetHeight")
    assert heights["fr"] == heights["en"], heights  # the longer French names do not wrap the bar
