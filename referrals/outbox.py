"""The outbox: routing events written in the same transaction as their change.

`publish_event` is the only way any app raises a notification-worthy event. The
row commits with the change; only after commit is it handed to Celery, by id.
If the broker is down the hand-off fails quietly and the sweep picks it up.
"""

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from records.models import Client, Entry, Provider
from referrals.models import OutboxEvent

log = logging.getLogger(__name__)


def publish_event(
    kind: str,
    *,
    client: Client,
    actor: Provider | None,
    referral: Any = None,
    entry: Entry | None = None,
    emergency_access: Any = None,
    detail: dict | None = None,
) -> OutboxEvent:
    event = OutboxEvent.objects.create(
        kind=kind,
        client=client,
        actor=actor,
        referral=referral,
        entry=entry,
        emergency_access=emergency_access,
        detail=detail or {},
        # The hand-off happens right after commit; the sweep measures staleness from here.
        dispatched_at=timezone.now(),
        dispatch_count=1,
    )
    transaction.on_commit(lambda: dispatch_event(event.pk))
    return event


def dispatch_event(event_id: Any) -> None:
    """Hand an event to the routing queue. Never raises: the outbox row is
    already durable, and the periodic sweep re-dispatches what did not arrive."""
    from referrals.tasks import deliver_event

    try:
        deliver_event.delay(str(event_id))
    except Exception:  # broker unreachable: the sweep will retry
        log.warning(
            "could not dispatch outbox event %s; the sweep will retry", event_id, exc_info=True
        )
