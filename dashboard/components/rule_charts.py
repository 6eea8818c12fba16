"""Cross-sell charts: support × confidence scatter (WebGL) and the graph of the strongest rules."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.components import format as fmt
from dashboard.i18n import _

__all__ = ["GRAPH_MAX_RULES", "NETWORK_STYLESHEET", "SCATTER_HEIGHT", "SCATTER_MAX_POINTS",
           "network_elements", "scatter_figure"]

SCATTER_HEIGHT = 380  # px
SCATTER_MAX_POINTS = 5_000  # highest-lift rules drawn (the browser stays fast; the count says so)
WEBGL_FROM_POINTS = 1_000  # WebGL (Scattergl) from this many points; SVG below (works without WebGL too)
GRAPH_MAX_RULES = 30  # strongest rules (by lift) in the graph


def scatter_figure(rules: pd.DataFrame, total: int) -> dict:
    """Support × confidence of the rules, coloured by lift (log colour scale), each point's ``customdata``
    its rule id (clicking opens the rule). At most :data:`SCATTER_MAX_POINTS`: the first rows, which are
    the highest-lift ones (the explorer's rules are sorted by lift, descending).

    A plain figure dict, not ``go.Figure``: plotly's validation of a 5,000-point figure costs more than
    the rest of a filter change (docs/PERFORMANCE.md, section 4).
    """
    shown = rules.head(SCATTER_MAX_POINTS)
    note = _(" — the {shown} highest-lift of {total}").format(shown=fmt.count(len(shown)), total=fmt.count(total)) \
        if len(shown) < total else ""
    lift = shown["lift"].to_numpy(dtype=float)
    trace = {
        "type": "scattergl" if len(shown) >= WEBGL_FROM_POINTS else "scatter", "mode": "markers",
        "x": (shown["support"].to_numpy(dtype=float) * 100).tolist(),
        "y": (shown["confidence"].to_numpy(dtype=float) * 100).tolist(),
        "customdata": [list(row) for row in zip(shown["rule_id"].tolist(), shown["antecedent"].tolist(),
                                               shown["consequent"].tolist(), np.round(lift, 2).tolist())],
        "marker": {"color": np.log10(np.maximum(lift, 1e-9)).round(3).tolist(), "colorscale": "Viridis", "size": 7,
                   "opacity": 0.8, "cmin": 0, "cmax": 2,
                   "colorbar": {"title": {"text": _("Lift")}, "tickvals": [0, 0.5, 1, 1.5, 2],
                                "ticktext": ["×1", "×3", "×10", "×30", "×100"]}},
        "hovertemplate": "<b>%{customdata[1]}</b> → <b>%{customdata[2]}</b><br>"
                         + _("support %{x:.2f} %, confidence %{y:.1f} %, lift ×%{customdata[3]:.1f}") + "<br>"
                         + _("Click to open") + "<extra></extra>",
    }
    grid = {"gridcolor": "#EBF0F8", "zerolinecolor": "#EBF0F8"}
    return {"data": [trace], "layout": {
        "title": {"text": _("Support × confidence, coloured by lift") + note, "x": 0, "font": {"size": 15}},
        "height": SCATTER_HEIGHT, "margin": {"l": 10, "r": 10, "t": 48, "b": 10},
        "font": {"family": "system-ui, sans-serif"},
        "paper_bgcolor": "white", "plot_bgcolor": "white", "hovermode": "closest",
        "xaxis": {"title": {"text": _("Support (% of baskets, log scale)")}, "type": "log", "automargin": True, **grid},
        "yaxis": {"title": {"text": _("Confidence (%)")}, "ticksuffix": " %", "automargin": True, **grid},
    }}


NETWORK_STYLESHEET = [
    {"selector": "node", "style": {"label": "data(label)", "font-size": "9px", "text-wrap": "wrap",
                                   "text-max-width": "110px", "background-color": "#6c8ebf", "width": 14,
                                   "height": 14, "color": "#333"}},
    {"selector": "edge", "style": {"width": "data(width)", "line-color": "#d9822b", "target-arrow-color": "#d9822b",
                                   "target-arrow-shape": "triangle", "curve-style": "bezier", "opacity": 0.7}},
    {"selector": "node.itemset", "style": {"background-color": "#b8c2cc", "width": 8, "height": 8, "label": ""}},
]


def network_elements(rules: pd.DataFrame) -> list[dict]:
    """Cytoscape elements of the :data:`GRAPH_MAX_RULES` strongest rules: products as nodes, each rule an
    edge antecedent → consequent, width by lift (``rules`` sorted by lift, descending). A rule with several
    products on a side goes through a small grey node for that group of products."""
    strongest = rules.head(GRAPH_MAX_RULES)
    if strongest.empty:
        return []
    top = float(strongest["lift"].max())
    nodes: dict[str, dict] = {}
    edges: list[dict] = []
    for row in strongest.to_dict("records"):
        ends: list[str] = []
        sides = ((row["antecedent_codes"], row["antecedent"]), (row["consequent_codes"], row["consequent"]))
        for codes, names in sides:
            code_list, name_list = str(codes).split(" + "), str(names).split(" + ")
            for code, name in zip(code_list, name_list):
                nodes.setdefault(code, {"data": {"id": code, "label": name.capitalize()[:40]}})
            if len(code_list) == 1:
                ends.append(code_list[0])
                continue
            group = "+".join(code_list)
            nodes.setdefault(group, {"data": {"id": group, "label": ""}, "classes": "itemset"})
            edges += [{"data": {"source": code, "target": group, "width": 1}} for code in code_list]
            ends.append(group)
        lift = float(row["lift"])
        edges.append({"data": {"id": str(row["rule_id"]), "source": ends[0], "target": ends[1],
                               "width": round(1 + 5 * lift / top, 1), "lift": round(lift, 2)}})
    return [*nodes.values(), *_unique(edges)]


def _unique(edges: list[dict]) -> list[dict]:
    seen, kept = set(), []
    for edge in edges:
        key = (edge["data"]["source"], edge["data"]["target"], edge["data"].get("id"))
        if key not in seen:
            seen.add(key)
            kept.append(edge)
    return kept
