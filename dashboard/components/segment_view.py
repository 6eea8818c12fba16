"""Segments page builders: pure functions turning snapshot tables into components and figures.

Inputs are the snapshot's ``segments`` rows (one row per segment, columns as in docs/SNAPSHOT.md),
``segment_products`` rows and display means of the ``customers`` table; nothing here reads the store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html
from dash.development.base_component import Component, ComponentType

from dashboard.components import format as fmt
from dashboard.components import priority as priority_colors
from dashboard.components import rows
from dashboard.components.charts import PALETTE, money_template, scheme_row, segment_names, styled, wrap
from dashboard.components.kpi import kpi_card
from dashboard.components.product_view import product_link
from dashboard.components.shell import page_href
from dashboard.i18n import N_, SOURCE_LANGUAGE, _, current_language, localised, ngettext

__all__ = [
    "SCORE_AXES",
    "action_card",
    "comparison_figure",
    "overall_profile",
    "overview_grid",
    "place_labels",
    "priority_badge",
    "products_table",
    "radar_figure",
    "segment_cards",
    "segment_header",
    "segment_picker",
    "slug",
    "unknown_segment",
]

# (score column, raw mean column, axis label) of the radar, in drawing order.
SCORE_AXES = (("r_score", "mean_recency_days", N_("Recency (R)")),
              ("f_score", "mean_frequency", N_("Frequency (F)")),
              ("m_score", "mean_monetary", N_("Monetary (M)")))
PROFILE_COLUMNS = ("r_score", "f_score", "m_score", "recency_days", "frequency", "monetary")


def slug(name: str) -> str:
    """``Can't Lose Them`` → ``cant-lose-them`` (safe inside element ids)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("'", "")).strip("-") or "segment"


def overall_profile(customers: pd.DataFrame) -> pd.Series:
    """All-customer means of r/f/m scores, recency_days, frequency and monetary (a display aggregate)."""
    return customers[list(PROFILE_COLUMNS)].mean()


def priority_badge(priority: str, rank: int | None = None) -> dbc.Badge:
    """A coloured badge: ``Critical priority``."""
    title = _("Priority rank {rank} (1 = most urgent)").format(rank=rank) if rank is not None else None
    text = _("{priority} priority").format(priority=priority_colors.label(priority))
    return priority_colors.badge(text, rank, pill=True, class_name="priority-badge", title=title)


def segment_picker(segments: pd.DataFrame, selected: str | None, state: Mapping) -> html.Nav:
    """Pills of the scheme's segments, most urgent first, each with its customer count; links keep the state."""
    pills = [dcc.Link([_("Overview")], href=page_href("/segments", {**state, "segment": None}), id="segment-pill-all",
                      className="segment-pill" + (" active" if not selected else ""))]
    names = segment_names(segments)
    for row in rows(segments.sort_values("priority_rank", kind="stable")):
        priority = _("{priority} priority").format(priority=priority_colors.label(row.priority))
        customers = ngettext("%(num)s customer", "%(num)s customers", int(row.customers)) % {
            "num": fmt.count(row.customers)}
        pills.append(dcc.Link([
            html.Span(className="priority-dot", style={"background": priority_colors.hex_color(row.priority_rank)},
                      title=priority),
            names[row.segment], html.Span(fmt.count(row.customers), className="pill-count"),
        ], href=page_href("/segments", state, segment=row.segment), id=f"segment-pill-{slug(row.segment)}",
            className="segment-pill" + (" active" if row.segment == selected else ""),
            title=f"{names[row.segment]} · {customers} · {priority}"))
    label: dict[str, Any] = {"aria-label": _("Segments")}  # not a Python name: passed as a keyword mapping
    return html.Nav(pills, className="segment-picker mb-3", id="segment-picker", **label)


def segment_header(row: pd.Series) -> html.Div:
    """Segment name (in the page's language; in English with its French label), priority badge and its one-line
    description."""
    values = scheme_row(row)
    french = current_language() == SOURCE_LANGUAGE and row["label_fr"] != row["segment"]
    return html.Div([
        html.H2([localised(values, "segment"), html.Small(row["label_fr"], className="segment-label-fr ms-2",
                                                          lang="fr", id="segment-label-fr") if french else None],
                className="h4 mb-1 d-inline-block me-2", id="segment-title"),
        priority_badge(row["priority"], int(row["priority_rank"])),
        html.P(localised(values, "description"), className="text-body-secondary mb-0", id="segment-description"),
    ], className="segment-header mb-3")


def segment_cards(row: pd.Series, overall: pd.Series, overall_basket: float, currency: str) -> list[dbc.Col]:
    """Metric cards of one segment, each compared with the whole customer base where it helps."""
    at_risk = int(row["at_risk_customers"])
    everyone = _("all customers: {value}")
    cards = [
        kpi_card("customers", _("Customers"), fmt.count(row["customers"]),
                 _("Customers whose RFM scores put them in this segment."),
                 note=_("{share} of all customers").format(share=fmt.share(row["customer_share"]))),
        kpi_card("revenue", _("Revenue"), fmt.money(row["revenue"], currency),
                 _("Net value of the segment's customers over the analysed period: their sales minus their "
                   "returns, each customer floored at 0."),
                 note=_("{share} of total net value").format(share=fmt.share(row["revenue_share"]))),
        kpi_card("avg-basket", _("Average basket"), fmt.money(row["avg_basket"], currency),
                 _("Gross sales of the segment divided by its number of orders."),
                 note=everyone.format(value=fmt.money(overall_basket, currency))),
        kpi_card("at-risk", _("At-risk customers"), fmt.count(at_risk),
                 _("High-value customers of the segment whose risk score is above the threshold; revenue at "
                   "stake is their yearly net value (net value × 365 / days since their first purchase, at least "
                   "90 days counted)."),
                 note=_("{amount} at stake").format(amount=fmt.money(row["revenue_at_stake"], currency)) if at_risk
                 else _("nothing at stake")),
        kpi_card("recency", _("Mean recency"), _days(row["mean_recency_days"]),
                 _("Average number of days since the customer's last purchase (lower is better)."),
                 note=everyone.format(value=_days(overall["recency_days"]))),
        kpi_card("frequency", _("Mean frequency"), _orders(row["mean_frequency"]),
                 _("Average number of distinct orders per customer over the analysed period."),
                 note=everyone.format(value=_orders(overall["frequency"]))),
        kpi_card("monetary", _("Mean monetary value"), fmt.money(row["mean_monetary"], currency),
                 _("Average net value (sales minus returns) per customer of the segment over the analysed period."),
                 note=everyone.format(value=fmt.money(overall["monetary"], currency))),
        kpi_card("scores", _("Mean R / F / M scores"),
                 " / ".join(fmt.number(row[f"mean_{axis}"]) for axis, _r, _l in SCORE_AXES),
                 _("Average quintile scores from 1 to 5 (5 = most recent, most frequent, highest spend)."),
                 note=everyone.format(value=" / ".join(fmt.number(overall[axis]) for axis, _r, _l in SCORE_AXES))),
    ]
    return [dbc.Col(card, xs=12, sm=6, xl=3) for card in cards]


def _days(value: float) -> str:
    """``45 days`` (a mean, rounded)."""
    return _("{num} days").format(num=fmt.number(value, 0))


def _orders(value: float) -> str:
    """``3.2 orders`` (a mean)."""
    return _("{num} orders").format(num=fmt.number(value))


def _raw_text(column: str, value: float, currency: str) -> str:
    if column == "mean_recency_days":
        return _("{num} days since last order").format(num=fmt.number(value, 0))
    if column == "mean_frequency":
        return _orders(value)
    return _("{amount} spent").format(amount=fmt.money(value, currency))


def radar_figure(segment_row: pd.Series, overall_means: pd.Series, currency: str = "£") -> go.Figure:
    """Mean R/F/M scores (1–5) of a segment against the all-customer means, on one radar.

    ``segment_row`` is a ``segments`` row (mean_*_score, mean_recency_days, …); ``overall_means`` is
    :func:`overall_profile` (r_score, …, recency_days, frequency, monetary). Trace 0 is the segment,
    trace 1 all customers; each closes its loop by repeating the first axis.
    """
    segment = _radar_trace(localised(scheme_row(segment_row), "segment"),
                           [segment_row[f"mean_{score}"] for score, _r, _l in SCORE_AXES],
                           [_raw_text(raw, segment_row[raw], currency) for _s, raw, _l in SCORE_AXES],
                           PALETTE["revenue"], 0.35)
    overall = _radar_trace(_("All customers"), [overall_means[score] for score, _r, _l in SCORE_AXES],
                           [_raw_text(raw, overall_means[raw.removeprefix("mean_")], currency)
                            for _s, raw, _l in SCORE_AXES], PALETTE["highlight"], 0.08, dash="dash")
    fig = go.Figure([segment, overall])
    labels = [_(label) for _s, _r, label in SCORE_AXES]  # the axes' names, as the traces' theta
    fig.update_layout(polar={"radialaxis": {"range": [0, 5], "tickvals": [1, 2, 3, 4, 5], "angle": 30,
                                            "tickangle": 30, "gridcolor": "#dde2e8", "tickfont": {"size": 10}},
                             "angularaxis": {"rotation": 90, "direction": "clockwise", "gridcolor": "#dde2e8",
                                             # names over two lines: "Frequency (F)" would be clipped on a phone
                                             "tickmode": "array", "tickvals": labels,
                                             "ticktext": [label.replace(" (", "<br>(") for label in labels]},
                             "domain": {"y": [0.06, 1]}})
    fig = styled(fig, _("RFM profile: mean scores (1–5, 5 = best)"), height=360)
    return fig.update_layout(margin={"l": 70, "r": 70, "t": 60, "b": 10},
                             legend={"x": 0.5, "xanchor": "center"})


def _radar_trace(name: str, values: list[float], raws: list[str], color: str, fill: float,
                 dash: str = "solid") -> go.Scatterpolar:
    labels = [_(label) for _s, _r, label in SCORE_AXES]
    score = _("{axis} score: {value} / 5").format(axis="%{theta}", value="%{r:.2f}")
    return go.Scatterpolar(
        r=[*values, values[0]], theta=[*labels, labels[0]], name=name, customdata=[*raws, raws[0]],
        fill="toself", fillcolor=_rgba(color, fill), line={"color": color, "width": 2.5, "dash": dash},
        mode="lines+markers", marker={"size": 7},
        hovertemplate=f"<b>{name}</b><br>{score}<br>%{{customdata}}<extra></extra>")


def _rgba(hex_color: str, alpha: float) -> str:
    red, green, blue = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def comparison_figure(segments: pd.DataFrame, selected: str | None, currency: str = "£") -> go.Figure:
    """Share of revenue against share of customers per segment (bubble size: mean monetary); click selects.

    Segments above the dotted diagonal bring more revenue than their weight in customers. A segment without
    customers (a small snapshot) has no share or mean spend to plot: it is left out.
    """
    segments = segments[segments["customers"] > 0]
    names = segment_names(segments)
    labels = [names[name] for name in segments["segment"]]
    faded = [0.95 if not selected or name == selected else 0.3 for name in segments["segment"]]
    sizes = segments["mean_monetary"].clip(lower=0)
    sizeref = 2.0 * max(float(sizes.max()), 1.0) / 55 ** 2
    fig = go.Figure(go.Scatter(
        x=segments["customer_share"] * 100, y=segments["revenue_share"] * 100, mode="markers",
        text=labels, customdata=segments[["segment", "customers", "revenue", "mean_monetary"]].assign(label=labels),
        marker={"size": sizes, "sizemode": "area", "sizeref": sizeref,
                "sizemin": 8, "color": [priority_colors.hex_color(r) for r in segments["priority_rank"]],
                "opacity": faded, "line": {"width": [3 if n == selected else 1 for n in segments["segment"]],
                                            "color": "#1f2d3d"}},
        hovertemplate=_("<b>{segment}</b><br>{customers} customers ({x} %)<br>{revenue} revenue ({y} %)<br>"
                        "{spend} per customer").format(
            segment="%{customdata[4]}", customers="%{customdata[1]:,}", x="%{x:.1f}", y="%{y:.1f}",
            revenue=money_template("%{customdata[2]:,.0f}", currency),
            spend=money_template("%{customdata[3]:,.0f}", currency)) + "<extra></extra>",
        showlegend=False))
    x_max = float(segments["customer_share"].max() or 0.01) * 100 * 1.3
    y_max = float(segments["revenue_share"].max() or 0.01) * 100 * 1.15
    fig.add_shape(type="line", x0=0, y0=0, x1=min(x_max, y_max), y1=min(x_max, y_max), layer="below",
                  line={"dash": "dot", "color": PALETTE["muted"]})
    fig.add_annotation(x=min(x_max, y_max) * 0.92, y=min(x_max, y_max) * 0.92, text=_("revenue share = customer share"),
                       showarrow=False, font={"size": 10, "color": "#7a8794"}, textangle=0, yshift=10, xanchor="right")
    radii = [max((float(size) / sizeref) ** 0.5, 8) / 2 for size in sizes]  # marker radius in px (area sizing)
    for label in place_labels(labels, list(segments["customer_share"] * 100),
                              list(segments["revenue_share"] * 100), radii, (0, x_max), (-y_max * 0.04, y_max)):
        fig.add_annotation(**label, font={"size": 11, "color": "#1f2d3d"}, arrowwidth=1, arrowhead=0,
                           xanchor="center", yanchor="middle")
    fig.update_layout(clickmode="event")
    fig.update_xaxes(title=_("Share of customers (%)"), ticksuffix=" %", range=[0, x_max])
    fig.update_yaxes(title=_("Share of revenue (%)"), ticksuffix=" %", range=[-y_max * 0.04, y_max])
    fig = styled(fig, _("Revenue vs customers by segment (% of total)"), height=390)
    subtitle = wrap(_("Bubble size: mean spend per customer · colour: priority (red critical → grey low) · "
                      "click a bubble to open its segment"), 56)
    return fig.update_layout(title_subtitle_text=subtitle,
                             margin_t=fig.layout.margin.t + 18 * (subtitle.count("<br>") + 1))


PLOT_PX = (280, 270)  # plot area assumed when placing bubble labels: the chart on a phone (390 px screen); labels
#                      that fit there fit a wider screen too (offsets are in px, bubbles move further apart)
CHAR_PX, LINE_PX = 6.6, 14  # width of one label character and height of a label at 11 px


def place_labels(texts: list[str], xs: list[float], ys: list[float], radii: list[float],
                 x_range: tuple[float, float], y_range: tuple[float, float],
                 plot_px: tuple[int, int] = PLOT_PX) -> list[dict]:
    """Bubble labels that do not overlap one another or the bubbles: plotly annotations, one per point.

    Each label takes the first free spot among positions around its bubble, nearest first (right, left,
    above, below, then further out with a thin line to the bubble). Larger bubbles are placed first. Pixel
    sizes are estimates for a plot area of ``plot_px``; returns dicts of x, y, text, ax, ay, showarrow.
    """
    width, height = plot_px
    sx, sy = width / (x_range[1] - x_range[0]), height / (y_range[1] - y_range[0])
    points = [((x - x_range[0]) * sx, (y - y_range[0]) * sy) for x, y in zip(xs, ys)]
    bubbles = [(px - r, py - r, px + r, py + r) for (px, py), r in zip(points, radii)]
    placed: list[tuple[float, float, float, float]] = []
    labels: dict[int, dict] = {}
    for i in sorted(range(len(texts)), key=lambda k: -radii[k]):
        (px, py), w = points[i], CHAR_PX * len(texts[i]) + 4
        others = placed + bubbles[:i] + bubbles[i + 1:]
        spots = _spots(px, py, radii[i], w)
        box = next((b for b in spots if _inside(b, width, height) and not any(_overlap(b, o) for o in others)),
                   spots[0])
        placed.append(box)
        dx, dy = (box[0] + box[2]) / 2 - px, (box[1] + box[3]) / 2 - py
        far = abs(dy) > radii[i] + LINE_PX or abs(dx) > radii[i] + w / 2 + 6
        labels[i] = {"x": xs[i], "y": ys[i], "text": texts[i], "ax": round(dx), "ay": round(-dy), "showarrow": True,
                     "arrowcolor": "#98a4b0" if far else "rgba(0,0,0,0)", "standoff": radii[i]}
    return [labels[i] for i in range(len(texts))]


def _spots(px: float, py: float, r: float, w: float) -> list[tuple[float, float, float, float]]:
    """Candidate label boxes (x0, y0, x1, y1 in px, y up) around a bubble, nearest first."""
    h, gap = LINE_PX, 3
    side, up = r + w / 2 + gap, r + h / 2 + gap
    centres = [(side, 0), (-side, 0), (0, up), (0, -up)]
    for step in (1.0, 2.0, 3.0, 4.5, 6.0, 8.0):
        for wide in (1.0, 2.0):
            centres += [(side * wide, up * step), (side * wide, -up * step), (-side * wide, up * step),
                        (-side * wide, -up * step)]
        centres += [(0, up * (step + 1)), (0, -up * (step + 1))]
    return [(px + dx - w / 2, py + dy - h / 2, px + dx + w / 2, py + dy + h / 2) for dx, dy in centres]


def _inside(box: tuple[float, float, float, float], width: float, height: float) -> bool:
    return box[0] >= 0 and box[2] <= width and box[1] >= 0 and box[3] <= height


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def products_table(products: pd.DataFrame, currency: str, state: Mapping | None = None) -> ComponentType:
    """Top products of a segment: rank, description, stock code, revenue with a data bar, customers."""
    if products.empty:
        return html.P(_("No product sales recorded for this segment."), className="text-body-secondary",
                      id="segment-products-empty")
    ordered = products.sort_values("rank")
    top = float(ordered["revenue"].max()) or 1.0
    head = html.Thead(html.Tr([html.Th("#"), html.Th(_("Product")), html.Th(_("Stock code")),
                               html.Th(_("Revenue ({currency})").format(currency=currency), className="text-end"),
                               html.Th(_("Customers"), className="text-end")]))
    body = [html.Tr([
        html.Td(int(p.rank), className="text-body-secondary"),
        html.Td(product_link(p.description, p.stock_code, state), title=p.description),
        html.Td(html.Code(p.stock_code)),
        html.Td(html.Div([html.Div(html.Div(className="data-bar", style={"width": f"{100 * p.revenue / top:.0f}%"}),
                                   className="bar-track"),
                          html.Span(fmt.money(p.revenue, currency, 0), className="bar-value")], className="bar-cell")),
        html.Td(fmt.count(p.customers), className="text-end"),
    ]) for p in rows(ordered)]
    return dbc.Table([head, html.Tbody(body)], size="sm", hover=True, responsive=True,
                     class_name="products-table mb-0", id="segment-products")


def action_card(row: pd.Series, state: Mapping) -> dbc.Card:
    """The segment's recommended action and tactic, with links to the action plan and its at-risk list."""
    segment = row["segment"]
    at_risk = int(row["at_risk_customers"])
    links: list[Component] = [dcc.Link(_("See the action plan →"), href=page_href("/actions", state, segment=segment),
                      id="segment-action-link", className="btn btn-primary btn-sm")]
    if at_risk:
        links.append(dcc.Link(_("Customers at risk in this segment ({count}) →").format(count=fmt.count(at_risk)),
                              href=page_href("/actions", state, segment=segment, view="at-risk"),
                              id="segment-at-risk-link", className="btn btn-outline-danger btn-sm"))
    else:
        links.append(html.Span(_("No customer at risk in this segment"), className="small text-body-secondary",
                               id="segment-at-risk-none"))
    color = priority_colors.badge_color(row["priority_rank"])
    values = scheme_row(row)
    return dbc.Card(dbc.CardBody(dbc.Row([
        dbc.Col([
            html.Div(_("Recommended action"), className="kpi-label text-body-secondary"),
            html.Div([html.Span(localised(values, "action"), className="h5 mb-0 me-2", id="segment-action"),
                      html.Span(localised(values, "tactic"), id="segment-tactic")], className="mt-1"),
        ], xs=12, lg=True),
        dbc.Col(html.Div(links, className="d-flex flex-wrap align-items-center gap-2 justify-content-lg-end"),
                xs=12, lg="auto", class_name="mt-2 mt-lg-0"),
    ], align="center")), class_name=f"action-card border-start border-4 border-{color}", id="segment-action-card")


def overview_grid(segments: pd.DataFrame, currency: str, state: Mapping) -> dbc.Row:
    """One clickable card per segment, most urgent first: customers, revenue share, mean R/F/M, action."""
    cols = [dbc.Col(dcc.Link(_overview_card(row, currency), href=page_href("/segments", state, segment=row["segment"]),
                             id=f"segment-card-{slug(row['segment'])}", className="segment-card-link"),
                    xs=12, md=6, xl=4)
            for _i, row in segments.sort_values("priority_rank", kind="stable").iterrows()]
    return dbc.Row(cols, class_name="g-3", id="segment-overview")


def _overview_card(row: pd.Series, currency: str) -> dbc.Card:
    at_risk = int(row["at_risk_customers"])
    stake = " · " + _("{count} at risk ({amount} at stake)").format(
        count=fmt.count(at_risk), amount=fmt.money(row["revenue_at_stake"], currency))
    values = scheme_row(row)
    english = current_language() == SOURCE_LANGUAGE
    return dbc.Card(dbc.CardBody([
        html.Div([html.Span(localised(values, "segment"), className="fw-semibold me-2"),
                  priority_badge(row["priority"], int(row["priority_rank"]))],
                 className="d-flex flex-wrap align-items-center"),
        html.Div(row["label_fr"] if english else None, className="small text-body-secondary mb-2", lang="fr"),
        html.Div([_figure(_("Customers"), fmt.count(row["customers"]),
                          _("{share} of all").format(share=fmt.share(row["customer_share"]))),
                  _figure(_("Revenue"), fmt.money(row["revenue"], currency),
                          _("{share} of total").format(share=fmt.share(row["revenue_share"])))],
                 className="d-flex gap-4 mb-2 segment-weight"),
        html.Div([_figure(_("Mean recency"), _days(row["mean_recency_days"])),
                  _figure(_("Mean orders"), fmt.number(row["mean_frequency"])),
                  _figure(_("Mean spend"), fmt.money(row["mean_monetary"], currency))],
                 className="d-flex gap-4 mb-2 segment-rfm"),
        html.Div([html.Span(_("Action:") + " ", className="text-body-secondary"),
                  html.Strong(localised(values, "action")),
                  html.Span(stake, className="text-danger") if at_risk else None], className="small"),
    ]), class_name="segment-card h-100")


def _figure(label: str, value: str, note: str | None = None) -> html.Div:
    return html.Div([html.Div(label, className="small text-body-secondary"),
                     html.Div(value, className="fw-semibold lh-sm figure-value"),
                     html.Div(note, className="small text-body-secondary") if note else None])


def unknown_segment(name: str, segments: pd.DataFrame, state: Mapping, path: str = "/segments",
                    note: str | None = None) -> dbc.Alert:
    """A clear message for a segment that is not in the scheme, with links to the valid ones on ``path``."""
    names = segment_names(segments)
    links = [dcc.Link(names[segment], href=page_href(path, state, segment=segment), className="alert-link me-3")
             for segment in segments.sort_values("priority_rank", kind="stable")["segment"]]
    return dbc.Alert([
        html.Strong(_("There is no segment called “{name}” in this snapshot.").format(name=name)),
        html.Span(f" {note}") if note else None,
        html.Div([_("Valid segments:") + " ", *links], className="mt-1"),
    ], color="warning", id="segment-unknown")
