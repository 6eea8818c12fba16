"""Customer ids the way spreadsheets write them (defect 4): /client/17850.0 redirects to /client/17850."""

from __future__ import annotations

from dashboard.app import canonical_client_path


def test_canonical_client_path_normalises_spreadsheet_ids_only():
    assert canonical_client_path("/client/17850.0") == "17850"
    assert canonical_client_path("/client/17850.00") == "17850"
    assert canonical_client_path("/app/client/17850.0", "/app/") == "17850"  # under a routes prefix
    assert canonical_client_path("/client/ 17850 ") == "17850"  # pasted with spaces
    for path in ("/client/17850", "/client/C12345", "/client/", "/client/17850.5", "/client/1.0/x", "/segments",
                 "/other/client/17850.0"):
        assert canonical_client_path(path) is None, path


def test_a_spreadsheet_id_url_redirects_keeping_the_query(dash_app):
    client = dash_app.server.test_client()
    answer = client.get("/client/17850.0?segment=Loyal&embed=1")
    assert answer.status_code == 301
    assert answer.headers["Location"] == "/client/17850?segment=Loyal&embed=1"
    assert client.get("/client/17850.0").headers["Location"] == "/client/17850"
    assert client.get("/client/17850").status_code == 200  # the canonical page itself is served
