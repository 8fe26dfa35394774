"""The measures app's routing event: a safety alert on an assessment.

A PHQ-9 whose 9th answer (thoughts of self-harm) is above 0 raises
`safety_alert` instead of `entry_added` to every other care-team provider who
may see its entry, and `entry_added` to the rest (docs/measures.md). Who may
see it is decided once, by the consent engine, in the transaction that records
the assessment (`measures.services.record_assessment`); the event carries that
list, so delivery — whenever it happens, however often it is retried — sends
it to exactly those providers, and `entry_added` leaves them out.
"""

from collections.abc import Collection

from django.db.models import QuerySet
from django.urls import reverse

from core import events
from core.events import WITHHELD, EventKind
from core.models import Notification, OutboxEvent
from measures.instruments import instrument_named
from measures.models import Assessment
from records.models import Provider

RECIPIENTS = "recipients"


def _listed_recipients(event: OutboxEvent) -> QuerySet[Provider]:
    return Provider.objects.filter(is_active=True, pk__in=event.detail.get(RECIPIENTS, []))


def _safety_preview(notification: Notification) -> str:
    """Names the instrument and the item only to a reader who may see the entry
    now (all its recipients could when it was raised; consent may have changed
    since). Never the answers themselves, and email never carries it."""
    title = getattr(notification, "visible_entry_title", None)
    if title is None:
        return f"Safety alert — {WITHHELD}."
    detail = notification.event.detail
    instrument = instrument_named(detail.get("instrument"))
    name = instrument.name if instrument is not None else "An assessment"
    return f"Safety alert: {name} item {detail.get('item')} answered above 0 — {title}."


def _client_banner(notification: Notification) -> str | None:
    if notification.client_id is None:
        return None
    return reverse("client-detail", args=[notification.client_id]) + "#safety-alert"


SAFETY_ALERT = events.register(
    EventKind(
        name="safety_alert",
        label="Safety alert",
        recipients=_listed_recipients,
        preview=_safety_preview,
        link=_client_banner,
    )
)


def safety_alert(assessment: Assessment, *, actor: Provider, recipients: Collection[int]) -> None:
    """Raise the alert to these providers (decided by the caller, through the
    consent engine, in the same transaction)."""
    instrument = instrument_named(assessment.instrument)
    events.publish_event(
        SAFETY_ALERT,
        client=assessment.entry.client,
        actor=actor,
        subject=assessment,
        entry=assessment.entry,
        detail={
            RECIPIENTS: sorted(recipients),
            "instrument": assessment.instrument,
            "item": instrument.safety_item if instrument is not None else None,
        },
    )
