"""Writes of the capacity app: the early warning's claim.

The services themselves (create, edit, open and close) are an organization's
programs and are written by `records.services`; this app measures them.
"""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from capacity import events
from capacity.selectors import service_wait
from core.models import OutboxEvent
from records.models import Service

WARNING_INTERVAL = timedelta(days=7)


def warn_if_queue_growing(event: OutboxEvent) -> bool:
    """Subscriber of `referral_received`, run in the event's delivery
    transaction: when the referral went to a service whose wait now shows
    `growing`, raise `service_queue_growing` — at most once per service per 7
    days.

    The window is claimed with one conditional UPDATE of the service row: of
    two deliveries at the same instant (two transactions, or two events of
    one batch), the second finds the row already claimed — on PostgreSQL it
    waits for the first's row lock and re-reads the condition; on SQLite
    writers are serialized — so exactly one raises it."""
    service_ref = event.detail.get("service")
    if not service_ref:
        return False
    service = Service.objects.select_related("organization").filter(pk=service_ref["id"]).first()
    if service is None:
        return False
    wait = service_wait(service)
    if not wait.growing:
        return False
    now = timezone.now()
    claimed = (
        Service.objects.filter(pk=service.pk)
        .filter(Q(queue_warned_at__isnull=True) | Q(queue_warned_at__lte=now - WARNING_INTERVAL))
        .update(queue_warned_at=now)
    )
    if claimed:
        events.service_queue_growing(service, wait)
    return bool(claimed)
