"""The records app's routing event (an entry added to the shared record), and
the recipients other apps' events share: the care team at the event."""

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


def _entry_preview(notification: Notification) -> str:
    title = getattr(notification, "visible_entry_title", None)
    return f"New entry: {title}" if title is not None else f"New entry — {WITHHELD}."


ENTRY_ADDED = events.register(
    EventKind(
        name="entry_added",
        label="Entry added",
        recipients=care_team_recipients,
        preview=_entry_preview,
    )
)


def entry_added(entry: Entry, *, actor: Provider) -> None:
    """Every other provider on the care team hears of a new entry; what they
    see of it is for consent to decide when they read."""
    events.publish_event(ENTRY_ADDED, client=entry.client, actor=actor, entry=entry)
