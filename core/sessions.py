"""The idle logoff's clock (docs/security.md, "Idle logoff").

A signed-in session ends `SESSION_COOKIE_AGE` seconds after its last request.
Django keeps that by saving the session on every request
(`SESSION_SAVE_EVERY_REQUEST`): an `UPDATE` and a commit on every page, 2.5 ms
of each here and a write on every read (docs/performance.md, change 42). Here
the session instead carries its end as a fixed time (`set_expiry` with a
datetime), moved to a full idle period from now only when it has fallen behind
by more than `refresh_seconds()`, and on the requests a page's script counts on
(htmx's, and "Stay signed in"). So:

- a session never outlives its last request by more than the idle period, and
  never ends sooner than the period less a minute after it;
- a save for another reason (a message, a second factor) keeps the same end;
- the page is told exactly when its session ends (`seconds_left`), so its
  warning comes before the end and its reload after it.

No library does this: django-session-timeout (2020) signs out on a clock of
its own with a redirect, which the API must not give, and still needs the save.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

# Django's own key for a session's fixed end (`SessionBase.set_expiry`).
_FIXED_END = "_session_expiry"


def refresh_seconds() -> int:
    """How far a session's end may fall behind a full idle period from now: a
    minute, or a fifteenth of the period where that is shorter (tests use seconds)."""
    return min(60, settings.SESSION_COOKIE_AGE // 15)


def signed_in(request: HttpRequest) -> bool:
    session = getattr(request, "session", None)
    # `is_empty` first: a request with no session cookie (the API's tokens)
    # loads nothing.
    return session is not None and not session.is_empty() and SESSION_KEY in session


def push_the_end(request: HttpRequest) -> None:
    """End the session a full idle period from now (saved with the response)."""
    request.session.set_expiry(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE))


def seconds_left(request: HttpRequest) -> int:
    """Seconds until the session ends, as it stands (0 when already past)."""
    return max(0, request.session.get_expiry_age())


class IdleClockMiddleware:
    """After Django's session middleware: moves a signed-in session's end
    forward when it has fallen behind, or when the page's script counts on it."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if signed_in(request):
            session = request.session
            full = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
            if (
                session.get(_FIXED_END) is None
                or request.headers.get("HX-Request") == "true"
                or (full - session.get_expiry_date()).total_seconds() > refresh_seconds()
            ):
                push_the_end(request)
        return self.get_response(request)
