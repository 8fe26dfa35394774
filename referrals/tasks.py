"""The routing queue: Celery tasks that turn outbox events into notifications.

Tasks receive ids, never objects, and are idempotent: the recipients are
computed from the care team when the event is delivered, a unique constraint on
(event, recipient) makes a second delivery a no-op, and the event's
`delivered_at` is claimed with a conditional UPDATE. Email is a separate task,
so a failing mail server never holds up or repeats in-app delivery.
"""

import logging
import smtplib
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Exists, F, Q, QuerySet
from django.utils import timezone
from kombu.exceptions import ChannelError

from records.models import CareTeamMembership, Provider, Role
from referrals.models import EventKind, Notification, OutboxEvent, Referral, ReferralStatus

log = logging.getLogger(__name__)

_CARE_TEAM_AND_REFERRER_KINDS = {
    EventKind.REFERRAL_ACCEPTED,
    EventKind.REFERRAL_DECLINED,
    EventKind.REFERRAL_SCHEDULED,
    EventKind.REFERRAL_CANCELLED,
    EventKind.INTAKE_REPORT,
}


def _care_team_at(client_id: Any, at: datetime) -> QuerySet[CareTeamMembership]:
    """The care team as it was when the event happened, read from the membership
    history: a provider who joined later does not hear of earlier events, however
    late the worker delivers them."""
    return CareTeamMembership.objects.filter(client_id=client_id, since__lte=at).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=at)
    )


def _care_team_provider_ids(event: OutboxEvent) -> QuerySet:
    return _care_team_at(event.client_id, event.created_at).values("provider_id")


def _triage_of(organization_id: int) -> Q:
    """Who triages an organization's incoming referrals: its intake workers and
    care coordinators, or all its providers when it has none (decided by the
    database in the same query, at delivery time)."""
    triage_roles = [Role.INTAKE_WORKER, Role.CARE_COORDINATOR]
    has_triage = Exists(
        Provider.objects.filter(
            organization_id=organization_id, is_active=True, role__in=triage_roles
        )
    )
    return Q(organization_id=organization_id) & (Q(role__in=triage_roles) | Q(~has_triage))


def _intake_workers_of(organization_id: int) -> Q:
    """An organization's intake workers — who answer referrals — or, when it has
    none, whoever triages its referrals, so an overdue notice always lands."""
    has_intake = Exists(
        Provider.objects.filter(
            organization_id=organization_id, is_active=True, role=Role.INTAKE_WORKER
        )
    )
    return Q(organization_id=organization_id, role=Role.INTAKE_WORKER) | (
        Q(~has_intake) & _triage_of(organization_id)
    )


def recipients_of(event: OutboxEvent) -> QuerySet[Provider]:
    """API.md's routing table, evaluated at delivery over the care team as it was
    at the event. Never the provider whose action caused the event."""
    kind = event.kind
    active = Provider.objects.filter(is_active=True)
    referral = event.referral
    if kind == EventKind.REFERRAL_RECEIVED:
        recipients = active.filter(_triage_of(referral.to_organization_id))
    elif kind in _CARE_TEAM_AND_REFERRER_KINDS:
        recipients = active.filter(
            Q(pk__in=_care_team_provider_ids(event)) | Q(pk=referral.referred_by_id)
        )
    elif kind == EventKind.ENTRY_ADDED:
        recipients = active.filter(pk__in=_care_team_provider_ids(event))
    elif kind == EventKind.EMERGENCY_ACCESS:
        team_organizations = _care_team_at(event.client_id, event.created_at).values(
            "organization_id"
        )
        recipients = active.filter(
            organization_id__in=team_organizations, role=Role.PRIVACY_OFFICER
        )
    elif kind == EventKind.REFERRAL_OVERDUE:
        # The people who should have answered, and the one waiting for the answer.
        recipients = active.filter(
            _intake_workers_of(referral.to_organization_id) | Q(pk=referral.referred_by_id)
        )
    else:  # pragma: no cover - guarded by the kind check constraint
        raise ValueError(f"unknown event kind {kind!r}")
    if event.actor_id is not None:
        recipients = recipients.exclude(pk=event.actor_id)
    return recipients


# Under a burst, one delivery also takes up to this many other waiting events
# into its transaction: one commit instead of one each, and the backlog's
# later messages find their events done (see docs/performance.md).
DELIVERY_BATCH = 50


def deliver(event_id: Any, batch: int = DELIVERY_BATCH) -> int:
    """Create the notifications of this event, and of other undelivered ones up
    to `batch` events in all, once each; return how many notifications that made.

    Safe to run any number of times, concurrently too: the events are locked
    (PostgreSQL: this one waits, the others are skipped when another delivery
    holds them) or the write lock is taken (SQLite, IMMEDIATE); a delivered
    event is skipped; `delivered_at` is claimed with a conditional UPDATE; and
    the unique (event, recipient) constraint absorbs anything else.
    """
    with transaction.atomic():
        _relax_commit_durability()
        waiting = OutboxEvent.objects.select_related("referral").filter(delivered_at__isnull=True)
        event = waiting.select_for_update(of=("self",)).filter(pk=event_id).first()
        events = [event] if event is not None else []
        if batch > 1:
            # Even when this message's event is done already (an earlier batch
            # took it), later ones may wait behind it in the queue: take them now.
            events += list(
                waiting.select_for_update(of=("self",), skip_locked=True)
                .exclude(pk=event_id)
                .order_by("created_at")[: batch - len(events)]
            )
        if not events:
            return 0
        notifications = []
        emailed = []
        for each in events:
            recipients = list(recipients_of(each).values_list("pk", "email"))
            notifications += [
                Notification(
                    event_id=each.pk,
                    recipient_id=recipient_id,
                    kind=each.kind,
                    client_id=each.client_id,
                    referral_id=each.referral_id,
                    entry_id=each.entry_id,
                    created_at=each.created_at,
                )
                for recipient_id, _ in recipients
            ]
            if any(email for _, email in recipients):
                emailed.append(each.pk)
        Notification.objects.bulk_create(notifications, ignore_conflicts=True)
        claimed = OutboxEvent.objects.filter(
            pk__in=[each.pk for each in events], delivered_at__isnull=True
        ).update(delivered_at=timezone.now())
        if claimed:
            for pk in emailed:
                transaction.on_commit(lambda pk=pk: _queue_email(pk))
    return len(notifications)


def _relax_commit_durability() -> None:
    """PostgreSQL: do not wait for this transaction's WAL flush. Losing it in a
    database crash loses the notifications and the `delivered_at` claim
    together, so the sweep simply delivers the event again."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _queue_email(event_id: Any) -> None:
    try:
        email_notifications.delay(str(event_id))
    except Exception:  # broker gone between delivery and now: email is best effort
        log.warning("could not queue email for outbox event %s", event_id)


@shared_task(name="referrals.tasks.deliver_event", ignore_result=True)
def deliver_event(event_id: str) -> int:
    return deliver(event_id)


EMAIL_SUBJECT = "You have a new CareLink notification"


def email_body() -> str:
    """The same text for every notification: email is not a safe channel, so it
    carries no name, title, reason or even the kind of event — only a link."""
    inbox_url = f"{settings.CARELINK_BASE_URL.rstrip('/')}/inbox/"
    return (
        "Something new is waiting for you in CareLink.\n\n"
        f"Sign in to read it: {inbox_url}\n\n"
        "For the client's privacy, CareLink never sends record content by email."
    )


@shared_task(
    bind=True,
    name="referrals.tasks.email_notifications",
    ignore_result=True,
    max_retries=5,
    default_retry_delay=60,
)
def email_notifications(self: Any, event_id: str) -> int:
    """Email each recipient of a delivered event once.

    Each notification is claimed with a conditional UPDATE on `emailed_at`
    before sending, so a redelivered task never mails twice; a failed send
    releases its claim and the task retries later.
    """
    pending = list(
        Notification.objects.filter(event_id=event_id, emailed_at__isnull=True)
        .exclude(recipient__email="")
        .values_list("pk", "recipient__email")
    )
    sent = 0
    failed = False
    for notification_id, address in pending:
        claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
        if not claimed:
            continue
        try:
            send_mail(EMAIL_SUBJECT, email_body(), None, [address])
            sent += 1
        except (smtplib.SMTPException, OSError):
            log.warning("email for notification %s failed; will retry", notification_id)
            Notification.objects.filter(pk=notification_id).update(emailed_at=None)
            failed = True
    # In-process (no broker) a retry would run at once, inside a web request:
    # leave the failed ones unmailed instead. The inbox is the record.
    if failed and not self.request.is_eager:
        raise self.retry()
    return sent


def routing_backlog() -> int:
    """How many messages wait in the routing queue (0 when tasks run in-process)."""
    from carelink.celery import app

    if app.conf.task_always_eager:
        return 0
    with app.connection_for_write() as connection:
        try:
            declared = connection.default_channel.queue_declare(
                queue=app.conf.task_default_queue, passive=True
            )
        except ChannelError:  # Redis drops an empty list: no queue is an empty queue
            return 0
    return declared.message_count


@shared_task(name="referrals.tasks.sweep_outbox", ignore_result=True)
def sweep_outbox(batch: int = 1000) -> int:
    """Re-dispatch events still undelivered whose hand-off to the broker is older
    than half a sweep interval: the hand-off failed (broker down) or the message
    went down with a killed worker.

    While messages still wait in the queue the worker is behind, not robbed:
    re-dispatching then would only pile duplicates on the backlog, so the sweep
    waits for the queue to drain. A hand-off twice is harmless anyway: delivery
    is idempotent.
    """
    from referrals.outbox import dispatch_event

    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.CARELINK_OUTBOX_SWEEP_SECONDS / 2)
    stale = Q(delivered_at__isnull=True) & (
        Q(dispatched_at__isnull=True, created_at__lte=cutoff) | Q(dispatched_at__lte=cutoff)
    )
    pending = list(
        OutboxEvent.objects.filter(stale)
        .order_by("created_at")
        .values_list("pk", flat=True)[:batch]
    )
    if not pending:
        return 0
    backlog = routing_backlog()
    if backlog:
        log.info("outbox sweep: %d messages still queued; not re-dispatching yet", backlog)
        return 0
    OutboxEvent.objects.filter(stale, pk__in=pending).update(
        dispatched_at=now, dispatch_count=F("dispatch_count") + 1
    )
    for event_id in pending:
        dispatch_event(event_id)
    log.warning("outbox sweep re-dispatched %d undelivered events", len(pending))
    return len(pending)


@shared_task(name="referrals.tasks.notice_overdue_referrals", ignore_result=True)
def notice_overdue_referrals() -> int:
    """Referrals still `sent` past CARELINK_OVERDUE_DAYS for their urgency get one
    `referral_overdue` notification each, however often this runs."""
    from referrals.services import notice_overdue_referral

    now = timezone.now()
    waiting = Q()
    for urgency, days in settings.CARELINK_OVERDUE_DAYS.items():
        waiting |= Q(urgency=urgency, created_at__lte=now - timedelta(days=days))
    overdue_ids = list(
        Referral.objects.filter(waiting, status=ReferralStatus.SENT, overdue_noticed_at=None)
        .order_by("created_at")
        .values_list("pk", flat=True)
    )
    return sum(notice_overdue_referral(referral_id) for referral_id in overdue_ids)
