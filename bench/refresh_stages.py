"""Refresh speed on the bundled data: every stage, against a lower bound and a seed-style baseline.

    python -m bench.refresh_stages [--rounds 5] [--before COMMIT,COMMIT]

Three pipelines run in this process, interleaved round by round on the same machine (compare the
ratios, not single timings):

- **ours**: ``jobs.refresh.run`` — load, clean, RFM, segments, baskets, mining, recommendations,
  evaluation, KPIs, serialize, publish (to a file store in a temporary directory);
- **lower bound**: read the Parquet file, the same cleaning masks and RFM group-by in pandas, and
  frequent itemsets at the same support and length with a C miner (pyfim, benchmark-only);
- **seed-style**: the same read, cleaning and RFM, then the usual tutorial mining: a pandas pivot
  one-hot of every basket and mlxtend ``apriori`` (``low_memory=True``: its default needs 12.3 GiB
  here) and ``association_rules``.

Then the miners alone on the same baskets (mlxtend FP-Growth and Apriori, ours, pyfim), and the
refresh CLI of earlier commits against the current one, stage by stage (subprocesses).
Writes ``bench/out/refresh_stages.json``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from bench._common import BUNDLED, ROOT, machine, measure, print_table, write_results

BEFORE = ("17ee5e6",  # main before the performance work (mlxtend FP-Growth, string group-bys)
          "51bcaad")  # before the second round (evaluation redoing the main run's work, KPI group-bys on text)
TARGET_RATIO = 2.0


def lower_bound(path: Path, settings) -> dict[str, float]:
    """Minimal pipeline: read, clean, RFM, frequent itemsets with pyfim. Seconds per part."""
    import fim

    times, t = {}, time.perf_counter()
    raw = pq.read_table(path).to_pandas()
    times["read"], t = time.perf_counter() - t, time.perf_counter()
    sales, baskets = _clean(raw, settings)
    times["clean"], t = time.perf_counter() - t, time.perf_counter()
    _rfm(sales)
    times["rfm"], t = time.perf_counter() - t, time.perf_counter()
    invoice, item = pd.factorize(baskets["InvoiceNo"])[0], pd.factorize(baskets["StockCode"])[0]
    order = np.argsort(invoice, kind="stable")
    bounds = np.flatnonzero(np.diff(invoice[order])) + 1
    transactions = [part.tolist() for part in np.split(item[order], bounds)]
    times["baskets"], t = time.perf_counter() - t, time.perf_counter()
    from analytics.miner import min_count
    found = fim.fpgrowth(transactions, supp=-min_count(settings.rules.min_support, len(transactions)),
                         zmax=settings.rules.max_len)
    times["mining"] = time.perf_counter() - t
    times["itemsets"] = len(found)
    return times


def seed_style(path: Path, settings) -> dict[str, float]:
    """Read, clean, RFM as above; pivot one-hot + mlxtend apriori + association_rules. Seconds per part."""
    from mlxtend.frequent_patterns import apriori, association_rules

    times, t = {}, time.perf_counter()
    raw = pq.read_table(path).to_pandas()
    sales, baskets = _clean(raw, settings)
    _rfm(sales)
    times["read_clean_rfm"], t = time.perf_counter() - t, time.perf_counter()
    onehot = baskets.groupby(["InvoiceNo", "StockCode"])["Quantity"].sum().unstack(fill_value=0) > 0
    times["pivot"], t = time.perf_counter() - t, time.perf_counter()
    itemsets = apriori(onehot, min_support=settings.rules.min_support, use_colnames=True,
                       max_len=settings.rules.max_len, low_memory=True)
    rules = association_rules(itemsets, num_itemsets=len(onehot), metric="confidence",
                              min_threshold=settings.rules.min_confidence)
    times["mining"] = time.perf_counter() - t
    times["itemsets"], times["rules"] = len(itemsets), int((rules["lift"] > settings.rules.min_lift).sum())
    return times


def _clean(raw: pd.DataFrame, settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cleaning rules as bare masks: customer sales (with revenue) and basket lines."""
    cancelled = raw["InvoiceNo"].str.startswith(settings.cleaning.cancellation_prefix)
    sale = ~cancelled & (raw["Quantity"] > 0) & (raw["UnitPrice"] > 0)
    codes, uniques = pd.factorize(raw["StockCode"])
    distinct = pd.Series(uniques, dtype="str")
    service_code = (distinct.isin(set(settings.cleaning.service_codes))
                    | distinct.str.contains(settings.cleaning.service_code_pattern, case=False, regex=True))
    service = service_code.to_numpy()[codes]
    known = raw["CustomerID"].notna()
    sales = raw[sale & known]
    sales = sales.assign(revenue=sales["Quantity"] * sales["UnitPrice"])
    return sales, raw.loc[sale & ~service, ["InvoiceNo", "StockCode", "Quantity"]]


def _rfm(sales: pd.DataFrame) -> pd.DataFrame:
    as_of = sales["InvoiceDate"].max().normalize() + pd.Timedelta(days=1)
    summary = sales.groupby("CustomerID").agg(last=("InvoiceDate", "max"), frequency=("InvoiceNo", "nunique"),
                                              monetary=("revenue", "sum"))
    return summary.assign(recency=(as_of - summary["last"]).dt.days)


def ours(path: Path, settings) -> dict[str, float]:
    """The refresh job in this process; seconds per stage and in all (publish included)."""
    from jobs.refresh import run
    from jobs.store import open_store

    with tempfile.TemporaryDirectory() as store_dir:
        settings = replace(settings, input=replace(settings.input, path=str(path)),
                           store=replace(settings.store, url="file://" + store_dir))
        start = time.perf_counter()
        run(settings)
        total = time.perf_counter() - start
        stages = open_store(settings.store).runs()[0]["durations_s"]
    return {**stages, "total": total}


def miners(path: Path, settings, max_len: int = 3) -> list[dict]:
    """The miners alone on the refresh's own baskets (guests in, service codes out), itemsets up to
    ``max_len`` items (3: the 1,981 itemsets of the reference figure), then the "1,031 itemsets" case."""
    import fim
    from mlxtend.frequent_patterns import apriori, fpgrowth

    from analytics.clean import clean_transactions
    from analytics.load import read_transactions
    from analytics.miner import min_count, mine_itemsets
    from analytics.rules import basket_matrix, effective_support

    settings = replace(settings, rules=replace(settings.rules, max_len=max_len))
    lines = read_transactions(path, settings.input)
    cleaned = clean_transactions(lines, settings.cleaning, settings.baskets)
    baskets = basket_matrix(cleaned.basket_lines)
    support = effective_support(settings.rules, baskets.count)
    counts = np.asarray(baskets.matrix.sum(axis=0)).ravel()
    keep = np.flatnonzero(counts >= min_count(support, baskets.count))
    onehot = pd.DataFrame.sparse.from_spmatrix(  # type: ignore[attr-defined]  # pandas-stubs types .sparse as ...
        baskets.matrix[:, keep], columns=list(baskets.items[keep]))
    rows = baskets.matrix.tocsr()
    transactions = [rows.indices[rows.indptr[i]:rows.indptr[i + 1]].tolist() for i in range(baskets.count)]
    runs = {
        "mlxtend fpgrowth (sparse, pre-filtered)": lambda: len(fpgrowth(onehot, min_support=support,
                                                                          max_len=settings.rules.max_len)),
        "mlxtend apriori low_memory (sparse)": lambda: len(apriori(onehot, min_support=support, low_memory=True,
                                                                     max_len=settings.rules.max_len)),
        "numpy miner (analytics/miner.py)": lambda: sum(len(c) for c, _ in mine_itemsets(
            baskets.matrix, support, settings.rules.max_len)),
        "pyfim fpgrowth (C)": lambda: len(fim.fpgrowth(transactions, supp=-min_count(support, baskets.count),
                                                       zmax=settings.rules.max_len)),
    }
    table: list[dict[str, Any]] = []
    for name, job in runs.items():
        seconds = []
        for _ in range(3):
            start = time.perf_counter()
            found = job()
            seconds.append(time.perf_counter() - start)
        table.append({"miner": name, "itemsets": found, "seconds": statistics.median(seconds)})
    fastest = min(row["seconds"] for row in table)
    for row in table:
        row["× fastest"] = row["seconds"] / fastest
        row["baskets"] = baskets.count
    # the reference "1,031 itemsets at 1 %": invoices of customer sale lines, service codes included, no length bound
    customer_only = replace(settings.baskets, include_guests=False)
    customer = basket_matrix(clean_transactions(lines, settings.cleaning, customer_only).sales)
    rows = customer.matrix.tocsr()
    transactions = [rows.indices[rows.indptr[i]:rows.indptr[i + 1]].tolist() for i in range(customer.count)]
    for name, job in {
        "numpy miner, customer baskets, no length bound": lambda: sum(len(c) for c, _ in mine_itemsets(
            customer.matrix, settings.rules.min_support, None)),
        "pyfim fpgrowth, customer baskets, no length bound": lambda: len(fim.fpgrowth(
            transactions, supp=-min_count(settings.rules.min_support, customer.count))),
    }.items():
        start = time.perf_counter()
        found = job()
        table.append({"miner": name, "itemsets": found, "seconds": time.perf_counter() - start,
                      "baskets": customer.count})
    return table


def before_after(path: Path, commits: Sequence[str], rounds: int) -> dict:
    """The refresh CLI of each of ``commits`` and of the working tree ("after"), stage by stage.

    Returns:
        order (the commits, then "after") and, per label, the median seconds of each stage and of the
        whole process; or ``error`` when a commit cannot be extracted.
    """
    roots = {}
    for commit in commits:
        roots[commit] = Path(tempfile.mkdtemp(prefix=f"bench-{commit}-"))
        try:
            archive = subprocess.run(["git", "archive", commit, "analytics", "jobs", "config"], cwd=ROOT,
                                     capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(roots[commit])], input=archive, check=True)
        except (subprocess.CalledProcessError, FileNotFoundError) as exc:
            return {"error": f"commit {commit} not available: {exc}"}
    roots["after"] = ROOT
    results: dict[str, list[dict]] = {label: [] for label in roots}
    for _ in range(rounds):
        for label, root in roots.items():
            with tempfile.TemporaryDirectory() as store:
                run = measure([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                               "from jobs.refresh import main; sys.exit(main(sys.argv[2:]))", str(root),
                               "--store", "file://" + store, "--input", str(path),
                               "--config", str(root / "config" / "settings.yaml")])
            stages = {m.group(1): float(m.group(2))
                      for m in re.finditer(r"stage=(\w+) seconds=([\d.]+)", run["output"])}
            results[label].append({**stages, "process": run["seconds"]})
    medians = {label: {key: statistics.median([r.get(key, 0.0) for r in runs]) for key in runs[0]}
               for label, runs in results.items()}
    return {"order": list(roots), **medians}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.refresh_stages", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", default=",".join(BEFORE),
                        help="git commits to compare with, comma-separated (default: %(default)s)")
    parser.add_argument("--input", default=str(BUNDLED))
    args = parser.parse_args(argv)

    from analytics.settings import load_settings

    settings = load_settings({})
    path = Path(args.input)
    ours(path, settings)  # warm-up: imports and first-call costs are not what we compare
    rounds: list[dict[str, Any]] = []  # per round: lower_bound, ours, seed_style (None after the second) -> seconds
    for number in range(args.rounds):
        low, mine = lower_bound(path, settings), ours(path, settings)
        seed = seed_style(path, settings) if number < 2 else None
        rounds.append({"lower_bound": low, "ours": mine, "seed_style": seed})
    low_total = [sum(v for k, v in r["lower_bound"].items() if k != "itemsets") for r in rounds]
    our_total = [r["ours"]["total"] for r in rounds]
    seed_total = [sum(v for k, v in r["seed_style"].items() if k not in ("itemsets", "rules"))
                  for r in rounds if r["seed_style"]]
    ratios = [o / low for o, low in zip(our_total, low_total)]
    stages = {key: statistics.median([r["ours"][key] for r in rounds]) for key in rounds[0]["ours"]}
    results = {
        "machine": machine(), "input": str(path), "rounds": args.rounds,
        "command": "python -m bench.refresh_stages " + " ".join(argv or sys.argv[1:]),
        "ours_stages_s": stages, "ours_total_s": statistics.median(our_total),
        "lower_bound_s": {key: statistics.median([r["lower_bound"][key] for r in rounds]) for key in rounds[0]["lower_bound"]},
        "lower_bound_total_s": statistics.median(low_total),
        "seed_style_s": {key: statistics.median([r["seed_style"][key] for r in rounds if r["seed_style"]])
                         for key in rounds[0]["seed_style"]},
        "seed_style_total_s": statistics.median(seed_total),
        "ratio_to_lower_bound": {"per_round": ratios, "median": statistics.median(ratios), "target": TARGET_RATIO,
                                 "fastest_rounds": min(our_total) / min(low_total)},
        "ours_total_per_round_s": our_total, "lower_bound_total_per_round_s": low_total,
        "miners": miners(path, settings),
        "before_after": before_after(path, args.before.split(","), rounds=3),
    }
    write_results("refresh_stages", results)
    _print(results)
    return 0


def _print(results: dict) -> None:
    print(f"\nRefresh on {results['input']} ({results['rounds']} rounds, medians; {results['machine']['cores']} cores)")
    rows = [{"stage": k, "seconds": v} for k, v in results["ours_stages_s"].items()]
    print_table(rows, ["stage", "seconds"])
    ratio = results["ratio_to_lower_bound"]
    print(f"\nours {results['ours_total_s']:.2f} s | lower bound {results['lower_bound_total_s']:.2f} s | "
          f"seed-style {results['seed_style_total_s']:.2f} s | ours / lower bound {ratio['median']:.2f} "
          f"(target ≤ {ratio['target']})")
    print()
    print_table(results["miners"], ["miner", "itemsets", "seconds", "× fastest"])
    ba = results["before_after"]
    if "error" not in ba:
        rows = [{"stage": k, **{label: ba[label].get(k) for label in ba["order"]}} for k in ba["after"]]
        print()
        print_table(rows, ["stage", *ba["order"]])


if __name__ == "__main__":
    raise SystemExit(main())
