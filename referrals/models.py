"""Referrals (a closed loop), the outbox of routing events, and the inbox."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from consent.models import ConsentDirective, EmergencyAccess
from records.models import Client, Entry, Organization, Provider


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"
    EMERGENT = "emergent", "Emergent"


class ReferralStatus(models.TextChoices):
    SENT = "sent", "Sent"
    ACCEPTED = "accepted", "Accepted"
    SCHEDULED = "scheduled", "Scheduled"
    COMPLETED = "completed", "Completed"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


class Referral(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="referrals")
    from_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="outgoing_referrals"
    )
    to_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="incoming_referrals"
    )
    referred_by = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(max_length=2_000)
    urgency = models.CharField(max_length=16, choices=Urgency.choices)
    status = models.CharField(max_length=16, choices=ReferralStatus.choices, default="sent")
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    appointment_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(max_length=2_000, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(max_length=2_000, blank=True)
    consent_directive = models.ForeignKey(
        ConsentDirective, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    report_entry = models.ForeignKey(
        Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    overdue_noticed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_organization=models.F("to_organization")),
                name="referral_to_another_organization",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReferralStatus.values), name="referral_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(urgency__in=Urgency.values), name="referral_urgency_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["to_organization", "status"], name="referral_incoming"),
            models.Index(fields=["from_organization", "status"], name="referral_outgoing"),
            # The overdue check scans referrals still waiting and not yet noticed.
            models.Index(
                fields=["created_at"],
                condition=Q(status="sent", overdue_noticed_at__isnull=True),
                name="referral_awaiting_notice",
            ),
        ]


class EventKind(models.TextChoices):
    REFERRAL_RECEIVED = "referral_received", "Referral received"
    REFERRAL_ACCEPTED = "referral_accepted", "Referral accepted"
    REFERRAL_DECLINED = "referral_declined", "Referral declined"
    REFERRAL_SCHEDULED = "referral_scheduled", "Referral scheduled"
    REFERRAL_CANCELLED = "referral_cancelled", "Referral cancelled"
    REFERRAL_OVERDUE = "referral_overdue", "Referral overdue"
    INTAKE_REPORT = "intake_report", "Intake report filed"
    ENTRY_ADDED = "entry_added", "Entry added"
    EMERGENCY_ACCESS = "emergency_access", "Emergency access"


class OutboxEvent(models.Model):
    """A routing event, written in the same transaction as the change it reports.

    `delivered_at` is set once its notifications exist; the sweep re-dispatches
    any event still without it, so a lost broker message only delays delivery.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    entry = models.ForeignKey(
        Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    emergency_access = models.ForeignKey(
        EmergencyAccess, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatch_count = models.PositiveIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=EventKind.values), name="outbox_kind_valid"
            ),
            # A referral is reported overdue once, whatever the overdue check races with.
            models.UniqueConstraint(
                fields=["referral"],
                condition=Q(kind="referral_overdue"),
                name="outbox_overdue_once",
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(delivered_at__isnull=True),
                name="outbox_undelivered",
            ),
        ]


class Notification(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(OutboxEvent, on_delete=models.PROTECT, related_name="notifications")
    recipient = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="notifications")
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entry = models.ForeignKey(
        Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Delivering an event twice must be a no-op.
            models.UniqueConstraint(fields=["event", "recipient"], name="notification_once"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="inbox_recent"),
            models.Index(
                fields=["recipient", "-created_at"],
                condition=Q(read_at__isnull=True),
                name="inbox_unread",
            ),
        ]
