"""The customer list's streamed CSV (dashboard/list_export.py): its address, its checks, its blocks."""

from __future__ import annotations

import io
import json
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from dashboard import data, list_export
from tests.dashboard.components import by_id, page_module

ROUTE = "/export/customers.csv"


@pytest.fixture
def client(dash_app):
    return dash_app.server.test_client()


@pytest.fixture
def version(dash_app, in_request) -> str:
    return by_id(page_module("/actions").layout(), "page-version").data


def get(client, **params: str):
    return client.get(ROUTE, query_string=params)


def test_the_address_keeps_the_grid_filter_and_sort_but_not_its_window(dash_app, in_request, version):
    grid = {"startRow": 100, "endRow": 200, "sortModel": [{"colId": "recency_days", "sort": "asc"}],
            "filterModel": {"frequency": {"filterType": "number", "type": "greaterThan", "filter": 9}}}
    href = list_export.export_url("customers", version, {"segment": "Loyal", "view": "all"}, grid, readable=False)
    assert href.startswith(ROUTE + "?")
    query = {key: values[0] for key, values in parse_qs(urlsplit(href).query).items()}
    assert query["version"] == version and query["segment"] == "Loyal" and query["view"] == "all"
    assert json.loads(query["sort"]) == grid["sortModel"] and json.loads(query["filter"]) == grid["filterModel"]
    assert "startRow" not in href and "headers" not in query


def test_a_filtered_list_streams_only_its_rows_in_the_asked_order(client, version):
    response = get(client, version=version, segment="Loyal", view="all",
                   filter=json.dumps({"frequency": {"filterType": "number", "type": "greaterThan", "filter": 9}}),
                   sort=json.dumps([{"colId": "recency_days", "sort": "desc"}]))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="customers-loyal-all-{version}.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    frame = pd.read_csv(io.StringIO(response.get_data(as_text=True)[1:]), dtype={"customer_id": str})
    customers = data.table("customers", version)
    expected = customers[(customers["segment"] == "Loyal") & (customers["frequency"] > 9)]
    assert len(frame) == len(expected) > 1
    assert set(frame["customer_id"]) == set(expected["customer_id"])
    assert frame["recency_days"].is_monotonic_decreasing


def test_readable_headers_are_in_the_language_of_the_address(client, version):
    response = get(client, version=version, view="at-risk", headers="readable", lang="fr")
    header = response.get_data(as_text=True).lstrip("\ufeff").split("\r\n", 1)[0]
    assert header.startswith("N° client,Pays,Segment,")


@pytest.mark.parametrize("params, status, says", [
    ({"filter": "{not json"}, 400, "filter parameter is not JSON"),
    ({"filter": "[1, 2]"}, 400, "must be a JSON object"),
    ({"sort": '{"colId": "x"}'}, 400, "must be a JSON list"),
    ({"filter": "{" + " " * list_export.MAX_MODEL_CHARS + "}"}, 400, "longer than"),
    ({"version": "20000101T000000Z-000000"}, 404, "No such list in this snapshot version"),
    ({"version": "../../etc/passwd"}, 404, "No such list in this snapshot version"),
    ({"version": ""}, 404, "No such list in this snapshot version"),
], ids=["bad JSON", "filter not an object", "sort not a list", "too long", "unknown version", "path", "no version"])
def test_bad_parameters_get_one_clear_error(client, version, params, status, says):
    response = get(client, **{"version": version, "view": "all", **params})
    assert response.status_code == status and says in response.get_data(as_text=True)


def test_an_unknown_column_in_the_filter_or_sort_is_ignored_like_in_the_grid(client, version):
    plain = get(client, version=version, view="at-risk")
    odd = get(client, version=version, view="at-risk", filter=json.dumps({"x; DROP": {"filter": 1}}),
              sort=json.dumps([{"colId": "1; SELECT", "sort": "asc"}]))
    assert odd.status_code == 200 and odd.get_data() == plain.get_data()


def test_an_unknown_list_or_a_tampered_movement_scope_is_a_404(client, version):
    assert client.get("/export/everyone.csv", query_string={"version": version}).status_code == 404
    response = client.get("/export/movement.csv", query_string={
        "version": version, "list": "flow", "from_segment": "Nobody", "to_segment": "Loyal"})
    assert response.status_code == 404 and "No such list" in response.get_data(as_text=True)
