"""A sign-in held between the password and the second factor.

The session is not signed in until the second factor passes: the password step
only leaves a short-lived note in the (anonymous) session naming who proved a
password, so no page, API call or admin view can be reached half signed in.
"""

import time
from dataclasses import dataclass

from django.contrib.auth import login
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.models import Device

from records.models import Provider

PENDING_KEY = "accounts_pending_sign_in"
# Long enough to open an authenticator app; short enough that a walked-away
# screen does not stay half signed in.
PENDING_SECONDS = 5 * 60


@dataclass(frozen=True)
class PendingSignIn:
    provider: Provider
    backend: str
    next_url: str


def hold_sign_in(request: HttpRequest, provider: Provider, next_url: str) -> None:
    request.session[PENDING_KEY] = {
        "provider": provider.pk,
        "backend": provider.backend,
        "hash": provider.get_session_auth_hash(),
        "at": int(time.time()),
        "next": next_url,
    }


def pending_sign_in(request: HttpRequest) -> PendingSignIn | None:
    """The held sign-in, if it is recent and the account unchanged since."""
    held = request.session.get(PENDING_KEY)
    if not isinstance(held, dict) or time.time() - held.get("at", 0) > PENDING_SECONDS:
        return None
    provider = Provider.objects.filter(pk=held.get("provider"), is_active=True).first()
    if provider is None or provider.get_session_auth_hash() != held.get("hash"):
        return None
    return PendingSignIn(provider=provider, backend=held["backend"], next_url=held["next"])


def complete_sign_in(request: HttpRequest, pending: PendingSignIn, device: Device) -> None:
    """Sign the session in, verified by `device` (what the admin checks)."""
    request.session.pop(PENDING_KEY, None)
    login(request, pending.provider, backend=pending.backend)
    otp_login(request, device)
