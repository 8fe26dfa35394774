"""The records app's routing event (an entry added to the shared record), and
the recipients other apps' events share: the care team at the event."""

from collections.abc import Collection

from django.db.models import QuerySet

from core import events
from core.events import WITHHELD, EventKind
from core.models import Notification, OutboxEvent
from records.models import Entry, Provider
from records.selectors import care_team_at


def care_team_recipients(event: OutboxEvent) -> QuerySet[Provider]:
    """The active providers on the event's client's care team at the time of the event."""
    return Provider.objects.filter(
        is_active=True,
        pk__in=care_team_at(event.client_id, event.created_at).values("provider_id"),
    )


# The providers an event of the same write already tells of the entry (a
# safety alert), listed in the event's detail: nobody hears of one entry twice.
TOLD_ELSEWHERE = "told_elsewhere"


def _entry_added_recipients(event: OutboxEvent) -> QuerySet[Provider]:
    recipients = care_team_recipients(event)
    told_elsewhere = event.detail.get(TOLD_ELSEWHERE)
    if told_elsewhere:
        recipients = recipients.exclude(pk__in=told_elsewhere)
    return recipients


def _entry_preview(notification: Notification) -> str:
    title = getattr(notification, "visible_entry_title", None)
    return f"New entry: {title}" if title is not None else f"New entry — {WITHHELD}."


ENTRY_ADDED = events.register(
    EventKind(
        name="entry_added",
        label="Entry added",
        recipients=_entry_added_recipients,
        preview=_entry_preview,
    )
)


def entry_added(entry: Entry, *, actor: Provider, told_elsewhere: Collection[int] = ()) -> None:
    """Every other provider on the care team hears of a new entry; what they
    see of it is for consent to decide when they read. `told_elsewhere`: the
    providers another event of the same write tells instead (decided in that
    write's transaction); without it the event's detail is empty, as always."""
    detail = {TOLD_ELSEWHERE: sorted(told_elsewhere)} if told_elsewhere else None
    events.publish_event(ENTRY_ADDED, client=entry.client, actor=actor, entry=entry, detail=detail)
