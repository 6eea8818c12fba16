"""Reusable "Create audience" control: a button and a modal (name, note, control share, split preview).

Any page with a customer list adds it in two lines::

    audience_form.button()                                             # where the list's tools are
    audience_form.modal({"ids": [...customer ids...], "description": "segment Champions"})

The page may also fill ``audience-source`` later from its own callback (e.g. the ids matching the grid's
filters when the button is clicked): ``Output(audience_form.SOURCE, "data")`` with the same mapping.
Saving goes through :mod:`dashboard.audiences` (authentication, validation, audit line). The page must
pin its snapshot in ``page-version`` (``dashboard.pages._frame.render`` does).
"""

from __future__ import annotations

from collections.abc import Mapping

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from flask import request

from analytics.errors import AppError
from dashboard import audiences, data
from dashboard.components import format as fmt
from dashboard.components.shell import page_href
from dashboard.i18n import _, ngettext

__all__ = ["SOURCE", "button", "modal", "source"]

SOURCE = "audience-source"  # dcc.Store: {"ids": [...], "description": "..."}


def source(ids: list[str], description: str) -> dict:
    """The data of the ``audience-source`` store."""
    return {"ids": [str(cid) for cid in ids], "description": str(description)[:200]}


def button(disabled: bool = False) -> dbc.Button:
    """The "Create audience" button that opens the modal."""
    return dbc.Button(_("Create audience"), id="audience-open", color="primary", outline=True, size="sm",
                      disabled=disabled, title=_("Save this list as a campaign audience with a random control group"))


def modal(initial: Mapping | None = None) -> html.Div:
    """The modal and its source store (one per page)."""
    share = round(data.settings().campaigns.control_share * 100)
    who = audiences.writer(request)
    closed = None if who.configured or who.needs_token else dbc.Alert(_(audiences.AUTH_HELP), color="warning",
                                                                       id="audience-auth-help", class_name="py-2")
    body = dbc.ModalBody([
        closed,
        html.P(id="audience-description", className="small text-body-secondary"),
        dbc.Label(_("Name"), html_for="audience-name"),
        dbc.Input(id="audience-name", maxlength=80, placeholder=_("e.g. Win-back December, 15 % off by e-mail")),
        dbc.Label(_("Note (offer, channel)"), html_for="audience-note", class_name="mt-2"),
        dbc.Textarea(id="audience-note", maxlength=500, rows=2),
        dbc.Label([_("Control group (% held out)") + " ", html.Span("ⓘ", title=_(
            "Members drawn at random (stratified by segment) who are NOT contacted, so that the uplift can be "
            "measured against them. 10 % is usual; at most 50 %."))], html_for="audience-share",
            class_name="mt-2"),
        dbc.Input(id="audience-share", type="number", min=1, max=50, step=1, value=share),
        html.Div([dbc.Label(_("Operator token"), html_for="audience-token", class_name="mt-2"),
                  dbc.Input(id="audience-token", type="password", autocomplete="off")],
                 hidden=not who.needs_token),
        dbc.Alert(id="audience-preview", color="light", class_name="mt-3 mb-0 py-2"),
        html.Div(id="audience-result", className="mt-2"),
    ])
    footer = dbc.ModalFooter([
        dbc.Button(_("Cancel"), id="audience-cancel", color="secondary", outline=True),
        dbc.Button(_("Save audience"), id="audience-save", color="primary", disabled=closed is not None),
    ])
    return html.Div([
        dcc.Store(id=SOURCE, data=dict(initial) if initial else None),
        dbc.Modal([dbc.ModalHeader(dbc.ModalTitle(_("Create audience"))), body, footer], id="audience-modal",
                  is_open=False, size="lg"),
    ])


@callback(Output("audience-modal", "is_open"), Output("audience-result", "children", allow_duplicate=True),
          Input("audience-open", "n_clicks"), Input("audience-cancel", "n_clicks"), prevent_initial_call=True)
def toggle(_open: int | None, _cancel: int | None) -> tuple[bool, None]:
    """Open on "Create audience", close on "Cancel" (clearing the last result)."""
    return dash.ctx.triggered_id == "audience-open", None


@callback(Output("audience-preview", "children"), Output("audience-description", "children"),
          Input(SOURCE, "data"), Input("audience-share", "value"), Input("audience-modal", "is_open"),
          State("page-version", "data"))
def show_preview(chosen: Mapping | None, share: object, is_open: bool, version: str | None) -> tuple:
    """The split sizes before saving: ``134 customers: 120 target, 14 control``."""
    if not is_open:
        raise dash.exceptions.PreventUpdate
    if not isinstance(chosen, Mapping) or not isinstance(version, str):
        return _("Preparing the list…"), None
    try:
        sizes = audiences.preview(chosen.get("ids"), _share(share), version)
    except AppError as exc:
        return audiences.error_text(exc), None
    members = ngettext("%(num)s customer:", "%(num)s customers:", int(sizes["members"])) % {
        "num": fmt.count(sizes["members"])}
    return (html.Span([html.Strong(members + " "),
                       _("{target} in the target group (to contact), {control} held out as control (not "
                         "contacted).").format(target=fmt.count(sizes["target"]),
                                               control=fmt.count(sizes["control"]))], id="audience-sizes"),
            _("From {list} · membership frozen at this snapshot.").format(
                list=chosen.get("description") or _("this list")))


@callback(Output("audience-result", "children"), Input("audience-save", "n_clicks"),
          State(SOURCE, "data"), State("audience-name", "value"), State("audience-note", "value"),
          State("audience-share", "value"), State("audience-token", "value"), State("page-version", "data"),
          prevent_initial_call=True)
def save(clicks: int | None, chosen: Mapping | None, name: str | None, note: str | None, share: object,
         token: str | None, version: str | None) -> object:
    """Save the audience (authenticated users only) and link to its campaign page."""
    if not clicks or not isinstance(chosen, Mapping) or not isinstance(version, str):
        raise dash.exceptions.PreventUpdate
    who = audiences.writer(request, token)
    if who.user is None:
        text = _("Wrong operator token.") if who.needs_token else _(audiences.AUTH_HELP)
        return dbc.Alert(text, color="danger", id="audience-error", class_name="py-2 mb-0")
    try:
        saved = audiences.create(chosen.get("ids") or [], name=name, note=note, share=_share(share),
                                 source=str(chosen.get("description", "a customer list")), version=version,
                                 user=who.user)
    except AppError as exc:
        return dbc.Alert(audiences.error_text(exc), color="danger", id="audience-error", class_name="py-2 mb-0")
    link = dcc.Link(_("Open its campaign page →"), href=page_href(f"/campaigns/{saved.audience_id}"),
                    className="alert-link", id="audience-link")
    return dbc.Alert([_("Saved “{name}” ({id}): {target} to contact, {control} held out. Results appear after the "
                        "next refresh.").format(name=saved.name, id=saved.audience_id,
                                                target=fmt.count(saved.sizes["target"]),
                                                control=fmt.count(saved.sizes["control"])) + " ", link],
                     color="success", id="audience-saved", class_name="py-2 mb-0")


def _share(value: object) -> float:
    """Percent from the form as a fraction (out-of-range values are refused by the validation)."""
    try:
        return float(value) / 100  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")

