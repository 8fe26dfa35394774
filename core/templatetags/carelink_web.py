"""Template helpers of the web pages."""

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.utils import dateformat, timezone

from core.audit import Channel
from core.audit import action_label as _action_label
from core.permissions import may_read_entries, treats_clients
from core.sessions import seconds_left

register = template.Library()


@register.simple_tag
def asset(path: str) -> str:
    """The URL of a static file, hashed when `collectstatic` has run.

    Before it has (tests, a first start) the manifest storage cannot hash a file
    it has not collected; serving the unhashed name keeps every page, the error
    pages included, from failing over a stylesheet.
    """
    try:
        return static(path)
    except ValueError:
        return f"{settings.STATIC_URL.rstrip('/')}/{path}"


@register.filter
def label_of(value: str, choices: object) -> str:
    """The human label of a choice value (`"mental_health"|label_of:Category`)."""
    return dict(choices.choices).get(value, value)  # type: ignore[attr-defined]


@register.filter
def plural_entries(count: int) -> str:
    """'1 entry is' / '3 entries are': the withheld notice reads as a sentence."""
    return "1 entry is" if count == 1 else f"{count} entries are"


@register.filter
def reads_entries(user: object) -> bool:
    """Whether the account's role reads the record (`core.permissions.may_read_entries`)."""
    return may_read_entries(user)


@register.simple_tag
def idle_logout_seconds() -> int:
    """The session ends this long after the last request (core.sessions)."""
    return int(settings.SESSION_COOKIE_AGE)


@register.simple_tag(takes_context=True)
def idle_logout_left(context: dict) -> int:
    """Seconds until this page's session ends: up to a minute less than the
    full period, when no request has moved its end for a while (core.sessions).
    A page rendered without its request (none is, today) says the full period."""
    request = context.get("request")
    if request is None or not hasattr(request, "session"):
        return int(settings.SESSION_COOKIE_AGE)
    return seconds_left(request)


@register.simple_tag
def idle_logout_minutes() -> int:
    return int(settings.SESSION_COOKIE_AGE) // 60


@register.filter
def treats(user: object) -> bool:
    """Whether the account's role treats clients (minimum necessary): pages
    offer intake, entries and emergency access only to those roles."""
    return treats_clients(user)


@register.filter
def short_day(moment: object) -> str:
    """'2 Dec' this year, '2 Dec 2024' before: how the care team says when."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)  # type: ignore[arg-type]
    pattern = "j M" if local.year == timezone.localtime().year else "j M Y"
    return dateformat.format(local, pattern)


@register.filter
def action_label(value: str) -> str:
    """An access event's action in plain words."""
    return _action_label(value)


@register.filter
def channel_label(value: str) -> str:
    """Which face an access came through, in words ("web pages", "REST API")."""
    try:
        return Channel(value).label
    except ValueError:
        return value or "—"
