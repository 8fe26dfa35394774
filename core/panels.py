"""The client page, composed from panels that each app contributes.

No app imports another's views: records registers the timeline and the care
team, consent the consent and emergency panels, referrals the referral panel,
and so on (each in its `panels.py`, loaded when the app is ready). A panel is
a template plus a function that builds its context through the consent engine;
a view that rejects a form re-renders the whole page with that panel's bound
form through `render_client_page` (docs/architecture.md, "The client page").
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from core.audit import Action, record_access
from core.pages import htmx_target_is
from core.permissions import may_read_access_log

# Where a panel stands: a banner above the columns, the main column, the side column.
BANNER, MAIN, SIDE = "banner", "main", "side"

PanelContext = Callable[[HttpRequest, Any, dict], dict]


@dataclass(frozen=True)
class ClientPanel:
    """`context(request, client, forms)` returns the panel's template context;
    `forms` holds the bound forms a rejected submission passes back (by name),
    and `open_panel`, the name of the panel to show unfolded."""

    name: str
    place: str
    order: int
    template: str
    context: PanelContext


_PANELS: dict[str, ClientPanel] = {}


def register_panel(panel: ClientPanel) -> ClientPanel:
    if panel.place not in (BANNER, MAIN, SIDE):
        raise ValueError(f"unknown panel place {panel.place!r}")
    _PANELS[panel.name] = panel
    return panel


def panels() -> list[ClientPanel]:
    return sorted(_PANELS.values(), key=lambda panel: (panel.order, panel.name))


def render_panel(request: HttpRequest, client: Any, name: str, **forms: Any) -> str:
    panel = _PANELS[name]
    context = {"client": client, "open_panel": forms.get("open_panel", "")}
    context |= panel.context(request, client, forms)
    return render_to_string(panel.template, context, request=request)


def render_client_page(
    request: HttpRequest, client: Any, status: int = 200, **forms: Any
) -> HttpResponse:
    """The client page (or, for an htmx request aimed at one panel, that panel),
    also re-rendered with a rejected form and its errors (status 400).

    `client` must come from the gate (`access.lookups.access_client`)."""
    for panel in panels():
        if htmx_target_is(request, panel.name):
            record_access(request.user, client, Action.CLIENT_READ)
            html = render_panel(request, client, panel.name, **forms)
            return HttpResponse(html, status=status)
    parts: dict[str, list[str]] = {BANNER: [], MAIN: [], SIDE: []}
    for panel in panels():
        parts[panel.place].append(mark_safe(render_panel(request, client, panel.name, **forms)))
    record_access(request.user, client, Action.CLIENT_READ)
    context = {
        "nav": "clients",
        "client": client,
        "may_read_access_log": may_read_access_log(request.user),
        "banner_panels": parts[BANNER],
        "main_panels": parts[MAIN],
        "side_panels": parts[SIDE],
    }
    return render(request, "records/client_detail.html", context, status=status)
