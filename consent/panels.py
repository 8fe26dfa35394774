"""The consent app's panels of the client page: the emergency banner, the
consent decisions, breaking the glass (see core.panels)."""

from typing import Any

from django.http import HttpRequest

from consent.forms import EmergencyAccessForm
from consent.selectors import active_emergency_access, directives_of
from core.panels import BANNER, SIDE, ClientPanel, register_panel
from core.permissions import may_break_the_glass
from core.vocabulary import Category
from records.models import Client


def _active_emergency(request: HttpRequest, client: Client):
    """Asked by two panels of one page: one query, kept on the request."""
    key = f"_emergency_{client.pk}"
    if key not in request.__dict__:
        request.__dict__[key] = active_emergency_access(request.user, client)
    return request.__dict__[key]


def _emergency_banner(request: HttpRequest, client: Client, forms: dict[str, Any]) -> dict:
    return {"emergency": _active_emergency(request, client)}


def _consent(request: HttpRequest, client: Client, forms: dict[str, Any]) -> dict:
    # The forms (every organization of the province as a grantee, the policies)
    # are brought in when the panel is opened: consent.views.consent_record.
    return {
        "directives": directives_of(client).select_related("grantee_organization", "policy"),
        "category_choices": Category,
    }


def _emergency(request: HttpRequest, client: Client, forms: dict[str, Any]) -> dict:
    return {
        "emergency": _active_emergency(request, client),
        "emergency_form": forms.get("emergency_form") or EmergencyAccessForm(),
        "may_break_the_glass": may_break_the_glass(request.user),
    }


register_panel(
    ClientPanel("emergency-active", BANNER, 10, "consent/_emergency_banner.html", _emergency_banner)
)
register_panel(ClientPanel("consent", SIDE, 40, "consent/_consent.html", _consent))
register_panel(ClientPanel("emergency", SIDE, 50, "consent/_emergency.html", _emergency))
