"""Synthetic retail transactions shaped like the bundled UCI Online Retail file, at any size.

    python -m bench.synth --lines 10000000 [--seed 7] [--output bench/out/synth-10000000.parquet]
    python -m bench.synth --retailer 1000000      # 1 M customers, few orders each (11.4 M lines)

The ``--retailer N`` shape is a retailer with a loyalty programme: N customers with 2.85 orders each on
average and about 4 lines per invoice (1 M customers: 11.4 M lines, about 2.85 M sale orders); it is
what the dashboard's per-customer reads are benchmarked on (``bench.dashboard --customers``).

Writes Parquet with the bundled file's columns and types (InvoiceNo, StockCode, Description,
Quantity, InvoiceDate, UnitPrice, CustomerID as float, Country), in row groups of about one million
lines, so generating 10 M lines stays fast and memory-sane. Deterministic for a seed.

What is copied from the real file (measured on its 541,909 lines):

- size: 20.9 lines per invoice on average (median 10, 10 % single-line, 1 % above 190);
  customers scale with lines (4,339 per 541,909), products grow slowly (4,059 × (lines / 541,909)^0.2);
- customers: invoices per customer median 2, mean 4.3, 90th percentile 9 (repeat customers);
  25 % of lines (14 % of invoices, larger ones) have no customer id (guests);
- cancellations: 15 % of invoices, 2.4 lines each, 1.7 % of lines, invoice "C…", negative quantity,
  by customers who also buy;
- products: Zipf-like popularity (basket counts ∝ rank^-0.54 over ranks 10–1,000), grouped in
  themes that baskets share (so association rules exist), price per product log-normal (median £2);
- time: one year from 2010-12-01 with the real month weights (November peak 2×, December 2011 cut at
  the 9th), the real weekday mix (no Saturdays), office hours;
- noise: service codes (POST, DOT, M, C2, D) 0.5 % of lines, quantity ≤ 0 0.25 %, unit price 0
  0.46 %, exact duplicate lines about 1 %; United Kingdom 91 % of customers.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["generate", "main", "REAL_LINES"]

REAL_LINES = 541_909
_CUSTOMERS_PER_LINE = 4_339 / REAL_LINES
_PRODUCTS = 4_059
ORDERS_PER_CUSTOMER = 4.27  # mean sale invoices per known customer in the real file
RETAILER_ORDERS_PER_CUSTOMER = 2.85
RETAILER_LINES_PER_CUSTOMER = 11.4
_START = np.datetime64("2010-12-01T00:00")
_DAYS = 374  # to 2011-12-09
_MONTH_WEIGHTS = (1.02, 0.84, 0.66, 0.88, 0.72, 0.89, 0.88, 0.95, 0.84, 1.21, 1.45, 2.04, 0.61 * 31 / 9)
_HOUR_WEIGHTS = {7: 0.001, 8: 0.016, 9: 0.063, 10: 0.09, 11: 0.106, 12: 0.145, 13: 0.133, 14: 0.125,
                 15: 0.143, 16: 0.101, 17: 0.053, 18: 0.015, 19: 0.007, 20: 0.002}
_WEEKDAY_WEIGHTS = (0.176, 0.188, 0.175, 0.192, 0.152, 0.0, 0.119)  # Monday first; no Saturday
_QUANTITIES = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 36, 48, 72, 100, 144)
_QUANTITY_WEIGHTS = (0.30, 0.12, 0.10, 0.07, 0.03, 0.08, 0.04, 0.06, 0.09, 0.02, 0.01, 0.04, 0.01, 0.015,
                     0.005, 0.005, 0.005)
_COUNTRIES = ("United Kingdom", "Germany", "France", "EIRE", "Spain", "Netherlands", "Belgium", "Switzerland",
              "Portugal", "Australia", "Norway", "Italy")
_COUNTRY_WEIGHTS = (0.914, 0.018, 0.016, 0.015, 0.005, 0.004, 0.004, 0.004, 0.003, 0.003, 0.002, 0.012)
_SERVICE = ("POST", "DOT", "M", "C2", "D")
_SERVICE_WEIGHTS = (0.45, 0.26, 0.21, 0.05, 0.03)
_WORDS = ("RED", "BLUE", "PINK", "WHITE", "VINTAGE", "RETROSPOT", "REGENCY", "HEART", "STAR", "FLORAL", "PAISLEY",
          "CHRISTMAS", "GARDEN", "KITCHEN", "PARTY", "SPACEBOY", "DOLLY", "WOODLAND", "POLKADOT", "JUMBO")
_THINGS = ("BAG", "MUG", "CANDLE", "LANTERN", "CAKE CASES", "T-LIGHT HOLDER", "BUNTING", "TEACUP", "BOX", "SIGN",
           "NOTEBOOK", "ORNAMENT", "CUSHION", "DOORMAT", "CLOCK", "TIN", "PLATE", "NAPKINS", "WRAP", "LUNCH BOX")
_THEME_SIZE = 20  # products per theme (a theme: products of similar popularity, bought together)
_THEME_MIX = 60  # how far apart in popularity rank the products of one theme can be
_THEMES = 3  # themes per invoice
_FROM_THEME = 0.6  # share of an invoice's lines drawn from its themes (the rest: overall popularity)
_ROW_GROUP = 1 << 20


def generate(lines: int, path: str | Path, seed: int = 7, customers: int | None = None,
             orders_per_customer: float = ORDERS_PER_CUSTOMER) -> dict:
    """Write about ``lines`` synthetic transaction lines (exactly ``lines``) to a Parquet file.

    Args:
        customers: known customers (default: as many per line as the real file, 4,339 per 541,909).
        orders_per_customer: mean sale invoices per customer (the real file: 4.27).

    Returns:
        lines, invoices, customers, products and the seconds it took.
    """
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    catalogue = _catalogue(rng, max(50, round(_PRODUCTS * (lines / REAL_LINES) ** 0.2)))
    customers = customers or max(1, round(lines * _CUSTOMERS_PER_LINE))
    invoices = _invoices(rng, lines, customers, orders_per_customer)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    bounds = np.searchsorted(np.cumsum(invoices["lines"]), np.arange(_ROW_GROUP, lines, _ROW_GROUP), side="right")
    with pq.ParquetWriter(path, _SCHEMA, compression="zstd") as writer:
        for first, last in zip(np.r_[0, bounds], np.r_[bounds, len(invoices["lines"])]):
            chunk_rng = np.random.default_rng([seed, int(first)])
            writer.write_table(_lines(chunk_rng, {k: v[first:last] for k, v in invoices.items()}, catalogue))
    return {"lines": int(invoices["lines"].sum()), "invoices": len(invoices["lines"]),
            "customers": int(np.unique(invoices["customer"][invoices["customer"] >= 0]).size),
            "products": len(catalogue["code"]), "seconds": round(time.perf_counter() - start, 2)}


_SCHEMA = pa.schema([("InvoiceNo", pa.string()), ("StockCode", pa.string()), ("Description", pa.string()),
                     ("Quantity", pa.int64()), ("InvoiceDate", pa.timestamp("ns")), ("UnitPrice", pa.float64()),
                     ("CustomerID", pa.float64()), ("Country", pa.string())])


def _catalogue(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Products: code, description, price, popularity weight and theme (themes group products)."""
    numbers = rng.choice(np.arange(10_000, 90_000), size=n, replace=False)
    suffix = np.where(rng.random(n) < 0.2, rng.choice(list("ABCDEFGL"), size=n), "")
    codes = np.char.add(numbers.astype(str), suffix)
    words = np.array(_WORDS)[rng.integers(len(_WORDS), size=(n, 2))]
    things = np.array(_THINGS)[rng.integers(len(_THINGS), size=n)]
    descriptions = np.char.add(np.char.add(np.char.add(words[:, 0], " "), np.char.add(words[:, 1], " ")), things)
    weight = (np.arange(1, n + 1) + 5.0) ** -0.5 * np.exp(-np.arange(n) / (0.5 * n))  # rank popularity
    theme = np.argsort(np.arange(n) + rng.uniform(0, _THEME_MIX, n)).argsort() // _THEME_SIZE  # near ranks
    return {"code": codes, "prices": np.r_[np.round(rng.lognormal(0.73, 0.85, n), 2), [18.0] * len(_SERVICE)],
            "weight": weight / weight.sum(), "theme": theme,
            "codes": pa.array(np.r_[codes, _SERVICE].tolist(), pa.string()),  # catalogue, then service codes
            "descriptions": pa.array(np.r_[descriptions, ["POSTAGE"] * len(_SERVICE)].tolist(), pa.string())}


def _invoices(rng: np.random.Generator, lines: int, customers: int,
              orders_per_customer: float) -> dict[str, np.ndarray]:
    """One row per invoice: customer (-1 = guest), date, cancelled or not, line count."""
    extra = orders_per_customer - 1  # negative binomial (r = 0.3) of mean ``extra``: p = r / (r + extra)
    counts = 1 + rng.negative_binomial(0.3, 0.3 / (0.3 + extra), size=customers)  # sale invoices per customer
    sales = np.repeat(np.arange(customers), counts)
    guests = np.full(round(len(sales) * 0.16), -1)
    cancelled = rng.choice(sales, size=round(len(sales) * 0.18))  # cancellations of known customers
    customer = np.r_[sales, guests, cancelled]
    kind = np.r_[np.zeros(len(sales) + len(guests), bool), np.ones(len(cancelled), bool)]
    size = np.where(rng.random(len(customer)) < 0.12, 1, np.ceil(rng.lognormal(2.2, 1.0, len(customer))))
    size = np.where(customer < 0, np.ceil(size * 1.9), size).clip(1, 600).astype(np.int64)
    size[kind] = rng.geometric(1 / 2.4, int(kind.sum())).clip(1, 50)
    size[~kind] = _fit_total(size[~kind], lines - int(size[kind].sum()))
    day = _days(rng, len(customer))
    minute = rng.choice(list(_HOUR_WEIGHTS), p=_p(_HOUR_WEIGHTS.values()), size=len(customer)) * 60 \
        + rng.integers(0, 60, len(customer))
    order = np.argsort(day * 1440 + minute, kind="stable")
    return {"customer": customer[order], "day": day[order], "minute": minute[order],
            "cancelled": kind[order], "lines": size[order], "number": 536_365 + np.arange(len(customer))}


def _fit_total(size: np.ndarray, lines: int) -> np.ndarray:
    """Scale invoice sizes so they add up to exactly ``lines`` (drop or add lines at random invoices)."""
    size = np.maximum(1, np.round(size * lines / size.sum())).astype(np.int64)
    excess = int(size.sum()) - lines
    order = np.argsort(-size, kind="stable")
    step = np.sign(excess)
    while excess:
        take = order[: min(abs(excess), len(order))]
        take = take[size[take] - step >= 1]
        size[take] -= step
        excess -= step * len(take)
    return size


def _days(rng: np.random.Generator, n: int) -> np.ndarray:
    """Day offsets from 2010-12-01 with the real month weights and no Saturdays."""
    dates = _START.astype("datetime64[D]") + np.arange(_DAYS)
    month = (dates.astype("datetime64[M]") - _START.astype("datetime64[M]")).astype(int)
    weekday = (dates.astype("datetime64[D]").view("int64") - 4) % 7  # 0 = Monday
    weight = np.array(_MONTH_WEIGHTS)[month] * np.array(_WEEKDAY_WEIGHTS)[weekday]
    return rng.choice(_DAYS, size=n, p=weight / weight.sum())


def _lines(rng: np.random.Generator, inv: dict[str, np.ndarray], cat: dict[str, np.ndarray]) -> pa.Table:
    """The lines of a run of invoices: items from the invoice's themes or from overall popularity."""
    n = int(inv["lines"].sum())
    owner = np.repeat(np.arange(len(inv["lines"])), inv["lines"])
    themes = rng.choice(cat["theme"], size=(len(inv["lines"]), _THEMES), p=cat["weight"])  # popular themes
    from_theme = rng.random(n) < _FROM_THEME
    product = rng.choice(len(cat["code"]), size=n, p=cat["weight"])
    in_theme = _pick_in_theme(rng, themes[owner, rng.integers(0, _THEMES, n)], cat)
    product = np.where(from_theme, in_theme, product)
    repeated = _repeated(owner, product)  # a product drawn twice for one invoice: draw again, overall
    product[repeated] = rng.choice(len(cat["code"]), size=int(repeated.sum()), p=cat["weight"])
    cancelled = inv["cancelled"][owner]
    quantity = rng.choice(_QUANTITIES, p=_p(_QUANTITY_WEIGHTS), size=n) * np.where(cancelled, -1, 1)
    noise = rng.random(n)
    service = noise < 0.0054  # service lines: their codes follow the catalogue's in cat["codes"]
    product[service] = len(cat["code"]) + rng.choice(len(_SERVICE), p=_p(_SERVICE_WEIGHTS), size=int(service.sum()))
    quantity = np.where((noise >= 0.0054) & (noise < 0.0079) & ~cancelled, -quantity, quantity)
    price = cat["prices"][product] * rng.choice([1.0, 0.85, 1.25], n, p=[0.6, 0.2, 0.2])
    price = np.where((noise >= 0.0079) & (noise < 0.0125), 0.0, np.round(price, 2))
    customer = inv["customer"][owner]
    minutes = (inv["day"][owner] * 1440 + inv["minute"][owner]).astype("timedelta64[m]")
    rows = np.arange(n)
    rows = np.sort(np.r_[rows, rng.choice(n, size=int(n * 0.006), replace=False)])[:n]  # exact duplicates
    number = pc.cast(pa.array(inv["number"][owner][rows]), pa.string())
    take = pa.array(product[rows])
    return pa.table({
        "InvoiceNo": pc.if_else(pa.array(cancelled[rows]), pc.binary_join_element_wise("C", number, ""), number),
        "StockCode": cat["codes"].take(take), "Description": cat["descriptions"].take(take),
        "Quantity": pa.array(quantity[rows], pa.int64()),
        "InvoiceDate": pa.array((_START + minutes)[rows].astype("datetime64[ns]")),
        "UnitPrice": pa.array(price[rows]),
        "CustomerID": pc.if_else(pa.array(customer[rows] < 0), pa.scalar(None, pa.float64()),
                                 pa.array((12_346 + customer[rows]).astype(np.float64))),
        "Country": pa.array(_COUNTRIES, pa.string()).take(pa.array(_country_of(customer[rows]))),
    }, schema=_SCHEMA)


def _pick_in_theme(rng: np.random.Generator, theme: np.ndarray, cat: dict[str, np.ndarray]) -> np.ndarray:
    """One product of each given theme, by popularity within the theme."""
    order = np.lexsort((np.arange(len(cat["theme"])), cat["theme"]))
    by_theme = cat["theme"][order]
    start = np.searchsorted(by_theme, np.arange(by_theme.max() + 2))
    weight = cat["weight"][order]
    cumulative = np.cumsum(weight)
    base = np.r_[0.0, cumulative][start[theme]]
    total = cumulative[start[theme + 1] - 1] - base
    position = np.searchsorted(cumulative, base + rng.random(len(theme)) * total, side="right")
    return order[np.minimum(position, start[theme + 1] - 1)]


def _repeated(owner: np.ndarray, product: np.ndarray) -> np.ndarray:
    """True for the second and later draws of a product within one invoice."""
    key = owner.astype(np.int64) * (int(product.max()) + 1) + product
    order = np.argsort(key, kind="stable")
    again = np.zeros(len(key), dtype=bool)
    again[order[1:]] = key[order[1:]] == key[order[:-1]]
    return again


def _country_of(customer: np.ndarray) -> np.ndarray:
    """A fixed country per customer (guests: United Kingdom)."""
    cumulative = np.cumsum(_p(_COUNTRY_WEIGHTS))
    draw = (customer * 2_654_435_761 % 2 ** 32) / 2 ** 32  # a deterministic hash of the customer number
    return np.where(customer < 0, 0, np.searchsorted(cumulative, draw, side="right").clip(0, len(_COUNTRIES) - 1))


def _p(weights) -> np.ndarray:
    weights = np.asarray(list(weights), dtype=float)
    return weights / weights.sum()


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m bench.synth --lines N [--seed S] [--output PATH]``."""
    parser = argparse.ArgumentParser(prog="python -m bench.synth", description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--lines", type=int, help="number of transaction lines (customers as in the real file)")
    size.add_argument("--retailer", type=int, metavar="CUSTOMERS",
                      help="this many customers, 2.85 orders and 11.4 lines each on average")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", help="Parquet file (default: bench/out/synth-<lines>.parquet, "
                                         "bench/out/retailer-<customers>.parquet)")
    args = parser.parse_args(argv)
    if args.retailer:
        output = args.output or Path(__file__).parent / "out" / f"retailer-{args.retailer}.parquet"
        info = generate(round(args.retailer * RETAILER_LINES_PER_CUSTOMER), output, args.seed,
                        customers=args.retailer, orders_per_customer=RETAILER_ORDERS_PER_CUSTOMER)
    else:
        output = args.output or Path(__file__).parent / "out" / f"synth-{args.lines}.parquet"
        info = generate(args.lines, output, args.seed)
    print(f"wrote {output}: " + ", ".join(f"{k} {v:,}" for k, v in info.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
