"""Wiring of the analytics stages: canonical transaction lines in, snapshot tables out.

Each stage is a pure function of tables; this module only calls them in order, times them and
collects the meta. A different engine can replace any stage as long as it returns the same tables.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Iterator

import pandas as pd

from analytics import schema as s
from analytics._categories import as_categories
from analytics.aside import Aside, Later
from analytics.audiences import Audience
from analytics.blocklist import blocklist_report
from analytics.clean import clean_transactions
from analytics.cutpoints import cutpoint_table, frozen_cutpoints, jsonable
from analytics.engines import Engine, PandasEngine
from analytics.evaluate import evaluate_recommendations
from analytics.forecast import FORECAST_COLUMNS, forecast, with_forecast
from analytics.history import History, build_history, customer_states, drift_share, history_periods, period_ends
from analytics.kpis import (
    headline_kpis,
    monthly_by_segment,
    pareto_by_segment,
    pareto_curve,
    segment_top_products,
    summarise_segments,
)
from analytics.orders import by_customer_blocks, customer_products, customer_ranges, order_history, order_lines
from analytics.products import product_buyers, product_names
from analytics.recommend import bought_pairs, recommendation_blocks
from analytics.rfm import as_of_date
from analytics.risk import score_risk
from analytics.rules import basket_matrix, rules_from_baskets, with_recent_rules
from analytics.scoring import Scoring, scorings
from analytics.segment_rules import SEGMENT_RULE_COLUMNS, mine_segment_rules
from analytics.segments import SegmentScheme, assign_segments
from analytics.settings import Settings
from analytics.snapshot import Blocks, Encoded, Snapshot, decode_table, encode
from analytics.uplift import measure_campaigns

__all__ = ["build_snapshot", "StageHook", "TableSink"]

StageHook = Callable[[str, float, Mapping[str, int]], None]
TableSink = Callable[[str, "pd.DataFrame | Blocks | Encoded"], None]
_LIBRARIES = ("pandas", "numpy", "pyarrow", "mlxtend", "scipy", "pymc-marketing", "pymc", "pytensor")


def build_snapshot(lines: pd.DataFrame | Callable[[], pd.DataFrame], settings: Settings, scheme: SegmentScheme,
                   source: Mapping[str, Any] | None = None, on_stage: StageHook | None = None,
                   audiences: Sequence[Audience] = (), engine: Engine | None = None,
                   emit: TableSink | None = None, aside: Aside | None = None) -> Snapshot:
    """Run every analytics stage on canonical transaction lines.

    Args:
        lines: output of ``analytics.load.read_transactions``, or a function returning it, called once: then
            only this function holds the lines, and releases them once cleaned (unless the engine reads them).
        settings: full settings; each stage receives its own slice.
        scheme: validated segment scheme.
        source: description of the input (path, sha256, bytes) recorded in the meta (read after ``lines``
            is called).
        on_stage: called after each stage with (stage name, seconds, row counts).
        audiences: campaign audiences (read from the store by the job) whose uplift is measured.
        engine: computes the line-scale aggregates (``analytics.engines``); default: pandas.
        emit: called with each snapshot table as soon as it is built (e.g. ``SnapshotEncoder.add``), which is
            then dropped: the returned snapshot has no tables, only the meta. The largest tables come as
            ``Blocks`` of rows, which ``emit`` must read before returning. Default: the snapshot holds them.
        aside: runs what needs only the cleaned lines (the forecast, the usual products and order lines) from
            the end of cleaning to the stages that use it, e.g. in a second process; default: ``Later``, in this
            process when it is used. ``emit`` gets these two tables ``Encoded`` (to be built in either place).
    """
    engine = engine or PandasEngine()
    aside = aside or Later()
    timer = _StageTimer(on_stage)
    tables = _Tables(emit)
    if callable(lines):
        lines = lines()
    with timer.stage("clean") as rows:
        lines = as_categories(lines)  # text keys as integer codes from here on (analytics/_categories.py)
        cleaned = clean_transactions(lines, settings.cleaning, settings.baskets)
        names = product_names(lines)
        rows.update(sales=len(cleaned.sales), returns=len(cleaned.returns), basket_lines=len(cleaned.basket_lines))
        if not engine.reads_lines:
            lines = lines.iloc[:0]  # the loaded lines are released here (the caller passed a function)
    if cleaned.sales.empty:
        from analytics.errors import InputDataError
        raise InputDataError("No sale lines left after cleaning: every line is a cancellation, has a quantity or "
                             "price ≤ 0, or has no customer id. Check the input file and the column mapping.")
    with timer.stage("rfm") as rows:
        as_of = as_of_date(cleaned.sales, settings.rfm.as_of)
        forecasting = aside.submit(forecast, cleaned.sales[list(FORECAST_COLUMNS["sales"])],
                                   cleaned.returns[list(FORECAST_COLUMNS["returns"])], as_of, settings.predictive,
                                   settings.risk)
        tabling = aside.submit(_order_tables, cleaned.sales[[*_ORDER_LINE_COLUMNS, s.INVOICE_DATE, "is_service"]],
                               cleaned.returns[[*_ORDER_LINE_COLUMNS, s.INVOICE_DATE]], names,
                               not engine.builds_orders)
        ends = period_ends(as_of, cleaned.sales[s.INVOICE_DATE].min(), settings.history)
        # the customers at the earlier period ends, valued like the current ones (net of returns, or gross)
        returns = cleaned.returns if settings.rfm.monetary == "net" else None
        # the history reads neither purchase date of the earlier states (100 MB at 1 M customers)
        states = customer_states(cleaned.sales, ends[:-1], returns).drop(columns=["first_purchase", "last_purchase"])
        scoring, alternative = scorings(settings.rfm, cleaned.sales, ends, states, returns)
        customers = engine.customers(lines, cleaned, as_of, settings)
        customers = scoring.scorer(customers)
        rows.update(customers=len(customers), all_returned=int((customers["net_value"] <= 0).sum()))
    with timer.stage("segments") as rows:
        customers = score_risk(assign_segments(customers, scheme), settings.risk)
        rows.update(segments=customers["segment"].nunique(), at_risk=int(customers["at_risk"].sum()))
    with timer.stage("history") as rows:
        history, history_meta = _history(states, customers, ends, scoring, alternative, scheme, settings)
        customers = customers.merge(history.customers, on=s.CUSTOMER_ID, how="left")
        tables.put("segment_history", history.segments)  # built and encoded block by block
        rows.update(periods=len(ends), segment_history=history.segments.rows)
        history_periods = history.periods
        del history, states  # the earlier periods' customers are not read after the history
    with timer.stage("baskets") as rows:
        baskets = basket_matrix(cleaned.basket_lines)
        rows.update(baskets=baskets.count, items=len(baskets.items))
    with timer.stage("mining") as rows:
        params = settings.recommendations
        full_history = rules_from_baskets(baskets, settings.rules, names)
        rules = with_recent_rules(full_history, baskets, cleaned.basket_lines, settings.rules, names, as_of,
                                  params.recent_rules_days, params.recent_rules_min_support)
        blocked = blocklist_report(cleaned.basket_lines, names, settings.rules)
        rows.update(rules=len(full_history), recent_rules=len(rules) - len(full_history),
                    redundant=int(rules["redundant"].sum()), blocked_products=len(blocked["products"]))
    segment_rules = pd.DataFrame(columns=SEGMENT_RULE_COLUMNS)
    segment_cost: dict[str, dict] = {}
    if settings.rules.segment_rules:
        with timer.stage("segment_rules") as rows:
            segment_rules, segment_cost = mine_segment_rules(baskets, cleaned.basket_lines, customers,
                                                             settings.rules, names)
            rows.update(segments=len(segment_cost), rules=len(segment_rules),
                        baskets=sum(cost["baskets"] for cost in segment_cost.values()))
    quality = None
    if settings.evaluation.enabled:
        with timer.stage("evaluation") as rows:
            quality = evaluate_recommendations(cleaned, names, settings, scheme,
                                               split=as_of - pd.Timedelta(days=settings.evaluation.holdout_days),
                                               until=as_of, baskets=baskets)
            rows.update(customers=quality["customers_evaluated"])
    # the recommendations are evaluated first (no table depends on it), so that the basket lines, read by
    # no later stage, are released before the recommendations are built
    cleaned = replace(cleaned, basket_lines=cleaned.basket_lines.iloc[:0])
    with timer.stage("recommendations") as rows:
        bought = bought_pairs(cleaned.sales)
        codes = [product["stock_code"] for product in blocked["products"]]  # never recommended
        allowed = bought[~bought[s.STOCK_CODE].astype(str).isin(codes).to_numpy()] if codes else bought
        recommendations, counts = recommendation_blocks(customers, allowed, rules, names, params)
        del allowed
        tables.put("recommendations", recommendations)  # built and encoded block by block
        rows.update(recommendations=recommendations.rows)
        coverage = _coverage(counts, len(customers))
        del recommendations
    with timer.stage("predictions") as rows:
        predictions = with_forecast(customers, forecasting.result(), settings.dashboard.currency)
        del forecasting
        customers = predictions.customers
        rows.update(customers=int(customers["expected_orders_90d"].notna().sum()),
                    backtest_customers=(predictions.meta.get("backtest") or {}).get("customers", 0))
    with timer.stage("kpis") as rows:
        line_tables = engine.tables(lines, cleaned, baskets, names, settings)  # orders, products, monthly...
        del lines, baskets
        tables.put("customers", customers[list(s.TABLES["customers"])])
        segments = summarise_segments(customers, scheme)
        tables.put("segments", segments)
        tables.put("segment_products", segment_top_products(cleaned.sales, bought, customers, names,
                                                            settings.segments.top_products, cleaned.returns))
        for name in ("products", "product_monthly"):
            tables.put(name, line_tables.pop(name))
        tables.put("product_buyers", product_buyers(bought))
        del bought
        tables.put("rules", rules)
        tables.put("segment_rules", segment_rules)
        if engine.builds_orders:
            tables.put("orders", line_tables.pop("orders"))
        tables.put("kpis", headline_kpis(customers, cleaned.sales, cleaned.returns, settings.rfm.active_days,
                                         cleaned.guest_sales))
        tables.put("pareto", pareto_curve(customers["monetary"]))
        tables.put("monthly", line_tables.pop("monthly"))
        tables.put("pareto_by_segment", pareto_by_segment(customers))
        tables.put("monthly_by_segment", monthly_by_segment(cleaned.sales, cleaned.returns, customers))
        tables.put("history_periods", history_periods)
        tables.put("score_cutpoints", cutpoint_table(history_meta["cutpoints_in_use"]))
        for name, frame in predictions.tables.items():
            tables.put(name, frame)
        # last: the order tables may still be being built aside
        for name, table in tabling.result().items():  # (orders,) usual products and order lines, encoded
            tables.put(name, table)
        del tabling
        rows.update(tables.rows)
    with timer.stage("campaigns") as rows:
        campaigns = measure_campaigns(audiences, cleaned.sales, cleaned.returns, customers, segments,
                                      settings.campaigns)
        tables.put("campaigns", campaigns.campaigns)
        tables.put("campaign_results", campaigns.results)
        tables.put("campaign_daily", campaigns.daily)
        rows.update(audiences=len(campaigns.campaigns), significant=int(campaigns.campaigns["significant"].sum()))
    meta = {
        "source": dict(source or {}),
        "as_of": as_of.date().isoformat(),
        "period": {"start": cleaned.sales[s.INVOICE_DATE].min().isoformat(),
                   "end": cleaned.sales[s.INVOICE_DATE].max().isoformat()},
        "currency": settings.dashboard.currency,
        "segment_scheme": scheme.name,
        "history": {k: v for k, v in history_meta.items() if k != "cutpoints_in_use"},
        "parameters": settings.analytics_parameters(),
        "cleaning": cleaned.report,
        "coverage": coverage,
        "rules": {"rules": len(rules), "redundant": int(rules["redundant"].sum()), "blocklist": blocked,
                  "segments": segment_cost},
        "recommendation_quality": quality,
        "predictive": predictions.meta,
        "engine": engine.name,
        "durations_s": timer.durations,
        "rows": timer.rows,
        "libraries": _library_versions(),
    }
    return Snapshot(tables=tables.held, meta=meta)


def _history(states: pd.DataFrame, customers: pd.DataFrame, ends: list[pd.Timestamp], scoring: Scoring,
             alternative: Scoring, scheme: SegmentScheme, settings: Settings) -> tuple[History, dict[str, Any]]:
    """The segment history under the active scoring, and its meta: ends, drift under both scorings, bounds."""
    active_days = settings.rfm.active_days
    # the other scoring's periods first: its grid is gone before the history's, held until its table is
    # encoded, is built (about 1 GB at 1 M customers)
    other_now = assign_segments(alternative.scorer(customers), scheme)
    other = history_periods(states, other_now, ends, alternative.scorer, scheme, active_days)
    del other_now
    history = build_history(states, customers, ends, scoring.scorer, scheme, active_days)
    in_use = scoring.cutpoints or frozen_cutpoints(customers)
    meta = {
        "period": settings.history.period, "period_ends": [end.date().isoformat() for end in ends],
        "ranking": list(scheme.ranked()), "top_segments": list(scheme.top()),
        "at_risk_segments": list(scheme.at_risk()),
        "scoring": scoring.name, "cutpoints_source": scoring.source, "cutpoints": jsonable(in_use),
        "drift": {scoring.name: drift_share(history.periods), alternative.name: drift_share(other)},
        "cutpoints_in_use": in_use,
    }
    return history, meta


_ORDER_LINE_COLUMNS = (s.CUSTOMER_ID, s.INVOICE, s.STOCK_CODE, s.QUANTITY, s.UNIT_PRICE, s.REVENUE)


def _order_tables(sales: pd.DataFrame, returns: pd.DataFrame, names: pd.Series,
                  with_orders: bool) -> dict[str, Encoded]:
    """The customers' orders (``with_orders``: the engine does not build them), usual products and their orders'
    lines, encoded (a task of ``build_snapshot``'s aside); each built one block of customers at a time."""
    ranges = customer_ranges(sales, returns)  # one sort of the lines for the three tables
    orders = {"orders": encode(by_customer_blocks(order_history, sales, returns, ranges))} if with_orders else {}
    # usual products before the order lines: what the order lines' text leaves in Arrow's pool until the next
    # table would add to their peak
    usual = by_customer_blocks(lambda sold, _: customer_products(sold, names), sales, returns, ranges)
    return {**orders, "customer_products": encode(usual),
            "order_lines": encode(by_customer_blocks(lambda sold, returned: order_lines(sold, returned, names),
                                                     sales, returns, ranges))}


def _coverage(counts: Mapping[str, int], n_customers: int) -> dict[str, float]:
    """Share of customers with at least one rule-based recommendation, and how many have any."""
    return {"rule_based_share": counts["customers_with_rules"] / n_customers if n_customers else 0.0,
            "customers_with_recommendations": counts["customers_with_recommendations"]}


def _library_versions() -> dict[str, str]:
    found = {}
    for name in _LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "unknown"
    return found


class _Tables:
    """The snapshot tables as they are built: handed to ``emit`` and dropped, or held; their row counts."""

    def __init__(self, emit: TableSink | None) -> None:
        self.emit = emit
        self.held: dict[str, pd.DataFrame] = {}
        self.rows: dict[str, int] = {}

    def put(self, name: str, table: pd.DataFrame | Blocks | Encoded) -> None:
        if self.emit is None:
            self.held[name] = (table.concat() if isinstance(table, Blocks)
                               else decode_table(table.data) if isinstance(table, Encoded) else table)
        else:
            self.emit(name, table)
        self.rows[name] = table.rows if isinstance(table, (Blocks, Encoded)) else len(table)


class _StageTimer:
    """Times named stages and reports them to a hook."""

    def __init__(self, hook: StageHook | None) -> None:
        self.hook = hook
        self.durations: dict[str, float] = {}
        self.rows: dict[str, dict[str, int]] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[dict[str, int]]:
        rows: dict[str, int] = {}
        start = time.perf_counter()
        yield rows
        self.durations[name] = round(time.perf_counter() - start, 3)
        self.rows[name] = {k: int(v) for k, v in rows.items()}
        if self.hook:
            self.hook(name, self.durations[name], self.rows[name])
