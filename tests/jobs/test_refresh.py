"""The refresh job end to end on the bundled data, to both store kinds, and its failure modes."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from dataclasses import replace

import pandas as pd
import pytest

from analytics.errors import LockedError
from analytics.settings import PROJECT_ROOT, load_settings
from analytics.snapshot import parse_manifest, verify_table
from jobs.refresh import main as refresh_main
from jobs.refresh import run
from jobs.snapshot import main as snapshot_main
from jobs.store import open_store

SIX = {"Champions", "Loyal", "Potential Loyalists", "New Customers", "Can't Lose Them", "Hibernating"}


def _settings(store_url: str, **input_changes):
    settings = load_settings({})
    return replace(settings, store=replace(settings.store, url=store_url),
                   input=replace(settings.input, **input_changes))


def _table(store, name):
    manifest = parse_manifest(store.read_manifest(store.current_version()))
    return verify_table(manifest, name, store.read_table(manifest["version"], name))


def test_bundled_data_published_to_file_store(published_store):
    store = open_store(_settings(published_store).store)
    manifest = parse_manifest(store.read_manifest(store.current_version()))
    customers = _table(store, "customers")
    assert len(customers) == 4_338 and customers["customer_id"].is_unique
    assert set(customers["segment"]) == SIX
    kpis = _table(store, "kpis").set_index("kpi")["value"]
    assert round(kpis["revenue"], 2) == 8_911_407.90
    assert manifest["source"]["sha256"] == "328ec74afc3a3333548a8f038bf2a38b3711b2056c153fc73555ba7724840884"
    assert manifest["coverage"]["rule_based_share"] >= 0.90
    assert {r["rule"]: r["rows"] for r in manifest["cleaning"]}["customer_sale_lines"] == 397_884
    assert set(manifest["durations_s"]) == {"load", "clean", "rfm", "segments", "history", "baskets", "mining",
                                            "segment_rules", "recommendations", "evaluation", "predictions", "kpis",
                                            "campaigns"}
    recs = _table(store, "recommendations")
    assert recs.groupby("customer_id").size().max() == 10
    # every rule-based recommendation shows a published rule: its consequent, antecedents and metrics
    rules = _table(store, "rules")
    assert set(rules["window"]) == {"all baskets", "last 60 days"}
    published = {(r.consequents[0], tuple(r.antecedent_names), round(r.confidence, 12), round(r.lift, 9))
                 for r in rules.itertuples() if len(r.consequents) == 1}
    shown = recs[recs["source"] == "rule"]
    assert len(shown) > 30_000
    assert all((r.stock_code, tuple(r.because), round(r.confidence, 12), round(r.lift, 9)) in published
               for r in shown.itertuples())
    runs = store.runs()
    assert runs[0]["status"] == "success" and runs[0]["version"] == manifest["version"]
    assert {"load", "serialize", "publish"} <= set(runs[0]["durations_s"])
    assert runs[0]["rows"]["customers"] == 4_338


def test_bundled_data_published_to_redis(redis_url):
    settings = _settings(redis_url)
    version = run(settings)
    store = open_store(settings.store)
    assert store.current_version() == version
    customers = _table(store, "customers")
    assert len(customers) == 4_338 and set(customers["segment"]) == SIX
    assert snapshot_main(["--store", redis_url, "list"]) == 0


def test_snapshot_export_shows_every_customer_in_one_segment(published_store, capsysbinary):
    assert snapshot_main(["--store", published_store, "export", "customers"]) == 0
    exported = pd.read_csv(io.BytesIO(capsysbinary.readouterr().out), dtype={"customer_id": str})
    assert len(exported) == 4_338 and exported["customer_id"].is_unique
    assert exported["segment"].notna().all() and set(exported["segment"]) == SIX


def test_snapshot_show_and_runs(published_store, capsys):
    assert snapshot_main(["--store", published_store, "show"]) == 0
    shown = capsys.readouterr().out
    assert "customer_sale_lines" in shown and "397,884" in shown and "customers" in shown
    assert snapshot_main(["--store", published_store, "runs"]) == 0
    assert "success" in capsys.readouterr().out


def test_bad_input_exits_non_zero_and_keeps_previous_snapshot(tmp_path, redis_url, capsys):
    settings = _settings(redis_url)
    version = run(settings)
    bad = tmp_path / "bad.csv"
    bad.write_text("InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice\n1,A,1,2011-01-01,2.0\n", encoding="utf-8")
    status = refresh_main(["--store", redis_url, "--input", str(bad)])
    err = capsys.readouterr().err
    assert status == 2
    assert "bad.csv" in err and "customer_id" in err and "Traceback" not in err
    store = open_store(settings.store)
    assert store.current_version() == version
    assert store.runs()[0]["status"] == "failed" and "bad.csv" in store.runs()[0]["error"]


def test_second_refresh_is_skipped_while_locked(tmp_path, capsys):
    settings = _settings("file://" + str(tmp_path))
    store = open_store(settings.store)
    with store.acquire_lock(owner="someone-else"):
        with pytest.raises(LockedError):
            run(settings)
        status = refresh_main(["--store", settings.store.url])
    assert status == LockedError.exit_code == 75
    assert "skipped" in capsys.readouterr().err
    assert store.current_version() is None
    assert store.runs()[0]["status"] == "skipped"


def test_column_mapping_from_the_command_line(tmp_path):
    source = pd.read_parquet(PROJECT_ROOT / "data" / "online_retail.parquet").head(3000)
    renamed = source.rename(columns={"InvoiceNo": "Bon", "StockCode": "Article", "Quantity": "Qte",
                                     "InvoiceDate": "Jour", "UnitPrice": "PU", "CustomerID": "Client"})
    path = tmp_path / "export.parquet"
    renamed.to_parquet(path)
    store_url = "file://" + str(tmp_path / "store")
    args = ["--store", store_url, "--input", str(path), "--map", "Bon=invoice", "--map", "Article=stock_code",
            "--map", "Qte=quantity", "--map", "Jour=invoice_date", "--map", "PU=unit_price",
            "--map", "Client=customer_id"]
    assert refresh_main(args) == 0
    assert open_store(_settings(store_url).store).current_version() is not None


def test_command_line_entry_point_runs(tmp_path):
    result = subprocess.run([sys.executable, "-m", "jobs.refresh", "--help"], capture_output=True, text=True,
                            cwd=PROJECT_ROOT, check=True)
    assert "--map SRC=FIELD" in result.stdout


@pytest.mark.parametrize("form", ["user-info", "query"])
def test_store_password_never_logged_by_the_refresh(redis_server_factory, tmp_path, capsys, form):
    secret = "s3cr3t-Pa55w0rd"
    server = redis_server_factory(password=secret)
    url = server.url if form == "user-info" else server.url.replace(f":{secret}@", "") + f"?password={secret}"
    cut = tmp_path / "cut.parquet"
    pd.read_parquet(PROJECT_ROOT / "data" / "online_retail.parquet").head(5_000).to_parquet(cut)
    assert refresh_main(["--store", url, "--input", str(cut)]) == 0
    printed = capsys.readouterr()
    assert "refresh started" in printed.err + printed.out
    assert secret not in printed.err + printed.out


@pytest.mark.parametrize("lines", [slice(0, 3000), slice(0, None, 40)])
def test_refresh_logs_the_segment_drift_under_both_scorings(tmp_path, capsys, lines):
    # the first 3,000 lines span one day (a single period end, nothing to compare); every 40th line spans the year
    cut = tmp_path / "cut.parquet"
    pd.read_parquet(PROJECT_ROOT / "data" / "online_retail.parquet").iloc[lines].to_parquet(cut)
    store_url = "file://" + str(tmp_path / "store")
    assert refresh_main(["--store", store_url, "--input", str(cut)]) == 0
    printed = capsys.readouterr()
    line = next(row for row in (printed.err + printed.out).splitlines() if 'msg="segment drift"' in row)
    assert "scoring=quantiles" in line and "changed_without_purchase_fixed=" in line
    history = _table(open_store(_settings(store_url).store), "history_periods")
    manifest = parse_manifest(open_store(_settings(store_url).store).read_manifest(
        open_store(_settings(store_url).store).current_version()))
    assert len(history) == len(manifest["history"]["period_ends"]) - 1
    assert f"changed_without_purchase_quantiles={round(manifest['history']['drift']['quantiles'], 4)}" in line


def test_the_second_process_publishes_the_same_snapshot(published_store, tmp_path, capfd, monkeypatch):
    monkeypatch.setenv("REFRESH_PARALLEL", "always")  # the bundled file is below parallel_min_lines
    assert refresh_main(["--store", "file://" + str(tmp_path)]) == 0
    logged = capfd.readouterr().err
    assert logged.count('msg="task sent to the second process"') == 2
    assert re.search(r'msg="second process task done" run_id=\w+ .*task=forecast seconds=', logged)
    assert re.search(r'msg="second process task done" run_id=\w+ .*task=_order_tables seconds=', logged)
    apart, inline = (_manifest(open_store(_settings(url).store))
                     for url in ("file://" + str(tmp_path), published_store))
    assert {name: entry["sha256"] for name, entry in apart["tables"].items()} == {
        name: entry["sha256"] for name, entry in inline["tables"].items()}
    assert _fits(apart) == _fits(inline) and _fits(apart)["customers"] > 2_000


def _manifest(store):
    return parse_manifest(store.read_manifest(store.current_version()))


def _fits(manifest):
    return {key: value for key, value in manifest["predictive"]["bgnbd"].items() if key != "fit_seconds"}
