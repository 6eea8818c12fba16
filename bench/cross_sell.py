"""Cross-sell explorer speed: the server-side work of one filter change, on 100,000 synthetic rules.

    python -m bench.cross_sell [--rules 100000] [--changes 200]

Generates a ``rules`` table with the snapshot's columns (random products from a 4,000-product
catalogue, 2 to 4 products per rule, supports and confidences drawn like the bundled data's, a tenth
redundant), prepares it as the page does once per snapshot version (``rules_view.prepare``, timed
apart), then times ``--changes`` random filter changes, each doing what the page's ``apply_filters``
and the grid's first ``get_rows`` do: the mask (``rules_view.matching``), the counts, the empty-state
hint when nothing matches, the scatter figure (≤ 5,000 points), the graph elements and the first grid
page in the default order (lift; prepared rules are in that order: slice + display rows). Prints p50 / p95 / max
in milliseconds, writes ``bench/out/cross_sell.json`` and section 4 of docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace

import numpy as np
import pandas as pd

from bench._common import machine, write_results
from bench.report import SECTION_4, write_section_4
from dashboard.components import rules_view as rv
from dashboard.components.rule_charts import network_elements, scatter_figure

__all__ = ["filter_change", "main", "synthetic_rules"]


def synthetic_rules(n: int, products: int = 4_000, seed: int = 3) -> pd.DataFrame:
    """``n`` rules with the columns of the snapshot's ``rules`` table (random, but shaped like real ones)."""
    rng = np.random.default_rng(seed)
    codes = np.array([f"{20000 + i}" for i in range(products)], dtype=object)
    sizes = rng.choice([2, 3, 4], size=n, p=[0.6, 0.3, 0.1])
    picks = [rng.choice(products, size=k, replace=False) for k in sizes]
    split = [rng.integers(1, k) for k in sizes]
    antecedents = [sorted(codes[p[:s]].tolist()) for p, s in zip(picks, split)]
    consequents = [sorted(codes[p[s:]].tolist()) for p, s in zip(picks, split)]
    support = np.exp(rng.uniform(np.log(0.001), np.log(0.05), n))
    confidence = rng.uniform(0.1, 1.0, n)
    consequent_support = np.clip(support / confidence * rng.uniform(0.05, 0.9, n), support, 1.0)
    antecedent_support = np.minimum(support / confidence, 1.0)
    lift = confidence / consequent_support
    with np.errstate(divide="ignore"):
        conviction = np.where(confidence < 1, (1 - consequent_support) / (1 - confidence), np.inf)
    names = [[f"PRODUCT {code}" for code in items] for items in antecedents]
    rules = pd.DataFrame({
        "antecedents": antecedents, "consequents": consequents, "antecedent_names": names,
        "consequent_names": [[f"PRODUCT {code}" for code in items] for items in consequents],
        "antecedent_support": antecedent_support, "consequent_support": consequent_support, "support": support,
        "baskets": np.rint(support * 20_000).astype("int64"), "confidence": confidence, "lift": lift,
        "leverage": support - antecedent_support * consequent_support, "conviction": conviction,
        "window": np.where(rng.random(n) < 0.5, "all baskets", "last 60 days"),
        "redundant": (sizes > 2) & (rng.random(n) < 0.3),
    })
    return rules.assign(rule_id=[f"{i:012x}" for i in range(n)])


def _random_filters(rng: np.random.Generator, codes: pd.Index) -> rv.RuleFilters:
    return rv.RuleFilters(
        min_support=float(rng.choice([0, 0.002, 0.005, 0.01, 0.03])), min_confidence=float(rng.choice([0, 0.3, 0.6])),
        min_lift=float(rng.choice([0, 1, 3, 10, 50])), min_len=int(rng.choice([2, 3])),
        max_len=int(rng.choice([0, 3])),
        require=tuple(rng.choice(codes, size=int(rng.choice([0, 0, 1, 2])), replace=False).tolist()),
        require_in=str(rng.choice(rv.WHERE)), exclude=tuple(rng.choice(codes, size=int(rng.choice([0, 1]))).tolist()),
        show_redundant=bool(rng.random() < 0.3),
    )


def filter_change(rules: rv.RuleSet, filters: rv.RuleFilters) -> int:
    """The server-side work of one filter change (see the module docstring); returns the rules matched."""
    mask = rv.matching(rules, filters)
    rows = rules.frame[mask]
    hidden = int(rv.matching(rules, replace(filters, show_redundant=True)).sum()) - len(rows)
    rv.count_text(len(rows), rules.total, hidden)
    if rows.empty:
        rv.empty_hint(rules, filters)
    json.dumps(scatter_figure(rows, len(rows)))  # what Dash sends
    network_elements(rows)
    block, _ = rv.page_rows(rows, {"startRow": 0, "endRow": 20, "sortModel": [{"colId": "lift", "sort": "desc"}]})
    rv.grid_rows(block)
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=200)
    args = parser.parse_args(argv)
    table = synthetic_rules(args.rules)
    start = time.perf_counter()
    prepared = rv.prepare(table)
    prepare_s = time.perf_counter() - start
    rng = np.random.default_rng(11)
    filter_change(prepared, rv.RuleFilters())  # warm-up (plotly validators, caches)
    timings, matched = [], []
    for _ in range(args.changes):
        filters = _random_filters(rng, prepared.products)
        start = time.perf_counter()
        matched.append(filter_change(prepared, filters))
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    result = {"rules": args.rules, "changes": args.changes, "prepare_s": round(prepare_s, 2),
              "p50_ms": round(statistics.median(timings), 1), "p95_ms": round(timings[int(0.95 * len(timings)) - 1], 1),
              "max_ms": round(timings[-1], 1), "median_rules_matched": int(statistics.median(matched)),
              "empty_results": sum(m == 0 for m in matched), "machine": machine()}
    print(f"{args.rules:,} rules, prepared once in {prepare_s:.2f} s; {args.changes} filter changes: "
          f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, max {result['max_ms']} ms "
          f"(median {result['median_rules_matched']:,} rules matched, {result['empty_results']} empty)")
    write_results("cross_sell", result)
    write_section_4(section_4(result))
    return 0


def section_4(result: dict) -> str:
    """The markdown of docs/PERFORMANCE.md section 4 from a result."""
    m = result["machine"]
    verdict = "met" if result["p95_ms"] < 300 else "**not met**"
    return f"""{SECTION_4}

Target: the explorer answers a filter change in under 300 ms with 100,000 rules published. Measured by
`python -m bench.cross_sell` (writes this section and `bench/out/cross_sell.json`) on {result['rules']:,}
synthetic rules (2–4 products from a 4,000-product catalogue, half of them in a recent window, a share
redundant), {result['changes']} random filter changes (thresholds, length, 0–2 required and 0–1 excluded
products, redundant shown or hidden). Each change does the server-side work of the page's callbacks:
the mask, "N of M rules" and the redundant count, the empty-state hint when nothing matches
({result['empty_results']} of the changes), the scatter figure (≤ 5,000 points), the graph of the 30
strongest rules, and the grid's first page.

| | measured | target | |
|---|---|---|---|
| filter change, p50 | {result['p50_ms']} ms | | |
| filter change, p95 | {result['p95_ms']} ms | < 300 ms | {verdict} |
| filter change, max | {result['max_ms']} ms | | |
| preparing the rules (once per snapshot version and scope, cached) | {result['prepare_s']} s | | |

Machine: {m['cores']} cores, {m['cpu']}, load average {m['load_average_1m']} at the start (shared machine),
Python {m['python']}, pandas {m['pandas']}, numpy {m['numpy']}; run of {m['date']}. Not included: the
HTTP round trip and JSON encoding of the answer (the scatter is capped at 5,000 points, about 300 kB)
and the browser's drawing.
"""


if __name__ == "__main__":
    sys.exit(main())
