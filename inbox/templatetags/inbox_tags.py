"""The inbox's badge in the navigation of every page."""

from django import template

from access.inbox import unread_count as count_unread

register = template.Library()


@register.simple_tag
def unread_count(user: object) -> int:
    """The user's unread notifications, through the same inbox selector as the API."""
    return count_unread(user)
