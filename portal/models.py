"""The client portal's tables (docs/portal.md).

The client's account itself is a `records.Provider` row with `client` set (a
database constraint keeps it from having an organization, a role or admin
rights); these are what the portal adds around it.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.models import OutboxEvent
from records.models import Client, Provider
from referrals.models import Referral

# The survey's two scales run from 1 to 5.
SCALE_LOW, SCALE_HIGH = 1, 5


class PortalInvite(models.Model):
    """A one-time code a care-team provider hands the client to open their
    account. Only the code's hash is kept: the code itself is shown once, to
    the provider who prints it.

    Live while neither used nor voided and before `expires_at`. A newer invite
    for the same client voids this one; so do five activations with this code
    and a birth date that does not match.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="portal_invites")
    code_hash = models.CharField(max_length=64, unique=True, editable=False)
    issued_by = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    birth_date_misses = models.PositiveSmallIntegerField(default=0)
    voided_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    account = models.OneToOneField(
        Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-issued_at", "id"]
        constraints = [
            # At most one code per client that is neither used nor voided.
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(used_at__isnull=True, voided_at__isnull=True),
                name="portal_invite_one_open_per_client",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("issued_at")),
                name="portal_invite_expires_after_issue",
            ),
            models.CheckConstraint(
                condition=Q(used_at__isnull=True, account__isnull=True)
                | Q(used_at__isnull=False, account__isnull=False),
                name="portal_invite_used_makes_account",
            ),
        ]

    def is_live(self, at=None) -> bool:
        at = at or timezone.now()
        return self.used_at is None and self.voided_at is None and at < self.expires_at


class ExperienceAnswer(models.Model):
    """The client's answer to "how did it go?" about one referral, once.

    Providers never see an answer: only the figures over at least five answers
    about a service (capacity.selectors.service_experiences)."""

    referral = models.OneToOneField(
        Referral, on_delete=models.PROTECT, related_name="experience_answer"
    )
    repeated_story = models.BooleanField()
    kept_informed = models.PositiveSmallIntegerField()
    overall = models.PositiveSmallIntegerField()
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["answered_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kept_informed__gte=SCALE_LOW, kept_informed__lte=SCALE_HIGH),
                name="experience_kept_informed_scale",
            ),
            models.CheckConstraint(
                condition=Q(overall__gte=SCALE_LOW, overall__lte=SCALE_HIGH),
                name="experience_overall_scale",
            ),
        ]


class NoticeChoice(models.Model):
    """Whether the client wants an email when a referral is scheduled or
    declined (to the client's email address, `records.Client.email`)."""

    client = models.OneToOneField(Client, on_delete=models.PROTECT, related_name="notice_choice")
    email_notices = models.BooleanField(default=False)
    changed_at = models.DateTimeField(default=timezone.now)


class ClientNotice(models.Model):
    """One email to the client about one routing event: made in the event's
    delivery (so never lost with it, and never made twice: one per event),
    then sent by a task that claims it first (docs/portal.md, "Emails")."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.OneToOneField(OutboxEvent, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    address = models.EmailField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(sent_at__isnull=True), name="notice_unsent"
            )
        ]
