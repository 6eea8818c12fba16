"""``python -m jobs.audiences``: create from a segment, a list or a file; list, show, export, delete."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from analytics.settings import StoreParams
from jobs import audiences as cli
from jobs.store import FileStore, open_store


@pytest.fixture
def store_url(published_store: str, tmp_path: Path) -> str:
    """A private copy of the published bundled snapshot (audiences must not leak into other tests)."""
    target = tmp_path / "store"
    shutil.copytree(published_store.removeprefix("file://"), target)
    return f"file://{target}"


def run(store_url: str, *args: str) -> int:
    return cli.main(["--store", store_url, *args])


def only_audience(store_url: str) -> str:
    items = open_store(StoreParams(url=store_url)).audiences()
    assert len(items) == 1
    return items[0]["audience_id"]


def test_create_from_the_at_risk_list_then_list_show_export_delete(store_url, capsys, tmp_path):
    assert run(store_url, "create", "--name", "Win-back", "--note", "15% off by e-mail", "--list", "at-risk",
               "--by", "ann") == 0
    out, err = capsys.readouterr()
    # 134 at-risk customers (README): Can't Lose Them 115 → 12 control, Loyal 17 → 2, Potential Loyalists 2 → 0
    assert "134 members: 120 target, 14 control" in out
    assert "audience created" in err and "by=ann" in err and "members=134" in err
    assert "17850" not in err  # no customer id in the audit line
    audience_id = only_audience(store_url)
    assert run(store_url, "list") == 0 and "Win-back" in capsys.readouterr().out
    assert run(store_url, "show", audience_id) == 0 and "Can't Lose Them" in capsys.readouterr().out

    target = tmp_path / "target.csv"
    assert run(store_url, "export", audience_id, "--output", str(target)) == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert len(rows) == 120 and {r["audience_id"] for r in rows} == {audience_id}
    assert "group" not in rows[0] and rows[0]["audience_name"] == "Win-back" and rows[0]["tactic"]
    full = tmp_path / "full.csv"
    assert run(store_url, "export", audience_id, "--group", "full", "--output", str(full)) == 0
    all_rows = list(csv.DictReader(io.StringIO(full.read_text())))
    assert len(all_rows) == 134 and sum(r["group"] == "control" for r in all_rows) == 14
    control = {r["customer_id"] for r in all_rows if r["group"] == "control"}
    assert not control & {r["customer_id"] for r in rows}  # the control group never reaches the campaign file

    assert run(store_url, "delete", audience_id) == 0
    assert open_store(StoreParams(url=store_url)).audiences() == []


def test_create_from_a_segment_as_of_a_past_date(store_url, capsys):
    assert run(store_url, "create", "--name", "A/A Champions", "--segment", "Champions", "--as-of", "2011-09-01",
               "--control-share", "0.2") == 0
    out = capsys.readouterr().out
    assert "as of a past date" in out and "purchases from 2011-09-01" in out
    stored = open_store(StoreParams(url=store_url)).audience(only_audience(store_url))
    assert stored.backdated and set(stored.members["segment"]) == {"Champions"}
    assert stored.sizes["control"] == round(0.2 * stored.sizes["members"])


def test_create_from_a_file_of_ids_names_unknown_lines(store_url, tmp_path, capsys):
    ids = tmp_path / "ids.csv"
    ids.write_text("customer_id\n17850\n12346\nnobody\n")
    assert run(store_url, "create", "--name", "From file", "--ids-file", str(ids)) == 2
    err = capsys.readouterr().err
    assert "1 id(s)" in err and "first at line 4" in err and "nobody" not in err
    ids.write_text("customer_id,name\n17850,x\n12346,y\n17850,x\n")
    assert run(store_url, "create", "--name", "From file", "--ids-file", str(ids)) == 2
    assert "control group would be empty" in capsys.readouterr().err  # 2 customers, 10 %: nobody held out
    champions, _ = cli.snapshot_table(open_store(StoreParams(url=store_url)), "customers")
    chosen = champions.loc[champions["segment"] == "Champions", "customer_id"].head(40).tolist()
    ids.write_text("customer_id,name\n" + "".join(f"{cid},x\n" for cid in chosen + chosen[:3]))
    assert run(store_url, "create", "--name", "From file", "--ids-file", str(ids)) == 0
    stored = open_store(StoreParams(url=store_url)).audiences()[0]
    assert (stored["members"], stored["control"]) == (40, 4)  # duplicates counted once; 40 × 0.1 = 4


@pytest.mark.parametrize("args, message", [
    (["--name", "x", "--segment", "Nope"], "Unknown segment"),
    (["--name", "<b>", "--segment", "Champions"], "name may hold"),
    (["--name", "x", "--segment", "Champions", "--control-share", "0.7"], "at most 0.5"),
    (["--name", "x"], "Say who"),
])
def test_invalid_requests_exit_2_with_one_message(store_url, capsys, args, message):
    assert run(store_url, "create", *args) == 2
    assert message in capsys.readouterr().err


def test_no_snapshot_yet(tmp_path, capsys):
    assert run(f"file://{tmp_path}", "create", "--name", "x", "--segment", "Champions") == 4
    assert "No snapshot published yet" in capsys.readouterr().err
    assert isinstance(open_store(StoreParams(url=f"file://{tmp_path}")), FileStore)


def test_the_refresh_measures_every_audience_and_skips_a_corrupt_one(store_url, capsys):
    from analytics.settings import load_settings
    from analytics.snapshot import parse_manifest, verify_table
    from jobs.refresh import run as refresh

    assert run(store_url, "create", "--name", "Backdated", "--list", "all", "--as-of", "2011-09-01") == 0
    assert run(store_url, "create", "--name", "Broken", "--segment", "Loyal") == 0
    store = open_store(StoreParams(url=store_url))
    broken = next(item["audience_id"] for item in store.audiences() if item["name"] == "Broken")
    (Path(store_url.removeprefix("file://")) / "audiences" / f"{broken}.json").write_text("{}")
    capsys.readouterr()
    version = refresh(load_settings({"STORE_URL": store_url}))
    assert "audience skipped" in capsys.readouterr().err
    manifest = parse_manifest(store.read_manifest(version))
    campaigns = verify_table(manifest, "campaigns", store.read_table(version, "campaigns"))
    assert campaigns["name"].tolist() == ["Backdated"]
    row = campaigns.iloc[0]
    assert row["members"] == 4338 and row["days"] == 100 and row["backdated"]  # 1 Sep - 9 Dec 2011
    daily = verify_table(manifest, "campaign_daily", store.read_table(version, "campaign_daily"))
    assert len(daily) == 200 and set(daily["group"]) == {"target", "control"}
    assert manifest["tables"]["campaign_results"]["rows"] == 4  # one row per metric
    assert len(store.audiences()) == 2  # the refresh never removes audiences
