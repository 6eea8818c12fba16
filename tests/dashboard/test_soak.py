"""Soak (reliability acceptance test 7, short): a refresh every 2 s while readers load pages from gunicorn.

Every page load must answer and be built from the one snapshot version it pinned; the checker itself
is shown to catch a page that does not match its version.
"""

from __future__ import annotations

import dataclasses

import pytest

from bench.soak import Expectations, check_page, prepare_inputs, run_soak
from bench.web_client import PAGES, DashClient, page_path


@pytest.fixture(scope="module")
def soak_inputs(tmp_path_factory, bundled_path):
    """Two inputs of different sizes (first 200,000 and 100,000 bundled lines): distinguishable versions."""
    return prepare_inputs(cut_lines=100_000, large_lines=200_000, directory=tmp_path_factory.mktemp("soak-inputs"),
                          source=bundled_path)


def test_refresh_every_2s_while_2_readers_load_pages_gives_one_version_per_page(redis_url, soak_inputs):
    result = run_soak(redis_url, soak_inputs, seconds=30, every=2, readers=2, log_name="test-soak")

    assert result["errors"] == 0, result["error_examples"]
    assert result["mixes"] == 0, result["mix_examples"]
    assert result["refreshes"]["failed"] == 0, result["refreshes"]["failures"]
    assert result["refreshes"]["published"] >= 3
    assert result["versions_seen"] >= 2  # the readers really crossed refreshes
    assert set(result["by_page"]) == {"executive", "actions", "client"}
    assert min(result["by_page"].values()) >= 5
    assert result["pass"]


@pytest.fixture(scope="module")
def bundled_loads(live_server, published_store):
    """The three checked pages loaded once from the bundled snapshot, with that version's expectations."""
    expectations = Expectations(published_store)
    client = DashClient(live_server)
    customer = "12347"
    loads = {page: client.load_page(page_path(page, customer), PAGES[page][1])
             for page in ("executive", "actions", "client")}
    expected = expectations.get(loads["executive"].version)
    yield loads, expected, customer
    client.close()
    expectations.close()


def test_checker_accepts_pages_built_from_their_version(bundled_loads):
    loads, expected, customer = bundled_loads

    assert expected.customers_rows == 4338
    assert len(expected.at_risk_ids) == loads["actions"].grid_response["rowCount"]
    for page, load in loads.items():
        assert load.version == expected.version
        assert check_page(page, load, expected, customer) == []


def test_checker_catches_figures_of_another_version(bundled_loads):
    loads, expected, customer = bundled_loads
    other = dataclasses.replace(
        expected, customers_rows=expected.customers_rows + 1,
        kpis={**expected.kpis, "customers": expected.kpis["customers"] + 1, "revenue": expected.kpis["revenue"] + 1000},
        at_risk_ids=frozenset(sorted(expected.at_risk_ids)[1:]),
        monetary={**expected.monetary, customer: expected.monetary[customer] + 1},
        invoices={**expected.invoices, customer: expected.invoices[customer] + 1})

    problems = {page: check_page(page, load, other, customer) for page, load in loads.items()}

    assert any("revenue" in p for p in problems["executive"])
    assert any("customers" in p for p in problems["executive"])
    assert any("rowCount" in p for p in problems["actions"])
    assert any("spend" in p for p in problems["client"]) and any("history" in p for p in problems["client"])
    renamed = dataclasses.replace(expected, version="20000101T000000Z-000000")
    assert any("navbar caption" in p for p in check_page("executive", loads["executive"], renamed))
