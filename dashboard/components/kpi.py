"""KPI cards with their definition on hover."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

__all__ = ["kpi_card"]


def kpi_card(kpi_id: str, label: str, value: str, definition: str, note: str | None = None) -> dbc.Card:
    """A card showing one figure; hovering the card shows how it is defined."""
    return dbc.Card(dbc.CardBody([
        html.Div(label, className="kpi-label text-body-secondary"),
        html.Div(value, className="kpi-value", id=f"kpi-{kpi_id}"),
        html.Div(note, className="kpi-note small text-body-secondary") if note else None,
        dbc.Tooltip(definition, target=f"kpi-card-{kpi_id}", placement="bottom"),
    ]), id=f"kpi-card-{kpi_id}", class_name="kpi-card h-100")
