"""assets/dashAgGridComponentFunctions.js run in node (no browser needed): the customer link renderer and the
grid-state-to-URL sync. Skipped when node is not installed; the browser tests cover the same in Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from analytics.settings import PROJECT_ROOT
from dashboard.components.grid_query import filter_from_query, sort_from_query

NODE = shutil.which("node")
HARNESS = Path(__file__).parent / "js" / "grid_assets_check.js"
ASSET = PROJECT_ROOT / "assets" / "dashAgGridComponentFunctions.js"

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


@pytest.fixture(scope="module")
def result() -> dict:
    done = subprocess.run([NODE, str(HARNESS), str(ASSET)], capture_output=True, text=True, timeout=30, check=True)
    return json.loads(done.stdout)


def test_customer_id_is_an_anchor_with_the_servers_href(result):
    assert result["link"] == {"tag": "a", "href": "/prefix/client/17850", "text": "17850"}
    assert result["noHref"] == "17850"  # no link without a server-made href


def test_plain_click_navigates_in_the_app_other_clicks_are_the_browsers(result):
    # one plain click handled like dcc.Link (pushState + Dash's event); middle and Ctrl+click left alone
    assert result["click"] == {"prevented": 1, "pushed": ["/prefix/client/17850"],
                               "events": ["_dashprivate_pushstate"]}
    assert result["enter"] == 1  # Enter on the focused cell follows the link; other keys do nothing


def test_grid_state_goes_to_the_url_and_reads_back_on_the_server(result):
    from dashboard.components.action_view import GRID_COLUMNS

    with_state, cleared = result["replaced"]
    assert urlsplit(with_state).path == "/prefix/actions"
    query = {k: v[0] for k, v in parse_qs(urlsplit(with_state).query).items()}
    assert query["view"] == "at-risk" and query["segment"] == "Loyal"  # the page's own state is kept
    assert filter_from_query(query["filter"], GRID_COLUMNS) == {"segment": {"filterType": "text",
                                                                            "type": "is:Loyal"}}
    assert sort_from_query(query["sort"], GRID_COLUMNS) == [{"colId": "monetary", "sort": "asc"},
                                                             {"colId": "customer_id", "sort": "desc"}]
    assert cleared == "/prefix/actions?view=at-risk&segment=Loyal"  # no filter, no sort: removed from the URL
    # (the columns' default sort, risk_score:desc, is not written either: the URL stays as it was, so 2 writes)
    assert result["syncNone"] == "NO_UPDATE"
    assert result["replacedElsewhere"] == 0  # once the user has left the list's page, its URL is left alone


def test_a_choice_options_predicate_is_the_exact_value(result):
    # choiceIs("Loyal") accepts "Loyal" only (not "Potential Loyalists", not "loyal"); quotes in a value work
    assert result["choice"] == [True, False, False, True]
