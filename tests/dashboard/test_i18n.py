"""French and English: catalogues, the language of a request, locale formats, the catalogue check."""

from __future__ import annotations

import importlib.util
import random
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from babel.messages.catalog import Catalog
from flask import Flask

from analytics.errors import ConfigError
from dashboard import i18n
from dashboard.components import format as fmt
from dashboard.components import ops_view, shell
from dashboard.i18n import _, use_language

ROOT = Path(__file__).resolve().parents[2]
NNBSP, NBSP = "\u202f", "\u00a0"  # CLDR French: narrow no-break space between thousands, no-break before £ and %


def _messages_script():
    spec = importlib.util.spec_from_file_location("messages_script", ROOT / "scripts" / "messages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- catalogues ---------------------------------------------------------------------------------------------

def test_languages_are_english_and_every_catalogue():
    assert i18n.LANGUAGES == ("en", "fr")


def test_messages_are_translated_in_french_and_kept_in_english():
    assert _("Operations") == "Operations"
    with use_language("fr"):
        assert _("Operations") == "Exploitation"
        assert _("Executive summary") == "Synthèse exécutive"
        assert _("not a message of the catalogue") == "not a message of the catalogue"
        assert i18n.ngettext("%(num)d day ago", "%(num)d days ago", 3) % {"num": 3} == "il y a 3 jours"
    assert _("Operations") == "Operations"  # the block ends, the language too


def test_unknown_language_falls_back_to_english():
    with use_language("xx"):
        assert i18n.current_language() == "en"


def test_every_message_of_the_code_has_a_french_translation():
    assert _messages_script().check() == 0


def test_the_check_lists_missing_empty_and_fuzzy_messages():
    template = Catalog()
    for message in ("Open", "Close", "Save", "Undo"):
        template.add(message)
    template.add(("%(num)d day", "%(num)d days"))
    french = Catalog(locale="fr")
    french.add("Open", "Ouvrir")
    french.add("Close", "")  # empty
    french.add("Save", "Enregistrer", flags=["fuzzy"])  # fuzzy: not used at run time
    french.add(("%(num)d day", "%(num)d days"), ("%(num)d jour", "", ""))  # one plural form empty
    # Undo: missing
    assert _messages_script().untranslated(template, french) == ["%(num)d day", "Close", "Save", "Undo"]


def test_check_language_names_the_key():
    assert i18n.check_language("fr") == "fr"
    with pytest.raises(ConfigError, match=r"'dashboard.language'.*\['en', 'fr'\]"):
        i18n.check_language("de")


def test_localised_scheme_texts():
    row = {"segment": "Can't Lose Them", "label_fr": "À ne pas perdre", "action": "Reactivate",
           "action_fr": "Réactiver", "tactic": "Personal campaign", "tactic_fr": ""}
    assert i18n.localised(row, "segment") == "Can't Lose Them"
    with use_language("fr"):
        assert i18n.localised(row, "segment") == "À ne pas perdre"
        assert i18n.localised(row, "action") == "Réactiver"
        assert i18n.localised(row, "tactic") == "Personal campaign"  # empty French text: the English one


# --- language of a request ----------------------------------------------------------------------------------

@pytest.fixture
def app() -> Flask:
    server = Flask("i18n-test")
    i18n.init_app(server, "en", cookie_path="/app/")

    @server.route("/page", methods=["GET", "POST"])
    @server.route("/_dash-update-component", methods=["POST"])
    def page() -> str:
        return i18n.current_language() + ":" + _("Operations")

    return server


def _get(app: Flask, url: str, **kwargs) -> tuple[str, object]:
    response = app.test_client().get(url, **kwargs)
    return response.get_data(as_text=True), response


def test_url_beats_cookie_beats_browser_beats_settings(app):
    client = app.test_client()
    assert client.get("/page").get_data(as_text=True) == "en:Operations"  # the settings' default
    assert client.get("/page", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}).get_data(
        as_text=True) == "fr:Exploitation"
    client.set_cookie("lang", "en")
    assert client.get("/page", headers={"Accept-Language": "fr"}).get_data(as_text=True) == "en:Operations"
    assert client.get("/page?lang=fr", headers={"Accept-Language": "en"}).get_data(as_text=True) == "fr:Exploitation"


def test_unknown_values_are_ignored(app):
    client = app.test_client()
    client.set_cookie("lang", "klingon")
    assert client.get("/page?lang=de", headers={"Accept-Language": "de"}).get_data(as_text=True) == "en:Operations"


def test_default_language_from_the_settings():
    server = Flask("i18n-default")
    i18n.init_app(server, "fr")
    server.add_url_rule("/", "page", lambda: i18n.current_language())
    assert server.test_client().get("/", headers={"Accept-Language": "de"}).get_data(as_text=True) == "fr"
    with pytest.raises(ConfigError):
        i18n.init_app(Flask("bad"), "de")


def test_a_url_language_is_remembered_in_a_cookie(app):
    response = app.test_client().get("/page?lang=fr")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=fr;")
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie and "Path=/app/" in cookie
    assert "Max-Age=31536000" in cookie
    assert "Set-Cookie" not in app.test_client().get("/page").headers  # nothing asked, nothing set
    assert {"Cookie", "Accept-Language"} <= set(response.vary)


def test_callbacks_take_the_language_of_the_page(app):
    client = app.test_client()
    routing = {"inputs": [{"id": "_pages_location", "property": "pathname", "value": "/ops"},
                          {"id": "_pages_location", "property": "search", "value": "?embed=1&lang=fr"}]}
    assert client.post("/_dash-update-component", json=routing).get_data(as_text=True) == "fr:Exploitation"
    other = {"inputs": [{"id": "ops-refresh", "property": "n_clicks", "value": 1}]}
    assert client.post("/_dash-update-component", json=other, headers={
        "Referer": "http://localhost/app/ops?lang=fr"}).get_data(as_text=True) == "fr:Exploitation"
    assert client.post("/_dash-update-component", json=other, headers={  # another site's page: not trusted
        "Referer": "http://elsewhere.example/app/ops?lang=fr"}).get_data(as_text=True) == "en:Operations"


# --- formats: English exactly as before, French from CLDR ----------------------------------------------------

def _old_money(value: float, currency: str = "£", decimals: int | None = None) -> str:
    decimals = (0 if abs(value) >= 1000 else 2) if decimals is None else decimals
    return f"{'-' if value < 0 else ''}{currency}{abs(value):,.{decimals}f}"


def test_english_numbers_are_byte_identical_to_the_previous_formats():
    rng = random.Random(17)
    values = [rng.uniform(-2e7, 2e7) for _ in range(2000)] + [rng.uniform(-2, 2) for _ in range(2000)]
    values += [2.675, 0.125, 1.005, -0.001, 999.995, 1000.0, 0.0, -0.0, 5288.63, 1e12 + 0.5]  # ties and edges
    for value in values:
        assert fmt.money(value) == _old_money(value), value
        assert fmt.money(value, "€", 2) == _old_money(value, "€", 2), value
        assert fmt.number(value) == f"{value:,.1f}", value
        assert fmt.number(value, 3) == f"{value:,.3f}", value
        assert fmt.count(value) == f"{int(round(value)):,}", value
        assert fmt.share(value / 1e4) == f"{100 * (value / 1e4):.1f} %", value


def test_english_dates_are_unchanged():
    assert fmt.day("2010-12-02") == "2 Dec 2010"
    assert fmt.day(pd.Timestamp("2011-09-09")) == "9 Sep 2011"  # CLDR 'en', not en_GB's 'Sept'
    assert fmt.moment(pd.Timestamp("2026-11-25 08:25", tz="Europe/Paris")) == "25 Nov 2026 07:25 UTC"
    assert fmt.moment("2011-12-09 12:50") == "9 Dec 2011 12:50"
    assert fmt.clock("2026-11-25T08:21:03Z") == "25 Nov 08:21:03"
    assert fmt.clock("2026-11-25T08:21:03Z", with_day=False) == "08:21:03"
    assert (fmt.duration(0.44), fmt.duration(12.4), fmt.duration(185)) == ("0.4 s", "12 s", "3 min 05 s")
    now = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
    assert [fmt.ago(now - pd.Timedelta(seconds=s), now) for s in (30, 300, 3 * 3600, 3 * 86400)] == [
        "just now", "5 min ago", "3 h ago", "3 days ago"]


def test_french_formats():
    now = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
    with use_language("fr"):
        assert fmt.money(8911408) == f"8{NNBSP}911{NNBSP}408{NBSP}£"
        assert fmt.money(5288.63, decimals=2) == f"5{NNBSP}288,63{NBSP}£"
        assert fmt.money(-480.87, "€") == f"-480,87{NBSP}€"
        assert fmt.count(4338) == f"4{NNBSP}338"
        assert fmt.number(3.25) == "3,2"  # 3.25 is exact in binary: the tie goes to even, as in English
        assert fmt.share(0.253) == f"25,3{NBSP}%"
        assert fmt.day("2026-12-03") == "3 déc. 2026"
        assert fmt.day("2011-07-14") == "14 juil. 2011"
        assert fmt.moment(pd.Timestamp("2026-11-25 07:25", tz="UTC")) == "25 nov. 2026 07:25 UTC"
        assert fmt.duration(0.44) == "0,4 s"
        assert fmt.ago(now - pd.Timedelta(days=1, hours=23), now) == "il y a 47 h"
        assert fmt.ago(now - pd.Timedelta(days=2), now) == "il y a 2 jours"


# --- the shell and /ops in French -----------------------------------------------------------------------------

def test_page_links_carry_the_language(in_flask):
    assert shell.page_href("/segments", {"segment": "Loyal", "embed": None, "lang": "fr"}) == \
        "/segments?segment=Loyal&lang=fr"
    with use_language("fr"):
        switch = shell.language_switch({"segment": "Loyal", "lang": "fr"}, "/segments")
    links = {item.id: item for item in switch.children if getattr(item, "id", None)}
    assert links["lang-en"].href == "/segments?segment=Loyal&lang=en"  # a link, same page and state
    assert links["lang-fr"].children == "FR" and not hasattr(links["lang-fr"], "href")  # the current one: no link
    assert links["lang-en"].title == "English" and links["lang-fr"].title == "Français"


def test_shell_texts_in_french(in_flask):
    manifest = {"period": {"start": "2010-12-01", "end": "2011-12-09"}, "created_at": "2026-11-25T07:25:00+00:00",
                "version": "v1"}
    with use_language("fr"):
        caption = shell.snapshot_caption(manifest)
        assert caption.children == ["Données du 1 déc. 2010 au 9 déc. 2011 · actualisées le 25 nov. 2026 07:25 UTC"]
        assert caption.title == "Version de l’instantané v1"
        assert shell.filter_chip({"segment": "Loyal"}, "/").children[0] == f"Segment{NBSP}: Loyal "
        assert shell.empty_state().children.children[0].children == "Pas encore de données"
        banner = shell.source_banner(datetime(2026, 12, 3, 9, 30, tzinfo=timezone.utc), "v1")
        assert banner.children == ("Source de données indisponible depuis le 3 déc. 2026 09:30 UTC — affichage du "
                                   "dernier instantané chargé (v1).")


def test_ops_texts_in_french(in_flask):
    now = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
    run = {"status": "failed", "trigger": "schedule", "started_at": "2026-12-03T11:00:00Z",
           "finished_at": "2026-12-03T11:00:12Z", "seconds": 12.0, "rows": {"input_lines": 541909, "customers": 4338}}
    with use_language("fr"):
        table = ops_view.history_table([run], now)
        head = [cell.children for cell in table.children[0].children.children]
        assert head == ["Début (UTC)", "Fin", "Durée", "Statut", "Déclencheur", "Version", "Lignes", "Message"]
        cells = table.children[1].children[0].children
        assert cells[3].children.children == "échec" and cells[4].children.children == "planifié"
        assert cells[6].children == f"541{NNBSP}909 lignes · 4{NNBSP}338 clients"
        assert ops_view.queued_message(True, 5.0).children.startswith(
            f"Actualisation en attente — le planificateur la lance d’ici 5{NBSP}s")


@pytest.fixture
def in_flask(monkeypatch) -> None:
    """Links without an app: the path as is (Dash adds the app's prefix)."""
    monkeypatch.setattr(shell, "get_relative_path", lambda path: path)
