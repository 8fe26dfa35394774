"""Consent directives and policies, and emergency access."""

import uuid

import pgtrigger
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.vocabulary import NAME_LIMIT, REASON_LIMIT, Category, Sector
from records.models import Client, Organization, Provider


class Effect(models.TextChoices):
    PERMIT = "permit", "Permit"
    DENY = "deny", "Deny"


_ONE_GRANTEE = Q(grantee_organization__isnull=False, grantee_sector="") | Q(
    grantee_organization__isnull=True
) & ~Q(grantee_sector="")


class ConsentPolicy(models.Model):
    """A named template of directives; applying it copies its rules to the client."""

    name = models.CharField(max_length=NAME_LIMIT, unique=True)
    description = models.TextField(max_length=REASON_LIMIT, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "consent policies"

    def __str__(self) -> str:
        return self.name


def validate_categories(value: object) -> None:
    """A model field validator (the admin's path to policy rules)."""
    if not isinstance(value, list) or not value:
        raise ValidationError("Give a non-empty list of categories.")
    unknown = [c for c in value if c not in Category.values]
    if unknown:
        raise ValidationError(f"Unknown categories: {', '.join(map(str, unknown))}.")


class ConsentPolicyRule(models.Model):
    policy = models.ForeignKey(ConsentPolicy, on_delete=models.CASCADE, related_name="rules")
    effect = models.CharField(max_length=8, choices=Effect.choices)
    grantee_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    grantee_sector = models.CharField(max_length=32, choices=Sector.choices, blank=True)
    categories = models.JSONField(default=list, validators=[validate_categories])

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=_ONE_GRANTEE, name="policy_rule_one_grantee"),
            models.CheckConstraint(
                condition=Q(effect__in=Effect.values), name="policy_rule_effect_valid"
            ),
        ]


class ConsentDirective(models.Model):
    """The client's decision to permit or deny a grantee some categories.

    Never deleted: revoking sets `revoked_at`, so the history of what the client
    agreed to stays readable.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="consents")
    effect = models.CharField(max_length=8, choices=Effect.choices)
    grantee_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    grantee_sector = models.CharField(max_length=32, choices=Sector.choices, blank=True)
    valid_from = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    policy = models.ForeignKey(
        ConsentPolicy, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(max_length=REASON_LIMIT, blank=True)

    class Meta:
        ordering = ["-recorded_at", "id"]
        constraints = [
            models.CheckConstraint(condition=_ONE_GRANTEE, name="directive_one_grantee"),
            models.CheckConstraint(
                condition=Q(effect__in=Effect.values), name="directive_effect_valid"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=models.F("valid_from")),
                name="directive_expires_after_start",
            ),
        ]
        # The history of what the client decided cannot be rewritten, even from a
        # database shell (PostgreSQL): a directive is never deleted, and the one
        # change it may see is its revocation, once.
        triggers = [
            pgtrigger.Protect(name="directive_never_deleted", operation=pgtrigger.Delete),
            pgtrigger.Protect(
                name="directive_changes_only_by_revocation",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange(exclude=["revoked_at", "revoked_by"]),
            ),
            pgtrigger.Protect(
                name="directive_revoked_once",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__revoked_at__isnull=False),
            ),
        ]

    @property
    def categories(self) -> list[str]:
        return [c.category for c in self.category_rows.all()]

    def is_active(self, at=None) -> bool:
        at = at or timezone.now()
        return (
            self.revoked_at is None
            and self.valid_from <= at
            and (self.expires_at is None or at < self.expires_at)
        )


class ConsentDirectiveCategory(models.Model):
    """One category a directive covers: a row each so the decision stays set-based SQL."""

    directive = models.ForeignKey(
        ConsentDirective, on_delete=models.PROTECT, related_name="category_rows"
    )
    category = models.CharField(max_length=32, choices=Category.choices)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["directive", "category"], name="directive_category_once"
            ),
            models.CheckConstraint(
                condition=Q(category__in=Category.values), name="directive_category_valid"
            ),
        ]
        indexes = [models.Index(fields=["category", "directive"], name="directive_category_idx")]
        triggers = [
            pgtrigger.Protect(
                name="directive_category_fixed", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]


class EmergencyAccess(models.Model):
    """A justified, time-limited override of the client's restrictions, for one provider."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="emergency_accesses")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(max_length=REASON_LIMIT)
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-granted_at"]
        verbose_name_plural = "emergency accesses"
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("granted_at")),
                name="emergency_expires_after_grant",
            ),
        ]
        indexes = [models.Index(fields=["client", "provider", "expires_at"])]


class EmergencyAccessReview(models.Model):
    """A privacy officer's acknowledgement of an emergency access on a client of
    their organization, with their note. One per access and organization: each
    care-team organization's privacy officers review it for their own."""

    emergency_access = models.ForeignKey(
        EmergencyAccess, on_delete=models.PROTECT, related_name="reviews"
    )
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    reviewed_by = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(max_length=REASON_LIMIT)
    reviewed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-reviewed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["emergency_access", "organization"], name="emergency_review_once"
            ),
        ]
