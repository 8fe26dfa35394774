"""The portal's panel of the client page (see core.panels): whether the client
has a portal account — never what they did there — and, for the care team,
the button that issues an invitation code and prints the handout."""

from typing import Any

from django.http import HttpRequest

from core.panels import SIDE, ClientPanel, register_panel
from core.permissions import may_issue_portal_invite
from portal.selectors import has_portal_account
from records.models import Client


def _portal(request: HttpRequest, client: Client, forms: dict[str, Any]) -> dict:
    return {
        "has_account": has_portal_account(client),
        "may_invite": may_issue_portal_invite(request.user),
    }


register_panel(ClientPanel("portal", SIDE, 45, "portal/_panel.html", _portal))
