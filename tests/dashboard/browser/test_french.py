"""The interface in French in a real browser: the shell and /ops render in French (no English left), the
language switch keeps the page and its state, the choice follows the user from page to page."""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from tests.dashboard.browser.conftest import severe_logs
from tests.dashboard.conftest import gunicorn

TOKEN = "french-browser-test-token-9c2e"
# English words of the translated parts: none may remain on a French page (whole words, any case: table headers
# are upper-cased by CSS).
ENGLISH = ["Operations", "Run history", "Refresh now", "Current snapshot", "Back to the dashboard", "Published",
           "Data period", "Input file", "Started", "Finished", "Duration", "Trigger", "success", "failed",
           "schedule", "ago", "customers", "lines", "Customer segments", "Executive summary", "Open",
           "Customer id", "refreshed", "Data", "Status", "Rows", "Campaigns", "Predictions", "Movement"]


@pytest.fixture(scope="module")
def french_server(ops_settings):
    """gunicorn with OPS_TOKEN on a private file store: one snapshot of 3,000 lines and one failed run."""
    settings = ops_settings
    with gunicorn({"STORE_URL": settings.store.url, "OPS_TOKEN": TOKEN}) as url:
        yield url


def _english_left(text: str) -> list[str]:
    return [word for word in ENGLISH if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text, re.IGNORECASE)]


def test_ops_page_in_french(dash_duo, french_server):
    dash_duo.server_url = french_server + "/ops?lang=fr"
    field = dash_duo.wait_for_element("#ops-token-input", timeout=20)
    assert dash_duo.find_element("#ops-unlock").text == "Déverrouiller"
    field.send_keys(TOKEN + "\n")
    dash_duo.wait_for_element("#ops-history-table", timeout=20)  # filled by a callback: French too
    dash_duo.wait_for_contains_text("#ops-rows", "lignes en entrée", timeout=10)
    body = dash_duo.find_element("body").text
    for french in ("Exploitation", "Historique des exécutions", "Instantané actuel", "Actualiser maintenant",
                   "Début (UTC)", "Déclencheur", "réussi", "échec", "planifié", "← Retour au tableau de bord",
                   "Synthèse exécutive", "Segments clients", "Période des données", "Planificateur",
                   "Qualité des recommandations", "Rapport de nettoyage de l’instantané actuel", "Signification"):
        assert french.casefold() in body.casefold(), french
    assert re.search(r"\d{1,2} (janv|févr|mars|avr|mai|juin|juil|août|sept|oct|nov|déc)\.? 20\d\d", body)
    recorded = [cell.text for cell in dash_duo.find_elements(".ops-error")]  # a run's error: as the job logged it
    assert any("Input file not found" in text for text in recorded)
    # the cleaning report's effects and explanations are the snapshot's (English) data, like a run's error
    recorded += [cell.text for cell in dash_duo.find_elements(
        "#ops-cleaning tbody td:nth-child(2), #ops-cleaning tbody td:nth-child(4)")]
    for text in sorted(recorded, key=len, reverse=True):  # whole sentences before single words
        body = body.replace(text, "")
    assert _english_left(body) == [], [line for line in body.splitlines() if _english_left(line)]
    assert dash_duo.driver.title == "Exploitation · Segments clients"
    assert dash_duo.find_element("html").get_attribute("lang") == "fr"
    assert severe_logs(dash_duo) == []


def test_language_switch_keeps_the_page_and_state_and_follows_the_user(dash_duo, french_server):
    dash_duo.server_url = french_server + "/actions?segment=Champions&lang=fr"
    dash_duo.wait_for_text_to_equal("#nav-home", "Synthèse exécutive", timeout=20)
    assert dash_duo.find_element("#snapshot-caption").text.startswith("Données du ")
    assert dash_duo.find_element("#filter-chip").text.startswith("Segment : Champions")  # (selenium: nbsp as space)
    english = dash_duo.find_element("#lang-en")
    assert english.get_attribute("href").endswith("/actions?segment=Champions&lang=en")
    english.click()
    dash_duo.wait_for_text_to_equal("#nav-home", "Executive summary", timeout=20)
    assert dash_duo.driver.current_url.endswith("/actions?segment=Champions&lang=en")
    assert dash_duo.find_element("#snapshot-caption").text.startswith("Data ")
    dash_duo.find_element("#lang-fr").click()  # back to French, then move to another page: still French
    dash_duo.wait_for_text_to_equal("#nav-home", "Synthèse exécutive", timeout=20)
    dash_duo.find_element("#nav-client").click()  # client-side navigation: the URL keeps lang
    WebDriverWait(dash_duo.driver, 20).until(lambda driver: "/client?segment=Champions&lang=fr" in driver.current_url)
    dash_duo.wait_for_text_to_equal("#nav-home", "Synthèse exécutive", timeout=20)
    assert severe_logs(dash_duo) == []


def test_the_cookie_remembers_the_choice_and_embedded_pages_honour_lang(dash_duo, french_server):
    dash_duo.server_url = french_server + "/?lang=fr"
    dash_duo.wait_for_text_to_equal("#nav-home", "Synthèse exécutive", timeout=20)
    dash_duo.server_url = french_server + "/client"  # no lang in the URL: the cookie set above
    dash_duo.wait_for_text_to_equal("#nav-home", "Synthèse exécutive", timeout=20)
    dash_duo.server_url = french_server + "/ops?embed=1&lang=en"  # embedded (no navbar), English asked
    dash_duo.wait_for_text_to_equal("#ops-back", "← Back to the dashboard", timeout=20)
    assert not dash_duo.find_elements("#language-switch")
    dash_duo.server_url = french_server + "/ops?embed=1&lang=fr"
    dash_duo.wait_for_text_to_equal("#ops-back", "← Retour au tableau de bord", timeout=20)
