"""Routing events: the outbox, the registry of event kinds, and delivery.

Raising an event (docs/architecture.md, "How an event flows"):
1. a service calls the kind's own function (`referrals.events.referral_sent`, …),
   which calls `publish_event` inside the service's transaction: the event row
   commits with the change or not at all;
2. after commit the event's id is handed to Celery (`dispatch_event`); if the
   broker is down the hand-off fails quietly and `sweep_outbox` retries it;
3. a worker runs `deliver`: the kind's `recipients` (evaluated then, over the
   care team as it was at the event), minus the actor, each get one
   `Notification`; the kind's subscribers run in the same transaction;
4. the inbox shows the kind's `preview`, which may show an entry's title only
   when the consent engine lets the reader see that entry now.

Adding a kind is one `register(EventKind(...))` in the app that owns it, plus
one function that raises it; nothing here changes, and no migration.
"""

import logging
import smtplib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import current_app, shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F, Model, Q, QuerySet
from django.utils import timezone
from kombu.exceptions import ChannelError

from core.errors import Conflict, conflict_on_duplicate
from core.models import Notification, OutboxEvent

log = logging.getLogger(__name__)

Recipients = Callable[[OutboxEvent], QuerySet]
Preview = Callable[[Notification], str]
Handler = Callable[[OutboxEvent], None]

WITHHELD = "content withheld"


@dataclass(frozen=True)
class EventKind:
    """One kind of routing event and everything that is decided per kind.

    - `recipients(event)`: the accounts to notify (a queryset of active
      accounts), evaluated at delivery; the actor is always left out.
    - `preview(notification)`: what the inbox says. It may use
      `notification.visible_entry_title` (the entry's title when the reader may
      see it now, else None) and `notification.event.detail` (what the event
      carried when it happened); never anything else of the record. The inbox
      reads a page with the event and the client only (docs/performance.md).
    - `parties(event)`: notifications are shown while their client is visible
      to the reader (rule 1); a kind whose readers may see it without that —
      a referral's two organizations, a service's own — names those
      organizations. Delivery stamps each notification with its recipient's
      organization when it is one of them, and the inbox shows it to a reader
      who still works there (docs/access-rules.md).
    - `link(notification)`: where the inbox item leads; by default the
      client's page.
    """

    name: str
    label: str
    recipients: Recipients
    preview: Preview
    parties: Callable[[OutboxEvent], Collection[int]] | None = None
    link: Callable[[Notification], str | None] | None = None


_KINDS: dict[str, EventKind] = {}
_SUBSCRIBERS: dict[str, list[Handler]] = {}


def register(kind: EventKind) -> EventKind:
    existing = _KINDS.get(kind.name)
    if existing is not None and existing != kind:
        raise ValueError(f"event kind {kind.name!r} is registered twice")
    _KINDS[kind.name] = kind
    return kind


def kind_named(name: str) -> EventKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"no event kind {name!r} is registered") from None


def registered_kinds() -> list[EventKind]:
    return list(_KINDS.values())


def subscribe(kind: EventKind, handler: Handler) -> None:
    """Run `handler(event)` when an event of this kind is delivered, in the
    delivery's transaction (so it is never lost and, being idempotent, never
    doubled): how one app reacts to another's events without importing it."""
    handlers = _SUBSCRIBERS.setdefault(kind.name, [])
    if handler not in handlers:
        handlers.append(handler)


# Other apps' hand-outs of work lost with the broker (the portal's client
# notices), run by the outbox sweep itself rather than as beat tasks of their
# own: a periodic task of another app waiting in the routing queue would look
# like a backlog to the sweep, which then holds back, again and again if the
# two fall due together.
_SWEEPS: list[Callable[[], object]] = []


def sweep_also(sweep: Callable[[], object]) -> None:
    """Run `sweep()` on every outbox sweep, before the outbox's own."""
    if sweep not in _SWEEPS:
        _SWEEPS.append(sweep)


def subject_label(subject: Model) -> str:
    return subject._meta.label_lower


def publish_event(
    kind: EventKind,
    *,
    client: Any | None,
    actor: Any | None,
    subject: Model | None = None,
    entry: Any | None = None,
    detail: dict | None = None,
    once_key: str | None = None,
) -> OutboxEvent | None:
    """Write the event in the caller's transaction; hand it to the queue after
    commit. With a `once_key` already used, nothing is raised (returns None)."""
    if _KINDS.get(kind.name) is not kind:
        raise LookupError(f"event kind {kind.name!r} is not registered")
    event = OutboxEvent(
        kind=kind.name,
        client=client,
        actor=actor,
        subject_type=subject_label(subject) if subject is not None else "",
        subject_id=subject.pk if subject is not None else None,
        entry=entry,
        detail=detail or {},
        once_key=once_key,
        # The hand-off happens right after commit; the sweep measures staleness from here.
        dispatched_at=timezone.now(),
        dispatch_count=1,
    )
    if once_key is not None:
        if OutboxEvent.objects.filter(once_key=once_key).exists():
            return None
        try:
            with conflict_on_duplicate("raised already"):
                event.save(force_insert=True)
        except Conflict:
            return None
    else:
        event.save(force_insert=True)
    transaction.on_commit(lambda: dispatch_event(event.pk))
    return event


def mark_notification_read(*, recipient: Any, notification: Notification) -> Notification:
    """Idempotent: reading twice keeps the first read time."""
    Notification.objects.filter(
        pk=notification.pk, recipient_id=recipient.pk, read_at__isnull=True
    ).update(read_at=timezone.now())
    notification.refresh_from_db(fields=["read_at"])
    return notification


def dispatch_event(event_id: Any) -> None:
    """Hand an event to the routing queue. Never raises: the outbox row is
    already durable, and the periodic sweep re-dispatches what did not arrive."""
    try:
        deliver_event.delay(str(event_id))
    except Exception:  # broker unreachable: the sweep will retry
        log.warning(
            "could not dispatch outbox event %s; the sweep will retry", event_id, exc_info=True
        )


# Under a burst, one delivery also takes up to this many other waiting events
# into its transaction: one commit instead of one each, and the backlog's
# later messages find their events done (see docs/performance.md).
DELIVERY_BATCH = 50


def recipients_of(event: OutboxEvent) -> QuerySet:
    """The kind's recipients, never the account whose action caused the event."""
    recipients = kind_named(event.kind).recipients(event)
    if event.actor_id is not None:
        recipients = recipients.exclude(pk=event.actor_id)
    return recipients


def deliver(event_id: Any, batch: int = DELIVERY_BATCH) -> int:
    """Create the notifications of this event, and of other undelivered ones up
    to `batch` events in all, once each; return how many notifications that made.

    Safe to run any number of times, concurrently too: the events are locked
    (PostgreSQL: this one waits, the others are skipped when another delivery
    holds them) or the write lock is taken (SQLite, IMMEDIATE); a delivered
    event is skipped; `delivered_at` is claimed with a conditional UPDATE; the
    unique (event, recipient) constraint absorbs anything else; and subscribers
    are idempotent by their own constraints.
    """
    with transaction.atomic():
        _relax_commit_durability()
        waiting = OutboxEvent.objects.filter(delivered_at__isnull=True)
        event = waiting.select_for_update().filter(pk=event_id).first()
        events = [event] if event is not None else []
        if batch > 1:
            # Even when this message's event is done already (an earlier batch
            # took it), later ones may wait behind it in the queue: take them now.
            events += list(
                waiting.select_for_update(skip_locked=True)
                .exclude(pk=event_id)
                .order_by("created_at")[: batch - len(events)]
            )
        if not events:
            return 0
        notifications = []
        emailed = []
        for each in events:
            kind = kind_named(each.kind)
            parties = set(kind.parties(each)) if kind.parties is not None else set()
            recipients = list(recipients_of(each).values_list("pk", "email", "organization_id"))
            notifications += [
                Notification(
                    event_id=each.pk,
                    recipient_id=recipient_id,
                    kind=each.kind,
                    client_id=each.client_id,
                    party_organization_id=organization_id if organization_id in parties else None,
                    created_at=each.created_at,
                )
                for recipient_id, _, organization_id in recipients
            ]
            if any(email for _, email, _ in recipients):
                emailed.append(each.pk)
        Notification.objects.bulk_create(notifications, ignore_conflicts=True)
        claimed = OutboxEvent.objects.filter(
            pk__in=[each.pk for each in events], delivered_at__isnull=True
        ).update(delivered_at=timezone.now())
        if claimed:
            for each in events:
                for handler in _SUBSCRIBERS.get(each.kind, []):
                    handler(each)
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


# --- the routing queue's tasks ----------------------------------------------------------
# Tasks receive ids, never objects, and are idempotent (see `deliver`). Email is
# a separate task, so a failing mail server never holds up or repeats in-app
# delivery.


@shared_task(name="core.events.deliver_event", ignore_result=True)
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
    name="core.events.email_notifications",
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
    app = current_app
    if app.conf.task_always_eager:
        return 0
    with app.connection_for_write() as broker:
        try:
            declared = broker.default_channel.queue_declare(
                queue=app.conf.task_default_queue, passive=True
            )
        except ChannelError:  # Redis drops an empty list: no queue is an empty queue
            return 0
    return declared.message_count


@shared_task(name="core.events.sweep_outbox", ignore_result=True)
def sweep_outbox(batch: int = 1000) -> int:
    """Re-dispatch events still undelivered whose hand-off to the broker is older
    than half a sweep interval: the hand-off failed (broker down) or the message
    went down with a killed worker.

    First it runs the other apps' sweeps (`sweep_also`). While messages still
    wait in the queue the worker is behind, not robbed:
    re-dispatching then would only pile duplicates on the backlog, so the sweep
    waits for the queue to drain. A hand-off twice is harmless anyway: delivery
    is idempotent.
    """
    for sweep in _SWEEPS:
        try:
            sweep()
        except Exception:  # the outbox's own sweep goes on; the next one retries
            log.exception("sweep %s failed", getattr(sweep, "__name__", sweep))
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
