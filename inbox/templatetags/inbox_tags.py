"""The inbox's badge in the navigation of every page."""

from django import template

from access.inbox import BADGE_CAP, unread_badge

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_count(context: template.Context) -> int:
    """The signed-in user's unread notifications, up to one past the cap, counted
    once per request through the same inbox selector as the API."""
    request = context.get("request")
    return unread_badge(request) if request is not None else 0


@register.filter
def badge(count: int) -> str:
    """99 at most, then "99+"."""
    return f"{BADGE_CAP}+" if count > BADGE_CAP else str(count)
