"""The inbox through the gate: a notification exists only for its recipient,
and only while its client is visible to them (rule 1) or its kind says its
readers may still see it (a referral's parties); its preview may show an
entry's title only when the reader may see that entry now (rules 2–4).

Decided at read time, for a whole page at once (the page, and one query for
the titles its events name, if any), so a revocation changes what the inbox
shows on the next read.
"""

from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse

from consent.selectors import entry_visibility_q, visible_client_ids
from core.events import kind_named
from core.models import Notification
from core.permissions import is_provider
from records.models import Entry

# What an inbox row reads: the notification, its client's name and what its
# kind's preview and link and the API's row use of the event (its detail,
# subject and entry: core.events.EventKind) — not the client's health card and
# contacts, nor the event's delivery bookkeeping. 0.9 ms of a page of fifty in
# process (docs/performance.md, "Province scale", change 27).
INBOX_ROW_COLUMNS = (
    *(field.name for field in Notification._meta.concrete_fields),
    "client__given_name",
    "client__family_name",
    "event__kind",
    "event__subject_type",
    "event__subject_id",
    "event__entry_id",
    "event__detail",
)


def _still_visible(user: Any) -> Q:
    """Rule 1 for notifications: the client is still the reader's to see, or the
    notification is about something the reader's organization is a party to."""
    # The party test first: a plain column comparison that settles most of an
    # intake worker's inbox before the care-team lookup is asked.
    return Q(party_organization_id=user.organization_id) | Q(client_id__in=visible_client_ids(user))


def inbox(user: Any, unread: bool | None = None) -> QuerySet[Notification]:
    """The user's notifications, newest first. What a page may say of each
    (the entry's title among it) is attached by `with_previews`."""
    if not is_provider(user):
        return Notification.objects.none()
    notifications = (
        Notification.objects.filter(recipient_id=user.pk)
        .filter(_still_visible(user))
        # What a row shows: the client's name, the event's kind, subject and
        # detail (previews say no more, core.events.EventKind).
        .select_related("client", "event")
        .only(*INBOX_ROW_COLUMNS)
        .order_by("-created_at", "-id")
    )
    if unread is True:
        notifications = notifications.filter(read_at__isnull=True)
    elif unread is False:
        notifications = notifications.filter(read_at__isnull=False)
    return notifications


def unread_count(user: Any) -> int:
    """The exact number of unread notifications (the inbox's own count)."""
    if not is_provider(user):
        return 0
    return _unread(user).count()


# The navigation badge says "99+" beyond this: counting further costs a scan of
# a large inbox on every page for a number nobody reads (docs/performance.md).
BADGE_CAP = 99


def unread_badge(request: Any) -> int:
    """The unread count for the badge, up to BADGE_CAP + 1, computed once per
    request (the navigation and the dashboard both show it)."""
    cached = getattr(request, "_carelink_unread_badge", None)
    if cached is None:
        user = request.user
        cached = _unread(user)[: BADGE_CAP + 1].count() if is_provider(user) else 0
        request._carelink_unread_badge = cached
    return cached


def _unread(user: Any) -> QuerySet[Notification]:
    """Unread and still visible: the filter alone, for counting."""
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).filter(
        _still_visible(user)
    )


def with_previews(
    user: Any, notifications: list[Notification], links: bool = True
) -> list[Notification]:
    """Attach what a page of the user's inbox shows of each notification: its
    kind's `label`, its `preview` and (unless `links` is False: the API has no
    use for them, and a page of fifty URLs is fifty reversals) its `link`."""
    _attach_visible_titles(user, notifications)
    for notification in notifications:
        kind = kind_named(notification.kind)
        notification.label = kind.label
        notification.preview = kind.preview(notification)
        notification.link = _link(kind, notification) if links else None
    return notifications


def _attach_visible_titles(user: Any, notifications: list[Notification]) -> None:
    """`visible_entry_title` on each notification: its event's entry's title
    when the user may see that entry now (rules 1–4, the consent engine), else
    None. One query for the page, and none when no event on it names an entry
    (a referral's events do not): the engine's filter across clients is the
    costliest statement Django compiles for an inbox, and most pages need none
    of it (docs/performance.md, "Province scale")."""
    entry_ids = {n.event.entry_id for n in notifications if n.event.entry_id is not None}
    titles: dict[Any, str] = {}
    if entry_ids and is_provider(user):
        titles = dict(
            Entry.objects.filter(pk__in=entry_ids, client_id__in=visible_client_ids(user))
            .filter(entry_visibility_q(user))
            .values_list("pk", "title")
        )
    for notification in notifications:
        notification.visible_entry_title = titles.get(notification.event.entry_id)


def _link(kind, notification: Notification) -> str | None:
    if kind.link is not None:
        return kind.link(notification)
    if notification.client_id is not None:
        return reverse("client-detail", args=[notification.client_id])
    return None
