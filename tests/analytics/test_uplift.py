"""Campaign uplift: hand-made outcomes, the A/A honesty check and a synthetic uplift on the bundled data."""

from __future__ import annotations

from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics.audiences import build_audience
from analytics.clean import clean_transactions
from analytics.settings import CampaignParams, load_settings
from analytics.snapshot import parse_manifest, verify_table
from analytics.uplift import daily_activity, measure_campaigns, member_outcomes
from jobs.store import open_store

NOW = datetime(2026, 12, 3, tzinfo=timezone.utc)
AS_OF = date(2011, 9, 1)


def sale(customer: str, invoice: str, day: str, revenue: float) -> dict:
    return {"customer_id": customer, "invoice": invoice, "invoice_date": pd.Timestamp(day), "revenue": revenue}


def test_outcomes_per_member_by_hand():
    # Audience of 4 (as of 2024-02-01): A (target) bought twice after, returned £5; B (target) bought only
    # before the as-of date; C (control) bought once; D (control) nothing. E is not a member.
    sales = pd.DataFrame([sale("A", "1", "2024-02-03 10:00", 30.0), sale("A", "1", "2024-02-03 10:00", 10.0),
                          sale("A", "2", "2024-02-10 09:00", 20.0), sale("B", "3", "2024-01-20", 50.0),
                          sale("C", "4", "2024-02-05", 15.0), sale("E", "5", "2024-02-06", 99.0)])
    returns = pd.DataFrame([sale("A", "C6", "2024-02-12", -5.0), sale("B", "C7", "2024-01-25", -50.0)])
    members = pd.DataFrame({"customer_id": list("ABCD"), "segment": ["Loyal", "Loyal", "Loyal", "Loyal"]})
    audience = build_audience(members, name="x", note="", control_share=0.5, created_by="t", snapshot_version="v",
                              source="s", max_members=10, as_of=date(2024, 2, 1), now=NOW)
    audience = type(audience)(**{**audience.__dict__, "members": members.assign(
        group=["target", "target", "control", "control"])})
    current = pd.Series({"A": "Champions", "B": "Loyal", "C": "Hibernating", "D": "Loyal"})
    value = pd.Series({"Hibernating": 1, "Loyal": 2, "Champions": 3})
    out = member_outcomes(audience, daily_activity(sales, returns), current, value, pd.Timestamp("2024-02-12"))
    # A: invoices 1 and 2 → 2 orders, 30 + 10 + 20 - 5 = £55, first on 3 Feb, Loyal → Champions (upgrade)
    assert out["orders"].tolist() == [2, 0, 1, 0]
    assert out["net_revenue"].tolist() == [55.0, 0.0, 15.0, 0.0]  # B's purchase and return were before
    assert out["bought"].tolist() == [True, False, True, False]
    assert out["upgraded"].tolist() == [True, False, False, False]
    assert out["first_day"].iloc[0] == pd.Timestamp("2024-02-03") and pd.isna(out["first_day"].iloc[1])


@pytest.fixture(scope="module")
def bundled(bundled_lines, published_store):
    """Cleaned bundled sales and returns, and the customers and segments of its published snapshot."""
    settings = load_settings({"STORE_URL": published_store})
    cleaned = clean_transactions(bundled_lines, settings.cleaning, settings.baskets)
    store = open_store(settings.store)
    manifest = parse_manifest(store.read_manifest(store.current_version()))
    tables = {name: verify_table(manifest, name, store.read_table(manifest["version"], name))
              for name in ("customers", "segments")}
    return cleaned, tables["customers"], tables["segments"]


def random_audiences(customers: pd.DataFrame, count: int, size: int, share: float, seed: int) -> list:
    """``count`` audiences of ``size`` random customers who had bought before AS_OF (nobody was contacted)."""
    eligible = customers[customers["first_purchase"] < pd.Timestamp(AS_OF)][["customer_id", "segment"]]
    rng = np.random.default_rng(seed)
    return [build_audience(eligible.sample(size, random_state=int(rng.integers(2**31))), name=f"A/A {i}", note="",
                           control_share=share, created_by="test", snapshot_version="v", source="random",
                           max_members=10**6, as_of=AS_OF, now=NOW, audience_id=f"aud-{seed:04x}{i:08x}")
            for i in range(count)]


def test_a_a_audiences_show_significant_uplift_about_5_percent_of_the_time(bundled):
    """200 random audiences as of 2011-09-01, measured to 9 Dec 2011: nobody was contacted, so every
    "significant" result is a false positive. Expected 10 of 200; the binomial(200, 0.05) range holding
    99.8 % of outcomes is 2-20 (scipy.stats.binom.ppf(0.001 / 0.999))."""
    cleaned, customers, segments = bundled
    tables = measure_campaigns(random_audiences(customers, 200, 1000, 0.2, seed=1), cleaned.sales, cleaned.returns,
                               customers, segments, CampaignParams())
    low, high = stats.binom.ppf(0.001, 200, 0.05), stats.binom.ppf(0.999, 200, 0.05)
    positives = tables.results.groupby("metric")["significant"].sum()
    assert low <= positives["bought"] <= high  # measured: 13 of 200 (6.5 %)
    assert low <= positives["orders"] <= high  # measured: 17 of 200 (8.5 %)
    assert tables.campaigns["verdict"].str.startswith("Not enough evidence yet").sum() == 200 - positives["bought"]
    assert (tables.campaigns["days"] == 100).all()  # 1 Sep to 9 Dec 2011


def test_a_synthetic_uplift_is_detected_with_its_size(bundled):
    """Give 150 target members who bought nothing after the as-of date one extra £50 order on 15 Sep 2011:
    the share who bought rises by exactly 150 / n_target within each stratum (weighted the same way), orders
    per member by the same, net revenue per member by £50 × that."""
    cleaned, customers, segments = bundled
    [audience] = random_audiences(customers, 1, 3000, 0.5, seed=2)
    before = measure_campaigns([audience], cleaned.sales, cleaned.returns, customers, segments, CampaignParams())
    buyers = set(cleaned.sales.loc[cleaned.sales["invoice_date"] >= pd.Timestamp(AS_OF), "customer_id"].astype(str))
    target = audience.members[audience.members["group"] == "target"]
    lucky = target[~target["customer_id"].isin(buyers)].head(150)
    extra = pd.DataFrame({"invoice": [f"X{i}" for i in range(len(lucky))], "customer_id": lucky["customer_id"],
                          "invoice_date": pd.Timestamp("2011-09-15 12:00"), "revenue": 50.0})
    sales = pd.concat([cleaned.sales.astype({"customer_id": "str", "invoice": "str"}), extra], ignore_index=True)
    after = measure_campaigns([audience], sales, cleaned.returns, customers, segments, CampaignParams())
    old, new = (t.results.set_index("metric") for t in (before, after))
    # expected shift: Σ_s w_s × added_s / n_target,s (percentage points for the share)
    members = audience.members.assign(lucky=audience.members["customer_id"].isin(lucky["customer_id"]))
    cells = members.groupby("segment").agg(n=("group", "size"), target=("group", lambda g: (g == "target").sum()),
                                           added=("lucky", "sum"))
    cells = cells[cells["target"] >= 2]
    shift = float((cells["n"] / cells["n"].sum() * cells["added"] / cells["target"]).sum())
    assert new.loc["bought", "difference"] - old.loc["bought", "difference"] == pytest.approx(shift * 100)
    assert new.loc["orders", "difference"] - old.loc["orders", "difference"] == pytest.approx(shift)
    assert new.loc["net_revenue", "difference"] - old.loc["net_revenue", "difference"] == pytest.approx(50 * shift)
    assert 9 < shift * 100 < 11  # 150 of about 1,500 target members: 10 points
    assert new.loc["bought", "significant"] and new.loc["bought", "ci_low"] > 0
    assert new.loc["bought", "ci_low"] <= shift * 100 <= new.loc["bought", "ci_high"]  # the truth is inside
    assert after.campaigns["verdict"].iloc[0].startswith("Target bought more: +")
    assert not before.campaigns["significant"].iloc[0]


def test_no_audience_gives_empty_typed_tables(bundled):
    cleaned, customers, segments = bundled
    tables = measure_campaigns([], cleaned.sales, cleaned.returns, customers, segments, CampaignParams())
    assert tables.campaigns.empty and list(tables.daily.columns)[:3] == ["audience_id", "day", "group"]
    assert str(tables.campaigns["as_of"].dtype).startswith("datetime64")


def test_an_audience_created_after_the_data_ends_waits_for_data(bundled):
    cleaned, customers, segments = bundled
    [audience] = random_audiences(customers, 1, 200, 0.1, seed=3)
    today = type(audience)(**{**audience.__dict__, "as_of": date(2026, 12, 3), "backdated": False})
    row = measure_campaigns([today], cleaned.sales, cleaned.returns, customers, segments,
                            CampaignParams()).campaigns.iloc[0]
    assert row["days"] == 0 and row["verdict"].startswith("Waiting for data")
    # 179 target, 21 control (rounding per segment), unknown base rate → 50 %:
    # 2.8016 × sqrt(0.25 × (1/179 + 1/21)) = 2.8016 × 0.11533 = 32.31 points
    assert (row["target"], row["control"]) == (179, 21)
    assert row["mde_points"] == pytest.approx(32.31, abs=0.01) and "too small to detect" in row["power_warning"]
