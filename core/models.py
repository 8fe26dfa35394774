"""The ground floor's tables: the audit trail and the routing queue.

They point at the feature apps' rows (clients, entries, accounts) by model
label, never by import: the ground floor imports no feature app
(docs/architecture.md).
"""

import uuid

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class AccessEvent(models.Model):
    """One audited read or write of a client's record. Append-only.

    The actor is an account: a provider's (with their organization at the
    time), or the client's own through the portal (`by_client`, no organization).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: `audit_client_recent` leads with the client and serves
    # every read by client; a second index only slowed each audited read's
    # INSERT (docs/performance.md, "Province scale").
    client = models.ForeignKey(
        "records.Client", on_delete=models.PROTECT, related_name="access_events", db_index=False
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        "records.Organization", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    by_client = models.BooleanField(default=False)
    # core.audit.Action and core.audit.Channel; no database choices, so a new
    # action needs no migration.
    action = models.CharField(max_length=64)
    channel = models.CharField(max_length=16)
    at = models.DateTimeField(default=timezone.now)
    emergency = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at", "-id"]
        # The access log's page in its own order.
        indexes = [models.Index(fields=["client", "-at", "-id"], name="audit_client_recent")]
        # Append-only in the database itself: on PostgreSQL no UPDATE or DELETE
        # passes, not even from a database shell (a superuser may drop the
        # trigger, and that DDL is itself logged by the server).
        triggers = [
            pgtrigger.Protect(
                name="access_event_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]


class OutboxEvent(models.Model):
    """A routing event, written in the same transaction as the change it reports.

    What it is about is generic: the client whose record it concerns (none for
    a service's events), a `subject` (any row, by model label and id: a
    referral, a service, an emergency access), and the `entry` it may reveal —
    the one piece of record content a preview can show, decided by consent at
    read time. `detail` keeps what the preview says that is not record content
    (organization names at the time of the event).

    `delivered_at` is set once its notifications exist; the sweep re-dispatches
    any event still without it, so a lost broker message only delays delivery.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # A kind of core.events' registry; no database choices, so a new kind needs no migration.
    kind = models.CharField(max_length=32)
    client = models.ForeignKey(
        "records.Client", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.UUIDField(null=True, blank=True)
    entry = models.ForeignKey(
        "records.Entry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    detail = models.JSONField(default=dict, blank=True)
    # An event that may be raised only once (a referral reported overdue): the
    # unique key makes a second raise a no-op whatever it races with.
    once_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatch_count = models.PositiveIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(subject_type="", subject_id__isnull=True)
                | ~Q(subject_type="") & Q(subject_id__isnull=False),
                name="event_subject_whole",
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(delivered_at__isnull=True),
                name="event_undelivered",
            ),
            models.Index(fields=["subject_type", "subject_id"], name="event_subject"),
        ]


class Notification(models.Model):
    """An item of a provider's inbox: one event, one recipient."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(OutboxEvent, on_delete=models.PROTECT, related_name="notifications")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications"
    )
    kind = models.CharField(max_length=32)
    client = models.ForeignKey(
        "records.Client", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The recipient's organization, when it is a party to what the event is about
    # (a referral's two organizations, a service's own): its providers see the
    # notification even when the client is not, or no longer, theirs to see.
    party_organization = models.ForeignKey(
        "records.Organization", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Delivering an event twice must be a no-op.
            models.UniqueConstraint(fields=["event", "recipient"], name="notification_once_each"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recent"),
            models.Index(
                fields=["recipient", "-created_at", "-id"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_page",
            ),
            # PostgreSQL: the unread count and the visibility test from the index
            # alone (other databases skip it, docs/performance.md).
            models.Index(
                fields=["recipient"],
                include=["party_organization", "client"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_count",
            ),
        ]
