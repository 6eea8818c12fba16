"""Fixed RFM cut-points (``rfm.scoring: fixed``): scores from bounds instead of quintiles.

Quintile scores are relative: a customer's score can change without buying because other customers did.
Fixed bounds make a score a property of the customer alone. Each metric has 4 ascending bounds; a score
covers ``lower ≤ value < upper``:

- frequency and monetary (higher is better): score = 1 + number of bounds ≤ value.
  ``frequency: [2, 3, 5, 9]`` → F1 = 1 order, F2 = 2, F3 = 3–4, F4 = 5–8, F5 = 9 or more;
- recency_days (lower is better): score = 5 − number of bounds ≤ value.
  ``recency_days: [30, 60, 120, 240]`` → R5 = 0–29 days, R4 = 30–59, …, R1 = 240 days or more.

:func:`frozen_cutpoints` reads the bounds off quintile scores (the same scores on those customers), which
is how bounds are frozen from a reference date and how the quintile bounds in use are published.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analytics.rfm import rfm_cells

__all__ = ["METRICS", "Cutpoints", "cutpoint_table", "fixed_scores", "frozen_cutpoints", "jsonable"]

# metric -> (score column, higher is better, unit, lowest possible value)
METRICS = {
    "recency_days": ("r_score", False, "days", 0.0),
    "frequency": ("f_score", True, "orders", 1.0),
    "monetary": ("m_score", True, "money", float("nan")),
}
Cutpoints = Mapping[str, tuple[float, ...]]  # metric -> 4 ascending bounds (inf: nobody reaches the score)


def fixed_scores(customers: pd.DataFrame, cutpoints: Cutpoints, by: str | None = None) -> pd.DataFrame:
    """Add r_score, f_score, m_score (1–5, 5 best) from the bounds, and rfm_cell ("545").

    ``by`` is accepted like :func:`analytics.rfm.score_rfm`'s and changes nothing: bounds are absolute.
    """
    scores = {}
    for metric, (column, higher_is_better, _, _) in METRICS.items():
        above = np.searchsorted(np.asarray(cutpoints[metric], dtype=float), customers[metric].to_numpy(dtype=float),
                                side="right")
        scores[column] = pd.Series((1 + above if higher_is_better else 5 - above).astype("int8"), index=customers.index)
    scored = customers.assign(**scores)
    return scored.assign(rfm_cell=rfm_cells(scored))


def frozen_cutpoints(scored: pd.DataFrame) -> dict[str, tuple[float, ...]]:
    """The bounds that give the same scores as ``scored`` (monotone scores, e.g. quintiles) to its customers.

    Higher is better: bound k = lowest value scored above k. Recency: bound k = lowest recency scored
    5 − k or less. A score nobody holds gives a bound of +inf (or equal neighbouring bounds).
    """
    bounds = {}
    for metric, (column, higher_is_better, _, _) in METRICS.items():
        values, score = scored[metric].to_numpy(dtype=float), scored[column].to_numpy()
        found = []
        for k in range(1, 5):
            holders = values[score >= k + 1] if higher_is_better else values[score <= 5 - k]
            found.append(float(holders.min()) if len(holders) else float("inf"))
        bounds[metric] = tuple(found)
    return bounds


def cutpoint_table(cutpoints: Cutpoints) -> pd.DataFrame:
    """One row per metric and score: metric, score, lower (inclusive), upper (exclusive; NaN: no bound), unit."""
    rows = []
    for metric, (_, higher_is_better, unit, lowest) in METRICS.items():
        edges = [lowest, *cutpoints[metric], float("inf")]
        for i in range(5):
            score = i + 1 if higher_is_better else 5 - i
            lower = edges[i] if np.isfinite(edges[i]) or i == 0 else float("nan")
            upper = edges[i + 1] if np.isfinite(edges[i + 1]) else float("nan")
            rows.append({"metric": metric, "score": score, "lower": float(lower), "upper": float(upper), "unit": unit})
    return pd.DataFrame(rows).astype({"score": "int64"})


def jsonable(cutpoints: Cutpoints) -> dict[str, list[float | None]]:
    """Bounds for the snapshot meta (JSON has no infinity: None)."""
    return {metric: [b if np.isfinite(b) else None for b in bounds] for metric, bounds in cutpoints.items()}
