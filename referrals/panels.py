"""The referrals app's panel of the client page: the client's referrals of the
viewer's organization, and referring them (see core.panels)."""

from typing import Any

from django.http import HttpRequest

from core.panels import SIDE, ClientPanel, register_panel
from records.models import Client
from referrals.selectors import client_referrals


def _referrals(request: HttpRequest, client: Client, forms: dict[str, Any]) -> dict:
    # The refer form (every organization, and the chosen one's services with
    # their waits) is brought in when its panel is opened:
    # referrals.views.referral_create.
    return {"referrals": client_referrals(request.user, client)}


register_panel(ClientPanel("referrals", SIDE, 30, "referrals/_client_referrals.html", _referrals))
