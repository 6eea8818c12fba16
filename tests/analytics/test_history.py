"""Segment history on handmade transactions whose movements are worked out by hand in the comments."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import numpy as np
import pandas as pd
import pytest

from analytics.clean import clean_transactions
from analytics.cutpoints import cutpoint_table, fixed_scores, frozen_cutpoints
from analytics.errors import ConfigError
from analytics.history import build_history, customer_states, drift_share, movement_between, period_ends
from analytics.rfm import score_rfm, summarise_customers
from analytics.scoring import scorings
from analytics.segments import assign_segments, parse_scheme
from analytics.settings import BasketParams, CleaningParams, HistoryParams, RfmParams

# Segments by recency score only (F and M any): Active R4-5, Cooling R3, Lapsed R1-2; best first in that order.
BY_RECENCY_SPEC = {"name": "by-recency", "ranking": ["Active", "Cooling", "Lapsed"], "segments": [
    {"name": "Active", "priority": "High", "action": "a", "tactic": "t", "cells": [{"r": "4-5"}]},
    {"name": "Cooling", "priority": "Medium", "action": "a", "tactic": "t", "cells": [{"r": 3}]},
    {"name": "Lapsed", "priority": "Low", "action": "a", "tactic": "t", "cells": [{"r": "1-2"}]},
]}
BY_RECENCY = parse_scheme(BY_RECENCY_SPEC)
# Segments by frequency score only: Frequent F4-5, Regular F3, Occasional F1-2.
BY_FREQUENCY = parse_scheme({"name": "by-frequency", "ranking": ["Frequent", "Regular", "Occasional"], "segments": [
    {"name": "Frequent", "priority": "High", "action": "a", "tactic": "t", "cells": [{"f": "4-5"}]},
    {"name": "Regular", "priority": "Medium", "action": "a", "tactic": "t", "cells": [{"f": 3}]},
    {"name": "Occasional", "priority": "Low", "action": "a", "tactic": "t", "cells": [{"f": "1-2"}]},
]})
# R5 under 30 days, R4 30-59, R3 60-89, R2 90-119, R1 120+; F and M bounds irrelevant to these schemes.
BOUNDS = {"recency_days": (30.0, 60.0, 90.0, 120.0), "frequency": (2.0, 3.0, 4.0, 5.0),
          "monetary": (10.0, 20.0, 30.0, 40.0)}


def _sales(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """Sale lines (invoice, customer, date), one £10 item each (invoices starting with C would be cancellations)."""
    lines = pd.DataFrame([{"invoice": inv, "stock_code": "X", "description": "MUG", "quantity": 1,
                           "invoice_date": pd.Timestamp(day), "unit_price": 10.0, "customer_id": who,
                           "country": "France"} for inv, who, day in rows])
    return clean_transactions(lines.astype({"invoice_date": "datetime64[ns]"}), CleaningParams(), BasketParams()).sales


def _history(sales: pd.DataFrame, as_of: str, periods: int, scorer, scheme, active_days: int = 60):
    as_of = pd.Timestamp(as_of)
    ends = period_ends(as_of, sales["invoice_date"].min(), HistoryParams(period="month", periods=periods))
    current = assign_segments(scorer(summarise_customers(sales, as_of)), scheme)
    built = build_history(customer_states(sales, ends[:-1]), current, ends, scorer, scheme, active_days)
    return ends, replace(built, segments=built.segments.concat())  # the table, held whole


@pytest.fixture
def walk() -> pd.DataFrame:
    # S buys once on 1 Jan and stops; K buys on the 5th of every month; N buys for the first time on 20 May.
    rows = [("1", "S", "2024-01-01 10:00"), ("9", "N", "2024-05-20 09:00")]
    rows += [(f"K{m}", "K", f"2024-0{m}-05 12:00") for m in range(1, 6)]
    return _sales(rows)


def test_a_customer_who_stops_buying_walks_down_the_segments(walk):
    ends, history = _history(walk, "2024-06-01", 6, partial(fixed_scores, cutpoints=BOUNDS), BY_RECENCY)
    # ends 1 Jan … 1 Jun; 1 Jan 00:00 is before the first sale (1 Jan 10:00), so it is dropped
    assert [e.date().isoformat() for e in ends] == ["2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01",
                                                    "2024-06-01"]
    s = history.segments[history.segments["customer_id"] == "S"].set_index("period_end")
    # S's last purchase day 1 Jan: recency 31, 60, 91, 121, 152 days -> R4, R3, R2, R1, R1
    assert s["recency_days"].tolist() == [31, 60, 91, 121, 152]
    assert s["r_score"].tolist() == [4, 3, 2, 1, 1]
    assert s["segment"].tolist() == ["Active", "Cooling", "Lapsed", "Lapsed", "Lapsed"]
    columns = history.customers.set_index("customer_id")
    assert columns.loc["S", "previous_segment"] == "Cooling"
    assert columns.loc["S", "segment_since"] == pd.Timestamp("2024-04-01")  # first end seen Lapsed
    assert columns.loc["S", "movement"] == "same"  # Lapsed on 1 May and on 1 Jun
    # K bought within 30 days of every end: Active throughout, since the first end
    assert history.segments.loc[history.segments["customer_id"] == "K", "segment"].eq("Active").all()
    assert pd.isna(columns.loc["K", "previous_segment"]) and columns.loc["K", "segment_since"] == ends[0]
    # N: first purchase 20 May, a customer only at the last end
    assert columns.loc["N", "movement"] == "new" and columns.loc["N", "segment_since"] == pd.Timestamp("2024-05-20")
    periods = history.periods.set_index("period_end")
    # Feb->Mar: S Active->Cooling (down); Mar->Apr: Cooling->Lapsed (down) and, with 60 active days,
    # recency 60 -> 91 crosses the window: lapsed; May->Jun: N is new
    assert periods["downgraded"].tolist() == [1, 1, 0, 0]
    assert periods["lapsed_customers"].tolist() == [0, 1, 0, 0]
    assert periods["new_customers"].tolist() == [0, 0, 0, 1]
    # S never bought again: both of its changes happened without a purchase (R ages under fixed bounds too)
    assert periods["changed_without_purchase"].tolist() == [1, 1, 0, 0]


def test_high_value_slips_count_top_to_at_risk_moves_and_their_value_at_the_end(walk):
    scheme = parse_scheme({**BY_RECENCY_SPEC, "top_segments": ["Active", "Cooling"],
                           "at_risk_segments": ["Cooling", "Lapsed"]})
    _, history = _history(walk, "2024-06-01", 6, partial(fixed_scores, cutpoints=BOUNDS), scheme)
    periods = history.periods.set_index("period_end")
    # S: Active -> Cooling (Feb -> Mar), Cooling -> Lapsed (Mar -> Apr), then Lapsed (not a top segment);
    # K stays Active (not at risk); N is new. S's value at each end: one £10 item.
    assert periods["high_value_slipped"].tolist() == [1, 1, 0, 0]
    assert periods["high_value_slipped_value"].tolist() == [10.0, 10.0, 0.0, 0.0]


def test_quintiles_move_a_customer_who_did_not_buy_and_fixed_bounds_do_not():
    # On 1 Feb: A, B, C, D have 1 order, Q has 2. In February A-D buy twice more (3 orders each); Q buys nothing.
    rows = [(f"I{who}1", who, "2024-01-10") for who in "ABCD"] + [("Q1", "Q", "2024-01-03"), ("Q2", "Q", "2024-01-04")]
    rows += [(f"I{who}{n}", who, f"2024-02-{10 + n}") for who in "ABCD" for n in (2, 3)]
    sales = _sales(rows)
    # Quintiles on 1 Feb: A-D tie at rank 1 -> F1; Q rank 5 -> 1 + floor(5*4/5) = F5 (Frequent).
    # On 1 Mar: Q's 2 orders are now the fewest, rank 1 -> F1 (Occasional) although Q did not buy.
    ends, quantiles = _history(sales, "2024-03-01", 2, score_rfm, BY_FREQUENCY)
    q = quantiles.segments[quantiles.segments["customer_id"] == "Q"]
    assert q["f_score"].tolist() == [5, 1] and q["segment"].tolist() == ["Frequent", "Occasional"]
    assert quantiles.customers.set_index("customer_id").loc["Q", "movement"] == "down"
    # drift: 1 of the 5 customers present at both ends changed segment without buying
    assert drift_share(quantiles.periods) == pytest.approx(1 / 5)
    # Fixed bounds [2, 3, 4, 5]: Q has F2 (Occasional) at both ends; A-D go F1 -> F3, but they bought
    _, fixed = _history(sales, "2024-03-01", 2, partial(fixed_scores, cutpoints=BOUNDS), BY_FREQUENCY)
    assert fixed.segments.loc[fixed.segments["customer_id"] == "Q", "segment"].tolist() == ["Occasional"] * 2
    assert fixed.periods["upgraded"].tolist() == [4] and drift_share(fixed.periods) == 0.0
    # Bounds frozen from the quintiles of 1 Feb: F bounds [2, 2, 2, 2] (lowest F scored above 1 is Q's 2),
    # so Q keeps F5 and does not move either
    active, alternative = scorings(RfmParams(scoring="fixed"), sales, ends)
    assert active.name == "fixed" and alternative.name == "quantiles"
    assert active.cutpoints["frequency"] == (2.0, 2.0, 2.0, 2.0)
    _, frozen = _history(sales, "2024-03-01", 2, active.scorer, BY_FREQUENCY)
    assert frozen.segments.loc[frozen.segments["customer_id"] == "Q", "f_score"].tolist() == [5, 5]
    assert drift_share(frozen.periods) == 0.0


def test_states_use_only_lines_before_each_end_and_returns_when_given(walk):
    ends = [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-06-01")]
    states = customer_states(walk, ends).set_index(["period", "customer_id"])
    # by 1 Mar: S 1 order (£10), K 2 orders (5 Jan, 5 Feb); by 1 Jun: K 5 orders, N 1
    assert states["frequency"].to_dict() == {(0, "K"): 2, (0, "S"): 1, (1, "K"): 5, (1, "N"): 1, (1, "S"): 1}
    assert states.loc[(0, "K"), "last_purchase"] == pd.Timestamp("2024-02-05 12:00")
    assert states.loc[(0, "K"), "recency_days"] == 25  # 5 Feb -> 1 Mar
    returns = pd.DataFrame({"customer_id": ["K", "Z", "S"], "revenue": [-4.0, -7.0, -15.0],
                            "invoice_date": pd.to_datetime(["2024-04-01", "2024-04-01", "2024-02-01"])})
    net = customer_states(walk, ends, returns).set_index(["period", "customer_id"])["monetary"]
    # K: £50 of sales by 1 Jun minus the £4 returned on 1 Apr; Z has no sale and is ignored;
    # S: £10 bought, £15 returned (an order from before the data): floored at 0
    assert net[(0, "K")] == 20.0 and net[(1, "K")] == 46.0 and "Z" not in net.index.get_level_values(1)
    assert net[(0, "S")] == 0.0


def test_last_end_is_the_current_customers_table_and_matches_a_recomputation(walk):
    as_of = pd.Timestamp("2024-06-01")
    _, history = _history(walk, "2024-06-01", 3, score_rfm, BY_RECENCY)
    current = assign_segments(score_rfm(summarise_customers(walk, as_of)), BY_RECENCY)
    last = history.segments[history.segments["period_end"] == as_of].set_index("customer_id")
    assert last["segment"].to_dict() == current.set_index("customer_id")["segment"].to_dict()
    again = customer_states(walk, [as_of]).set_index("customer_id")
    assert again["frequency"].to_dict() == last["frequency"].to_dict()
    assert again["recency_days"].to_dict() == last["recency_days"].to_dict()


def test_movement_between_two_ends(walk):
    ends, history = _history(walk, "2024-06-01", 6, partial(fixed_scores, cutpoints=BOUNDS), BY_RECENCY)
    moves = movement_between(history.segments, ends[0], ends[-1], BY_RECENCY.ranked()).set_index("customer_id")
    assert moves.loc["S", ["from_segment", "to_segment", "movement"]].tolist() == ["Active", "Lapsed", "down"]
    assert moves.loc["K", "movement"] == "same" and moves.loc["N", "movement"] == "new"
    assert pd.isna(moves.loc["N", "from_segment"])


def test_fixed_scores_by_hand():
    frame = pd.DataFrame({"recency_days": [0, 29, 30, 239, 240], "frequency": [1, 2, 4, 5, 9],
                          "monetary": [0.0, 300.0, 599.99, 1200.0, 5000.0]})
    bounds = {"recency_days": (30, 60, 120, 240), "frequency": (2, 3, 5, 9), "monetary": (300, 600, 1200, 3000)}
    scored = fixed_scores(frame, bounds)
    assert scored["r_score"].tolist() == [5, 5, 4, 2, 1]  # a value at a bound takes the worse side for recency
    assert scored["f_score"].tolist() == [1, 2, 3, 4, 5]  # 4 orders: 2 bounds ≤ 4 -> F3; 5 -> F4; 9 -> F5
    assert scored["m_score"].tolist() == [1, 2, 2, 4, 5]
    assert scored["rfm_cell"].tolist() == ["511", "522", "432", "244", "155"]
    table = cutpoint_table(bounds).set_index(["metric", "score"])
    assert table.loc[("frequency", 4), ["lower", "upper", "unit"]].tolist() == [5.0, 9.0, "orders"]  # F4 = 5 to 8
    assert table.loc[("recency_days", 5), ["lower", "upper"]].tolist() == [0.0, 30.0]
    assert np.isnan(table.loc[("recency_days", 1), "upper"]) and np.isnan(table.loc[("monetary", 1), "lower"])


def test_frozen_bounds_reproduce_the_quintile_scores():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"recency_days": rng.integers(0, 400, 2000), "frequency": rng.geometric(0.4, 2000),
                          "monetary": rng.lognormal(6, 1, 2000).round(2)})
    quintiles = score_rfm(frame)
    again = fixed_scores(frame, frozen_cutpoints(quintiles))
    for column in ("r_score", "f_score", "m_score"):
        assert (again[column] == quintiles[column]).all()


def test_scores_by_period_equal_scores_of_each_period_alone(walk):
    states = customer_states(walk, [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-05-01")])
    together = score_rfm(states, by="period")
    alone = pd.concat([score_rfm(group) for _, group in states.groupby("period")])
    assert together["rfm_cell"].tolist() == alone["rfm_cell"].tolist()


def test_bad_history_and_scoring_settings_name_the_key(walk):
    with pytest.raises(ConfigError, match="history.period"):
        period_ends(pd.Timestamp("2024-06-01"), pd.Timestamp("2024-01-01"), HistoryParams(period="year"))
    with pytest.raises(ConfigError, match="history.periods"):
        period_ends(pd.Timestamp("2024-06-01"), pd.Timestamp("2024-01-01"), HistoryParams(periods=1))
    ends = [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-06-01")]
    with pytest.raises(ConfigError, match="rfm.scoring"):
        scorings(RfmParams(scoring="deciles"), walk, ends)
    with pytest.raises(ConfigError, match="rfm.cutpoints_as_of 2023-01-01 is before the first sale"):
        scorings(RfmParams(scoring="fixed", cutpoints_as_of=pd.Timestamp("2023-01-01").date()), walk, ends)


def test_cutpoints_and_history_keys_from_the_yaml(tmp_path):
    from analytics.settings import load_settings

    good = tmp_path / "good.yaml"
    good.write_text("rfm: {scoring: fixed, cutpoints: {frequency: [2, 3, 5, 9]}, cutpoints_as_of: 2011-06-01}\n"
                    "history: {period: week, periods: 8}\n")
    settings = load_settings({}, good)
    assert settings.rfm.cutpoints == {"frequency": (2.0, 3.0, 5.0, 9.0)}
    assert settings.rfm.cutpoints_as_of.isoformat() == "2011-06-01"
    assert (settings.history.period, settings.history.periods) == ("week", 8)
    for bad, message in (("{frequency: [3, 2, 5, 9]}", "rfm.cutpoints.frequency' must be 4 ascending"),
                         ("{orders: [1, 2, 3, 4]}", r"Unknown key\(s\) \['orders'\] in 'config.rfm.cutpoints'"),
                         ("[1, 2, 3, 4]", "'config.rfm.cutpoints' must be a mapping")):
        path = tmp_path / "bad.yaml"
        path.write_text(f"rfm: {{cutpoints: {bad}}}\n")
        with pytest.raises(ConfigError, match=message):
            load_settings({}, path)


def test_scheme_ranking_top_and_at_risk():
    raw = {"name": "x", "segments": [
        {"name": "Old", "priority": "Critical", "action": "a", "tactic": "t", "cells": [{"r": "1-2"}]},
        {"name": "Recent", "priority": "High", "action": "a", "tactic": "t", "cells": [{"r": "3-5"}]},
    ]}
    scheme = parse_scheme(raw)
    # no ranking given: by mean R+F+M of the cells, Recent (4+3+3) before Old (1.5+3+3)
    assert scheme.ranked() == ("Recent", "Old") and scheme.top() == ("Recent", "Old")
    assert scheme.at_risk() == ("Old",)  # the segments of the most urgent priority
    with pytest.raises(ConfigError, match="ranking of <scheme> must list every segment once"):
        parse_scheme({**raw, "ranking": ["Recent"]})
    with pytest.raises(ConfigError, match="top_segments of <scheme> must be a list of segment names"):
        parse_scheme({**raw, "top_segments": ["Nobody"]})


def test_pipeline_with_fixed_scoring_and_weekly_periods(bundled_lines):

    from analytics.pipeline import build_snapshot
    from analytics.segments import load_scheme
    from analytics.settings import load_settings

    settings = load_settings({})
    settings = replace(settings, rfm=replace(settings.rfm, scoring="fixed",
                                             cutpoints={"frequency": (2.0, 3.0, 5.0, 9.0)}),
                       history=HistoryParams(period="week", periods=6),
                       evaluation=replace(settings.evaluation, enabled=False))
    snapshot = build_snapshot(bundled_lines, settings, load_scheme(settings.segments.scheme))
    meta, tables = snapshot.meta["history"], snapshot.tables
    # 6 weekly ends back from 10 Dec 2011; R and M frozen from the quintiles of the oldest end, F from the YAML
    assert meta["period_ends"] == ["2011-11-05", "2011-11-12", "2011-11-19", "2011-11-26", "2011-12-03", "2011-12-10"]
    assert meta["scoring"] == "fixed" and meta["cutpoints"]["frequency"] == [2.0, 3.0, 5.0, 9.0]
    assert meta["cutpoints_source"] == "quintiles frozen on 2011-11-05 and rfm.cutpoints"
    customers = tables["customers"]
    again = fixed_scores(customers, {k: tuple(float("inf") if b is None else b for b in v)
                                     for k, v in meta["cutpoints"].items()})
    assert (again["f_score"] == customers["f_score"]).all() and (again["r_score"] == customers["r_score"]).all()
    f4 = tables["score_cutpoints"].set_index(["metric", "score"]).loc[("frequency", 4)]
    assert (f4["lower"], f4["upper"]) == (5.0, 9.0)  # F 4 = 5 to 8 orders
    assert len(tables["history_periods"]) == 5 and set(meta["drift"]) == {"fixed", "quantiles"}
    assert set(customers["movement"]) <= {"up", "down", "same", "new"}
