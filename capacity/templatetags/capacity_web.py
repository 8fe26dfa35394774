"""Template helpers of the capacity pages: waits in words, and the small trend."""

from django import template
from django.utils.html import format_html

from capacity.selectors import Wait

register = template.Library()


@register.simple_tag
def wait_days(days: int | None) -> str:
    """'45 days (about 6 weeks)'; a dash while too few to publish. The days are
    the API's figure; the weeks only help reading it."""
    if days is None:
        return "— (too few to publish)"
    weeks = round(days / 7)
    if days < 14:
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{days} days (about {weeks} weeks)"


@register.simple_tag
def trend(wait: Wait) -> str:
    """Arrivals against departures over the last 4 weeks: two small bars (for
    the eye; hidden from screen readers) and the same numbers in words."""
    top = max(wait.arrivals_4w, wait.left_4w, 1)
    arrived = round(40 * wait.arrivals_4w / top)
    left = round(40 * wait.left_4w / top)
    net = wait.arrivals_4w - wait.left_4w
    arrow = "▲" if net > 0 else ("▼" if net < 0 else "▬")
    return format_html(
        '<span class="wait-trend">'
        '<svg class="trend-bars" viewBox="0 0 44 14" width="44" height="14"'
        ' aria-hidden="true" focusable="false"><rect class="chart-arrivals" x="0" y="1"'
        ' width="{}" height="5"></rect><rect class="chart-left" x="0" y="8" width="{}"'
        ' height="5"></rect></svg> <span aria-hidden="true">{}</span> {} in, {} out</span>',
        arrived,
        left,
        arrow,
        wait.arrivals_4w,
        wait.left_4w,
    )
