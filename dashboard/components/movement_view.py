"""Movement page pieces: customers moving between segments from one period end to another.

Inputs are the snapshot's ``segment_history`` rows and the ``history`` entry of its manifest (period ends,
the scheme's ranking best first, top and at-risk segments, active days in ``parameters.rfm``). Pure
functions from tables to frames, figures and components; the pages only wire them.

Movement of a customer from the start to the end: ``up`` (to a segment ranked better), ``down``, ``same``,
or ``new`` (not a customer yet at the start: they come from the "Not yet a customer" node). Value is
the customer's net value (monetary) at the end; negative values count as 0 in the Sankey.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html
from dash.development.base_component import Component
from plotly.colors import sample_colorscale

from dashboard.components import format as fmt
from dashboard.components.charts import money_template, styled
from dashboard.components.grid_query import choice_filter_params
from dashboard.components.segment_view import slug
from dashboard.components.shell import page_href
from dashboard.i18n import N_, _, ngettext

__all__ = [
    "DEFAULT_SORT",
    "GRID_COLUMNS",
    "LISTS",
    "MEASURES",
    "NEW",
    "PATH",
    "TIEBREAK",
    "column_defs",
    "downgrades",
    "executive_summary",
    "flow_from_click",
    "flows",
    "grid_rows",
    "history_meta",
    "list_title",
    "period_window",
    "sankey_figure",
    "scoped_moves",
    "segment_colors",
    "shown_name",
    "summary_badges",
    "transition_matrix",
    "transitions",
    "window_counts",
]

PATH = "/movement"
NEW = N_("Not yet a customer")  # an id in URLs (from_segment=…): shown through the catalogue
MEASURES = ("customers", "value")
LISTS = ("flow", "downgrades")
GRID_COLUMNS = {"customer_id": "text", "from_segment": "choice", "to_segment": "choice", "movement": "choice",
                "monetary": "number", "frequency": "number", "recency_days": "number"}
DEFAULT_SORT = (("monetary", False),)  # most valuable first
TIEBREAK = "customer_id"
_MOVE_COLORS = {"up": "rgba(47,111,79,0.45)", "down": "rgba(192,57,43,0.45)", "same": "rgba(152,164,176,0.35)",
                "new": "rgba(108,142,191,0.45)"}


MOVEMENT_LABELS = {"up": N_("up"), "down": N_("down"), "same": N_("same"), "new": N_("new")}


def shown_name(name: str, names: Mapping[str, str] | None = None) -> str:
    """A segment's name to show (``names[name]``, the scheme's label in the page's language), or the newcomers'."""
    return _(NEW) if name == NEW else (names or {}).get(name, name)


def history_meta(manifest: Mapping) -> dict:
    """The manifest's ``history`` entry (empty for snapshots published before the history existed)."""
    found = manifest.get("history")
    return found if isinstance(found, dict) else {}


def period_window(manifest: Mapping, start: object, end: object) -> tuple[str, str] | None:
    """A valid ``(start, end)`` pair of period ends (ISO dates), start before end; default: previous → last.

    None when the snapshot has fewer than two period ends.
    """
    ends = [str(e) for e in history_meta(manifest).get("period_ends", [])]
    if len(ends) < 2:
        return None
    end = end if end in ends else ends[-1]
    start = start if start in ends and start < end else None
    if start is None:
        before = [e for e in ends if e < end]
        start = before[-1] if before else ends[-2]
        end = end if before else ends[-1]
    return start, end


def segment_colors(ranking: Sequence[str]) -> dict[str, str]:
    """A colour per segment: green for the best of the ranking to red for the worst; grey for newcomers."""
    shades = sample_colorscale("RdYlGn", [1 - i / max(len(ranking) - 1, 1) for i in range(len(ranking))])
    return {**dict(zip(ranking, shades, strict=True)), NEW: "#98a4b0"}


def transitions(history: pd.DataFrame, start: str, end: str, ranking: Sequence[str],
                active_days: int) -> pd.DataFrame:
    """The customers at ``end`` with where they were at ``start``.

    Returns:
        customer_id, from_segment (NEW when not a customer yet), to_segment, movement (up/down/same/new),
        monetary, frequency, recency_days (at ``end``), lapsed (active at start, not at end).
    """
    later = history[history["period_end"] == pd.Timestamp(end)]
    earlier = history.loc[history["period_end"] == pd.Timestamp(start), ["customer_id", "segment", "recency_days"]]
    joined = later.merge(earlier.rename(columns={"segment": "from_segment", "recency_days": "recency_before"}),
                         on="customer_id", how="left")
    rank = {name: i for i, name in enumerate(ranking)}
    before = joined["from_segment"].map(rank)
    after = joined["segment"].map(rank)
    movement = pd.Series("same", index=joined.index, dtype="str")
    movement[after < before] = "up"
    movement[after > before] = "down"
    movement[before.isna()] = "new"
    return pd.DataFrame({
        "customer_id": joined["customer_id"], "from_segment": joined["from_segment"].fillna(NEW).astype("str"),
        "to_segment": joined["segment"].astype("str"), "movement": movement, "monetary": joined["monetary"],
        "frequency": joined["frequency"], "recency_days": joined["recency_days"],
        "lapsed": (joined["recency_before"] <= active_days) & (joined["recency_days"] > active_days),
    })


def flows(moves: pd.DataFrame) -> pd.DataFrame:
    """from_segment, to_segment, movement, customers, value (sum of monetary, negatives as 0)."""
    grouped = moves.assign(value=moves["monetary"].clip(lower=0)).groupby(
        ["from_segment", "to_segment", "movement"], observed=True, sort=False)
    return grouped.agg(customers=("customer_id", "size"), value=("value", "sum")).reset_index()


def window_counts(moves: pd.DataFrame) -> dict[str, int]:
    """upgraded, downgraded, new and lapsed customers of the window."""
    counts = moves["movement"].value_counts()
    return {"upgraded": int(counts.get("up", 0)), "downgraded": int(counts.get("down", 0)),
            "new": int(counts.get("new", 0)), "lapsed": int(moves["lapsed"].sum())}


def summary_badges(counts: Mapping[str, int], what: str) -> html.Div:
    """``X upgraded · Y downgraded · Z new · W lapsed`` with the definitions on hover (``what``: the window)."""
    items = [("upgraded", "success", ngettext("%(num)s upgraded", "%(num)s upgraded", counts["upgraded"]),
              _("Customers who moved to a better-ranked segment {window}")),
             ("downgraded", "danger", ngettext("%(num)s downgraded", "%(num)s downgraded", counts["downgraded"]),
              _("Customers who moved to a worse-ranked segment {window}")),
             ("new", "primary", ngettext("%(num)s new", "%(num)s new", counts["new"]),
              _("Customers who made their first purchase {window}")),
             ("lapsed", "secondary", ngettext("%(num)s lapsed", "%(num)s lapsed", counts["lapsed"]),
              _("Customers who were active at the start (bought within the active window), not at the end, "
                "{window}"))]
    return html.Div([
        dbc.Badge(label % {"num": fmt.count(counts[key])}, color=color, class_name="me-2 movement-badge",
                  id=f"movement-count-{key}", title=help_text.format(window=what))
        for key, color, label, help_text in items
    ], className="movement-summary", id="movement-summary")


def sankey_figure(flow_table: pd.DataFrame, ranking: Sequence[str], measure: str, currency: str, start: str,
                  end: str, names: Mapping[str, str] | None = None) -> go.Figure:
    """Sankey from the segments at ``start`` (left, best on top) to those at ``end`` (right). Nodes show
    ``names`` (the segments' names in the page's language); each link's ``label`` keeps the ids (English),
    which a click reads (:func:`flow_from_click`)."""
    colors = segment_colors(ranking)
    left = [NEW, *ranking] if (flow_table["from_segment"] == NEW).any() else list(ranking)
    left = [name for name in left if name in set(flow_table["from_segment"])]
    right = [name for name in ranking if name in set(flow_table["to_segment"])]
    index = {("L", n): i for i, n in enumerate(left)} | {("R", n): len(left) + i for i, n in enumerate(right)}
    column = "customers" if measure == "customers" else "value"
    shown = flow_table[flow_table[column] > 0]
    unit = _("customers") if measure == "customers" else _("{currency} net value").format(currency=currency)
    value_format = "%{value:,.0f}"
    shown_from = [shown_name(f, names) for f in shown["from_segment"]]
    shown_to = [shown_name(t, names) for t in shown["to_segment"]]
    out_of = shown.groupby("from_segment")[column].sum()
    into = shown.groupby("to_segment")[column].sum()
    fig = go.Figure(go.Sankey(
        arrangement="fixed",
        node={"label": [shown_name(n, names) for n in [*left, *right]],
              "color": [colors.get(n, "#98a4b0") for n in [*left, *right]], "pad": 12,
              "thickness": 16, "hovertemplate": f"%{{label}}: {value_format} {unit}<extra></extra>",
              "x": [0.001] * len(left) + [0.999] * len(right),
              "y": _stacked([out_of.get(n, 0) for n in left]) + _stacked([into.get(n, 0) for n in right])},
        link={"source": [index[("L", f)] for f in shown["from_segment"]],
              "target": [index[("R", t)] for t in shown["to_segment"]],
              "value": shown[column].tolist(),
              "label": [f"{f} → {t}" for f, t in zip(shown["from_segment"], shown["to_segment"], strict=True)],
              "color": [_MOVE_COLORS[m] for m in shown["movement"]],
              "customdata": [[customers, value, f"{a} → {b}"] for customers, value, a, b in zip(
                  shown["customers"], shown["value"], shown_from, shown_to, strict=True)],
              "hovertemplate": "%{customdata[2]}<br>" + _("{customers} customers · {value} net value").format(
                  customers="%{customdata[0]:,}", value=money_template("%{customdata[1]:,.0f}", currency))
              + "<br>" + _("Click to list them") + "<extra></extra>"},
    ))
    title = (_("Customers moving from {start} (left) to {end} (right)") if measure == "customers"
             else _("Net value ({currency}) moving from {start} (left) to {end} (right)")).format(
        currency=currency, start=fmt.day(start), end=fmt.day(end))
    return styled(fig, title, height=520)


def _stacked(sizes: list[float]) -> list[float]:
    """Node centres (0–1, top first) when nodes of these sizes are stacked in order with small gaps."""
    total, gap = float(sum(sizes)) or 1.0, 0.02
    scale = (1 - gap * max(len(sizes) - 1, 0)) / total
    centres, top = [], 0.0
    for size in sizes:
        height = size * scale
        centres.append(min(max(top + height / 2, 0.001), 0.999))
        top += height + gap
    return centres


def flow_from_click(click: object, known: set[str]) -> tuple[str, str] | None:
    """``(from, to)`` segments of a clicked Sankey link, or None (a node, or anything unexpected)."""
    points = click.get("points") if isinstance(click, Mapping) else None
    label = points[0].get("label") if isinstance(points, list) and points and isinstance(points[0], Mapping) else None
    if not isinstance(label, str) or " → " not in label:
        return None
    start, _arrow, end = label.partition(" → ")
    return (start, end) if start in known | {NEW} and end in known else None


def transition_matrix(flow_table: pd.DataFrame, ranking: Sequence[str], currency: str,
                      href: Callable[[str, str], str], names: Mapping[str, str] | None = None) -> dbc.Table:
    """Rows: segment at the start; columns: segment at the end; cells: customers and value, each a link to the
    list of those customers (``href(from, to)``). Upgrades are green, downgrades red."""
    by_pair: dict[tuple[str, str], dict[Any, Any]] = {
        (r["from_segment"], r["to_segment"]): r for r in flow_table.to_dict("records")}
    rows_names = [n for n in [NEW, *ranking] if n in set(flow_table["from_segment"])]
    head = html.Thead(html.Tr([html.Th(_("From ↓ / to →"), className="small")]
                              + [html.Th(shown_name(name, names), className="text-end small") for name in ranking]))
    body = []
    for start in rows_names:
        cells: list[Any] = [html.Th(shown_name(start, names), scope="row", className="small")]
        for j, end in enumerate(ranking):
            if (start, end) not in by_pair:
                cells.append(html.Td("–", className="text-end text-body-secondary"))
                continue
            row = by_pair[(start, end)]
            before = list(ranking).index(start) if start != NEW else -1
            kind = "new" if start == NEW else "same" if start == end else "up" if j < before else "down"
            cells.append(html.Td(dcc.Link([html.Div(fmt.count(row["customers"]), className="fw-semibold"),
                                           html.Div(fmt.money(row["value"], currency), className="small")],
                                          href=href(start, end), id=f"cell-{slug(start)}--{slug(end)}",
                                          title=_("List the {count} customers {start} → {end}").format(
                                              count=fmt.count(row["customers"]), start=shown_name(start, names),
                                              end=shown_name(end, names))),
                                 className=f"text-end matrix-cell matrix-{kind}"))
        body.append(html.Tr(cells))
    return dbc.Table([head, html.Tbody(body)], bordered=True, size="sm", responsive=True,
                     class_name="transition-matrix mb-0", id="transition-matrix")


def downgrades(moves: pd.DataFrame, top: Sequence[str], at_risk: Sequence[str]) -> pd.DataFrame:
    """High-value downgrades: customers from a top segment to an at-risk one, by value at stake (largest first)."""
    slipped = moves[moves["from_segment"].isin(list(top)) & moves["to_segment"].isin(list(at_risk))]
    return slipped.sort_values(["monetary", "customer_id"], ascending=[False, True])


def scoped_moves(moves: pd.DataFrame, scope: Mapping, top: Sequence[str], at_risk: Sequence[str]) -> pd.DataFrame:
    """The customers of the list in scope: a flow (``from_segment`` → ``to_segment``) or the downgrades."""
    if scope.get("list") == "downgrades":
        return downgrades(moves, top, at_risk)
    chosen = (moves["from_segment"] == scope.get("from_segment")) & (moves["to_segment"] == scope.get("to_segment"))
    return moves[chosen]


def list_title(scope: Mapping, start: str, end: str, names: Mapping[str, str] | None = None) -> str:
    """``Champions → Can't Lose Them, 10 Nov 2011 to 10 Dec 2011``."""
    when = _("{start} to {end}").format(start=fmt.day(start), end=fmt.day(end))
    if scope.get("list") == "downgrades":
        return _("High-value downgrades (top segments → at-risk segments), {when}").format(when=when)
    return (f"{shown_name(str(scope.get('from_segment')), names)} → {shown_name(str(scope.get('to_segment')), names)}"
            f", {when}")


def column_defs(currency: str, names: Mapping[str, str] | None = None) -> list[dict]:
    """AG Grid columns of the movement list (sorting and filtering on the server). The segment and movement
    filters offer their values as a list, shown in the page's language (``names``: segment names by id), so
    a filter never depends on the language of the text typed."""
    text = {"filter": "agTextColumnFilter", "filterParams": {"filterOptions": ["contains", "equals", "startsWith"],
                                                             "maxNumConditions": 1, "buttons": ["reset"]}}
    number = {"filter": "agNumberColumnFilter", "type": "rightAligned",
              "filterParams": {"filterOptions": ["greaterThanOrEqual", "lessThanOrEqual", "equals", "inRange"],
                               "inRangeInclusive": True, "maxNumConditions": 1, "buttons": ["reset"]}}
    segments = dict(names or {})

    def choice(values: Mapping[str, str]) -> dict:
        return {"filter": "agTextColumnFilter", "filterParams": choice_filter_params(list(values), values)}

    return [
        {"field": "customer_id", "headerName": _("Customer"), "pinned": "left", "width": 110,
         "cellClass": "customer-link", "headerTooltip": _("Click a customer to open Client 360"), **text},
        {"field": "from_segment", "headerName": _("From segment"), "minWidth": 150, "flex": 1,
         **choice({**segments, NEW: _(NEW)})},
        {"field": "to_segment", "headerName": _("To segment"), "minWidth": 150, "flex": 1, **choice(segments)},
        {"field": "movement", "headerName": _("Movement"), "minWidth": 110, "flex": 1,
         "headerTooltip": _("up / down by the scheme's ranking of segments, same, or new customer"),
         **choice({key: _(label) for key, label in MOVEMENT_LABELS.items()})},
        {"field": "monetary", "headerName": _("Net value ({currency})").format(currency=currency), "minWidth": 130,
         "flex": 1, "sort": "desc",
         "headerTooltip": _("The customer's value at the end date: the value at stake of a downgrade"), **number},
        {"field": "frequency", "headerName": _("Orders"), "minWidth": 90, "flex": 1, **number},
        {"field": "recency_days", "headerName": _("Recency (days)"), "minWidth": 120, "flex": 1,
         "headerTooltip": _("Days since the last purchase, at the end date"), **number},
    ]


def grid_rows(rows: pd.DataFrame, currency: str, names: Mapping[str, str] | None = None) -> list[dict]:
    """Display rows for the grid: segment names and movements in the page's language (``names``: by id)."""
    return [{"customer_id": r["customer_id"], "from_segment": shown_name(r["from_segment"], names),
             "to_segment": shown_name(r["to_segment"], names),
             "movement": _(MOVEMENT_LABELS.get(r["movement"], r["movement"])),
             "monetary": fmt.money(r["monetary"], currency, decimals=2),
             "frequency": int(r["frequency"]), "recency_days": int(r["recency_days"])}
            for r in rows.to_dict("records")]


WindowSummary = Callable[[str, str], "tuple[int, float, Mapping[str, int]] | None"]
"""(start, end) -> the window's high-value downgrades (customers, value at stake) and :func:`window_counts`
(``queries.window_summary``); None when there is no history."""


def executive_summary(window_summary: WindowSummary, manifest: Mapping, state: Mapping) -> Component | None:
    """Executive summary lines: "N high-value customers slipped this month" (→ the downgrades list) and
    "X upgraded, Y downgraded, Z new, W lapsed" (→ the Movement page), for the last period."""
    meta = history_meta(manifest)
    window = period_window(manifest, None, None)
    found = None if window is None else window_summary(*window)
    if window is None or found is None:
        return None
    slipped, value, counts = found
    weekly = meta.get("period") == "week"
    slipped_text = (ngettext("%(num)s high-value customer slipped this week",
                             "%(num)s high-value customers slipped this week", slipped) if weekly else
                    ngettext("%(num)s high-value customer slipped this month",
                             "%(num)s high-value customers slipped this month", slipped))
    moved = (_("{up} upgraded, {down} downgraded, {new} new, {lapsed} lapsed this week ({start} → {end})")
             if weekly else
             _("{up} upgraded, {down} downgraded, {new} new, {lapsed} lapsed this month ({start} → {end})"))
    currency = manifest.get("currency", "")
    return dbc.Alert([
        html.Div([
            html.Strong(slipped_text % {"num": fmt.count(slipped)}, id="exec-slipped"),
            html.Span(" " + _("({amount} of value, top segments → at-risk segments)").format(
                amount=fmt.money(value, currency)) + " · ")
            if slipped else html.Span(" · "),
            dcc.Link(_("See who →"), href=page_href(PATH, state, list="downgrades"), id="exec-slipped-link",
                     className="alert-link"),
        ]),
        html.Div([
            html.Span(moved.format(up=fmt.count(counts["upgraded"]), down=fmt.count(counts["downgraded"]),
                                   new=fmt.count(counts["new"]), lapsed=fmt.count(counts["lapsed"]),
                                   start=fmt.day(window[0]), end=fmt.day(window[1])) + " · ", id="exec-movement"),
            dcc.Link(_("Movement between segments →"), href=page_href(PATH, state), id="exec-movement-link",
                     className="alert-link"),
        ], className="small mt-1"),
    ], color="warning" if slipped else "light", id="movement-alert")
