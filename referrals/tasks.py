"""The routing queue: Celery tasks that turn outbox events into notifications.

Tasks receive ids, never objects, and are idempotent: the recipients are
computed from the care team when the event is delivered, and a unique
constraint on (event, recipient) makes a second delivery a no-op.
"""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from records.models import CareTeamMembership, Provider, Role
from referrals.models import EventKind, Notification, OutboxEvent

log = logging.getLogger(__name__)

_REFERRAL_STEP_KINDS = {
    EventKind.REFERRAL_ACCEPTED,
    EventKind.REFERRAL_DECLINED,
    EventKind.REFERRAL_SCHEDULED,
    EventKind.REFERRAL_CANCELLED,
}


def _care_team_provider_ids(client_id) -> QuerySet:
    return CareTeamMembership.objects.filter(client_id=client_id, ended_at__isnull=True).values(
        "provider_id"
    )


def _intake_of(organization_id) -> QuerySet[Provider]:
    """An organization's intake workers and care coordinators, or all its
    providers when it has none."""
    providers = Provider.objects.filter(organization_id=organization_id, is_active=True)
    intake = providers.filter(role__in=[Role.INTAKE_WORKER, Role.CARE_COORDINATOR])
    return intake if intake.exists() else providers


def recipients_of(event: OutboxEvent) -> QuerySet[Provider]:
    """API.md's routing table. Never the provider whose action caused the event."""
    kind = event.kind
    active = Provider.objects.filter(is_active=True)
    if kind == EventKind.REFERRAL_RECEIVED:
        recipients = _intake_of(event.referral.to_organization_id)
    elif kind in _REFERRAL_STEP_KINDS or kind == EventKind.INTAKE_REPORT:
        recipients = active.filter(
            Q(pk__in=_care_team_provider_ids(event.client_id)) | Q(pk=event.referral.referred_by_id)
        )
    elif kind == EventKind.ENTRY_ADDED:
        recipients = active.filter(pk__in=_care_team_provider_ids(event.client_id))
    elif kind == EventKind.EMERGENCY_ACCESS:
        team_orgs = CareTeamMembership.objects.filter(
            client_id=event.client_id, ended_at__isnull=True
        ).values("organization_id")
        recipients = active.filter(organization_id__in=team_orgs, role=Role.PRIVACY_OFFICER)
    elif kind == EventKind.REFERRAL_OVERDUE:
        referral = event.referral
        recipients = active.filter(
            Q(organization_id=referral.to_organization_id, role=Role.INTAKE_WORKER)
            | Q(pk=referral.referred_by_id)
        )
    else:  # pragma: no cover - guarded by the kind check constraint
        raise ValueError(f"unknown event kind {kind!r}")
    if event.actor_id is not None:
        recipients = recipients.exclude(pk=event.actor_id)
    return recipients.distinct()


def deliver(event_id) -> int:
    """Create the event's notifications once; return how many were new."""
    with transaction.atomic():
        event = (
            OutboxEvent.objects.select_for_update()
            .select_related("referral")
            .filter(pk=event_id)
            .first()
        )
        if event is None or event.delivered_at is not None:
            return 0
        recipient_ids = list(recipients_of(event).values_list("pk", flat=True))
        notifications = [
            Notification(
                event=event,
                recipient_id=recipient_id,
                kind=event.kind,
                client_id=event.client_id,
                referral_id=event.referral_id,
                entry_id=event.entry_id,
                created_at=event.created_at,
            )
            for recipient_id in recipient_ids
        ]
        Notification.objects.bulk_create(notifications, ignore_conflicts=True)
        OutboxEvent.objects.filter(pk=event.pk, delivered_at__isnull=True).update(
            delivered_at=timezone.now()
        )
    return len(notifications)


@shared_task(name="referrals.tasks.deliver_event", ignore_result=True)
def deliver_event(event_id: str) -> int:
    return deliver(event_id)


@shared_task(name="referrals.tasks.sweep_outbox", ignore_result=True)
def sweep_outbox() -> int:
    """Re-dispatch events still undelivered a little after their creation."""
    from referrals.outbox import dispatch_event

    cutoff = timezone.now() - timedelta(seconds=settings.CARELINK_OUTBOX_SWEEP_SECONDS / 2)
    pending = list(
        OutboxEvent.objects.filter(delivered_at__isnull=True, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:1000]
    )
    for event_id in pending:
        dispatch_event(event_id)
    return len(pending)
