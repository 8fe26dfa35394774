"""Referrals: a closed loop from one organization to another."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from consent.models import ConsentDirective
from core.vocabulary import REASON_LIMIT
from records.models import Client, Entry, Organization, Provider, Service


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


# A referral waits from the moment it is sent until it is first scheduled,
# completed, declined or cancelled (docs/capacity.md).
WAITING_STATUSES = (ReferralStatus.SENT, ReferralStatus.ACCEPTED)

# 0 emergent, 1 urgent, 2 routine: the intake queue's first key (its index
# below and `referrals.selectors.with_urgency_rank` share this one expression).
URGENCY_RANK = models.Case(
    models.When(urgency=Urgency.EMERGENT, then=models.Value(0)),
    models.When(urgency=Urgency.URGENT, then=models.Value(1)),
    default=models.Value(2),
    output_field=models.IntegerField(),
)


class Referral(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="referrals")
    from_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="outgoing_referrals"
    )
    to_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="incoming_referrals"
    )
    # The program referred to, when the referrer chose one (always of `to_organization`).
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    referred_by = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(max_length=REASON_LIMIT)
    urgency = models.CharField(max_length=16, choices=Urgency.choices)
    status = models.CharField(
        max_length=16, choices=ReferralStatus.choices, default=ReferralStatus.SENT
    )
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    appointment_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(max_length=REASON_LIMIT, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(max_length=REASON_LIMIT, blank=True)
    consent_directive = models.ForeignKey(
        ConsentDirective, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    report_entry = models.ForeignKey(
        Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    overdue_noticed_at = models.DateTimeField(null=True, blank=True)
    # After a decline the referrer may send the client on in one step: the new
    # referral carries the reason and the shared categories and points back here.
    redirected_from = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="redirected_to"
    )
    # The moment the referral first stopped waiting (first scheduled — when it
    # was scheduled, not the appointment — completed, declined or cancelled),
    # set once by the transition itself: rescheduling never moves it.
    stopped_waiting_at = models.DateTimeField(null=True, blank=True)

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
            # Waiting exactly while sent or accepted: the wait figures count on it.
            models.CheckConstraint(
                condition=Q(status__in=WAITING_STATUSES, stopped_waiting_at__isnull=True)
                | ~Q(status__in=WAITING_STATUSES) & Q(stopped_waiting_at__isnull=False),
                name="referral_stopped_waiting_unless_waiting",
            ),
            models.CheckConstraint(
                condition=Q(stopped_waiting_at__isnull=True)
                | Q(stopped_waiting_at__gte=models.F("created_at")),
                name="referral_stops_waiting_after_sent",
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
            # The wait figures (capacity.selectors): arrivals and the sample by
            # the time sent, departures by the time they stopped waiting, the
            # queue by the referrals still waiting (with their status, so the
            # queue and its untriaged part are counted from the index alone on
            # PostgreSQL); per service and per receiving organization.
            models.Index(fields=["service", "created_at"], name="referral_service_sent"),
            # A service's referral list counted side by side (selectors.
            # referral_count with a service): both parties and the status
            # carried, so each side's count reads the index alone.
            models.Index(
                fields=["service"],
                include=["from_organization", "to_organization", "status"],
                name="referral_service_parties",
            ),
            models.Index(fields=["service", "stopped_waiting_at"], name="referral_service_left"),
            models.Index(
                fields=["service", "created_at"],
                include=["status"],
                condition=Q(status__in=WAITING_STATUSES),
                name="referral_service_waiting",
            ),
            # PostgreSQL: every column the figures read, so they come from
            # the index alone (docs/performance.md); other databases skip it.
            models.Index(
                fields=["service", "created_at"],
                include=["status", "appointment_at", "completed_at", "stopped_waiting_at"],
                name="referral_service_figures",
            ),
            models.Index(
                fields=["to_organization", "created_at"],
                include=["status", "appointment_at", "completed_at", "stopped_waiting_at"],
                name="referral_org_figures",
            ),
            models.Index(fields=["to_organization", "created_at"], name="referral_org_sent"),
            models.Index(
                fields=["to_organization", "stopped_waiting_at"], name="referral_org_left"
            ),
            models.Index(
                fields=["to_organization", "created_at"],
                include=["status"],
                condition=Q(status__in=WAITING_STATUSES),
                name="referral_org_waiting",
            ),
            # The referral list in its own order: read backwards until a page of
            # the caller's organization's referrals (from or to: an OR that no
            # one composite index serves), or by direction from its composite.
            models.Index(fields=["-created_at", "-id"], name="referral_list_recent"),
            models.Index(
                fields=["to_organization", "-created_at", "-id"], name="referral_list_incoming"
            ),
            models.Index(
                fields=["from_organization", "-created_at", "-id"], name="referral_list_outgoing"
            ),
            # The intake queue in its order (most urgent, then longest waiting):
            # the dashboard reads its head without sorting every waiting referral.
            models.Index(
                models.F("to_organization"),
                URGENCY_RANK,
                models.F("created_at"),
                models.F("id"),
                condition=Q(status=ReferralStatus.SENT),
                name="referral_intake_queue",
            ),
            # A service's own queue page in its order (capacity.views.service_queue);
            # with the status, a service's queue can be counted from it alone too.
            models.Index(
                models.F("service"),
                URGENCY_RANK,
                models.F("created_at"),
                models.F("id"),
                include=["status"],
                condition=Q(status__in=WAITING_STATUSES),
                name="referral_service_queue",
            ),
        ]
