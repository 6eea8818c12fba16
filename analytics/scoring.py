"""The RFM scoring in use (``rfm.scoring``) and its alternative, for the drift comparison.

- ``quantiles``: 1–5 by quintile among the customers of each date (:func:`analytics.rfm.score_rfm`);
- ``fixed``: bounds per metric (:mod:`analytics.cutpoints`) from ``rfm.cutpoints``; metrics left out are
  frozen from the quintile scores of the customers at ``rfm.cutpoints_as_of`` (default: the oldest
  period end of the history).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import pandas as pd

from analytics.cutpoints import Cutpoints, fixed_scores, frozen_cutpoints
from analytics.errors import ConfigError
from analytics.history import customer_states
from analytics.rfm import score_rfm
from analytics.settings import RfmParams

__all__ = ["SCORINGS", "Scoring", "scorings"]

SCORINGS = ("quantiles", "fixed")


@dataclass(frozen=True)
class Scoring:
    """A way to score customers: its name, the scorer, its fixed bounds (None: quintiles) and their origin."""

    name: str
    scorer: Callable[[pd.DataFrame], pd.DataFrame]
    cutpoints: Cutpoints | None
    source: str


def scorings(params: RfmParams, sales: pd.DataFrame, ends: Sequence[pd.Timestamp],
             states: pd.DataFrame | None = None, returns: pd.DataFrame | None = None) -> tuple[Scoring, Scoring]:
    """``(active, alternative)`` scorings: the one ``rfm.scoring`` names, and the other one.

    ``states``: :func:`customer_states` of ``ends[:-1]``, reused when the reference date is one of them;
    ``returns``: given when monetary is net of returns (the reference date's customers are valued the same way).

    Raises:
        ConfigError: unknown ``rfm.scoring``, or a reference date with no customer before it.
    """
    if params.scoring not in SCORINGS:
        raise ConfigError(f"rfm.scoring {params.scoring!r} is not one of {list(SCORINGS)}.")
    quantiles = Scoring("quantiles", score_rfm, None, "quintiles among the customers of each date")
    fixed = _fixed(params, sales, ends, states, returns)
    return (quantiles, fixed) if params.scoring == "quantiles" else (fixed, quantiles)


def _fixed(params: RfmParams, sales: pd.DataFrame, ends: Sequence[pd.Timestamp],
           states: pd.DataFrame | None, returns: pd.DataFrame | None) -> Scoring:
    given = dict(params.cutpoints)
    if len(given) == 3:
        return Scoring("fixed", partial(fixed_scores, cutpoints=given), given, "rfm.cutpoints")
    reference = pd.Timestamp(params.cutpoints_as_of) if params.cutpoints_as_of else pd.Timestamp(ends[0])
    earlier = list(ends[:-1])
    if states is not None and reference in earlier:
        state = states[states["period"] == earlier.index(reference)]
    else:
        state = customer_states(sales, [reference], returns)
    if state.empty:
        raise ConfigError(f"rfm.cutpoints_as_of {reference.date()} is before the first sale: no customer to "
                          "freeze the score bounds from. Pick a later date or give rfm.cutpoints.")
    bounds = {**frozen_cutpoints(score_rfm(state)), **given}
    source = f"quintiles frozen on {reference.date()}" + (" and rfm.cutpoints" if given else "")
    return Scoring("fixed", partial(fixed_scores, cutpoints=bounds), bounds, source)
