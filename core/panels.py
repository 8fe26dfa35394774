"""The client page, composed from panels that each app contributes.

No app imports another's views: records registers the timeline and the care
team, consent the consent and emergency panels, referrals the referral panel,
and so on (each in its `panels.py`, loaded when the app is ready). A panel is
a template plus a function that builds its context through the consent engine;
a view that rejects a form re-renders the whole page with that panel's bound
form through `render_client_page` (docs/architecture.md, "The client page"),
except for the forms a panel brings in when opened, which come back on a page
of their own (`render_panel_form`; docs/web.md, "Forms brought in when opened").
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


def render_panel_form(
    request: HttpRequest,
    client: Any,
    *,
    targets: tuple[str, ...],
    fragment: str,
    page: str,
    context: dict,
    status: int = 200,
) -> HttpResponse:
    """A form that a panel of the client page brings in when it is opened: for
    htmx swapping into one of `targets` (element ids), the `fragment` template
    alone, which must hold nothing of the record and so writes no access
    event; otherwise the `page` template, the form on a page of its own (no
    JavaScript, or a rejected form), which names the client and so is audited
    as a read of the record. `client` must come from the gate."""
    context = context | {"client": client}
    if any(htmx_target_is(request, target) for target in targets):
        return render(request, fragment, context, status=status)
    record_access(request.user, client, Action.CLIENT_READ)
    return render(request, page, context | {"nav": "clients"}, status=status)
