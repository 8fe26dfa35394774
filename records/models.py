"""Organizations, accounts, clients, care teams and the shared record's entries."""

import re
import uuid

from django.contrib.auth.models import AbstractUser, Group
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from core.vocabulary import (
    BODY_LIMIT,
    NAME_LIMIT,
    REASON_LIMIT,
    TITLE_LIMIT,
    Category,
    EntryKind,
    Role,
    Sector,
)

# The object permission a care-team organization's group holds on the client
# (django-guardian): rule 1's rows (docs/access-rules.md).
ACCESS_CLIENT_PERMISSION = "records.access_client"


def _in_choices(field: str, choices: type[models.TextChoices]) -> Q:
    return Q(**{f"{field}__in": choices.values})


class Organization(models.Model):
    name = models.CharField(max_length=NAME_LIMIT, unique=True)
    sector = models.CharField(max_length=32, choices=Sector.choices)
    # Each organization's providers are members of its group; care-team access is
    # granted to the group as a django-guardian object permission on the client.
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="organization")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=_in_choices("sector", Sector), name="organization_sector_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    """One program an organization offers (adult counselling, supportive
    housing): what a referral is sent to and what a wait is measured for
    (docs/capacity.md).

    `queue_warned_at` is when the early warning last went out: the warning
    claims its 7-day window with one conditional UPDATE of this row, so two
    referrals delivered at the same instant raise it once.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="services"
    )
    name = models.CharField(max_length=NAME_LIMIT)
    description = models.TextField(max_length=REASON_LIMIT, blank=True)
    eligibility = models.TextField(max_length=REASON_LIMIT, blank=True)
    accepting_referrals = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    queue_warned_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["organization__name", "name", "id"]
        constraints = [
            # "Adult counselling" and "adult counselling" are one program.
            models.UniqueConstraint(
                "organization", Lower("name"), name="service_name_unique_in_organization"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Provider(AbstractUser):
    """An account: a provider of an organization (with a role), a system admin
    (a superuser with no organization), or a client's own account for the
    portal (`client` set, no organization, no role). `core.permissions` tells
    them apart; the three never overlap (constraints below)."""

    full_name = models.CharField(max_length=NAME_LIMIT, blank=True)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="providers",
    )
    role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    client = models.OneToOneField(
        "Client", on_delete=models.PROTECT, null=True, blank=True, related_name="account"
    )

    class Meta:
        ordering = ["full_name", "username"]
        constraints = [
            # A client's account is nobody's provider and no administrator.
            models.CheckConstraint(
                condition=Q(client__isnull=True)
                | Q(organization__isnull=True, role="", is_staff=False, is_superuser=False),
                name="client_account_is_no_provider",
            ),
            models.CheckConstraint(
                condition=Q(role="") | _in_choices("role", Role), name="provider_role_valid"
            ),
            # A provider of an organization has a role; a provider with a role has one.
            models.CheckConstraint(
                condition=Q(organization__isnull=True, role="")
                | Q(organization__isnull=False) & ~Q(role=""),
                name="provider_organization_has_role",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")


def normalize_health_card(number: str) -> str:
    """Health card numbers are written with and without dashes and spaces."""
    return _NOT_ALNUM.sub("", number or "").upper()


class Client(models.Model):
    """The person receiving care: one record across all organizations."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    given_name = models.CharField(max_length=NAME_LIMIT)
    family_name = models.CharField(max_length=NAME_LIMIT)
    birth_date = models.DateField()
    health_card_number = models.CharField(max_length=32, blank=True)
    health_card_normalized = models.CharField(max_length=32, blank=True, editable=False)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        indexes = [
            models.Index(fields=["health_card_normalized", "birth_date"]),
            models.Index(fields=["family_name", "given_name"]),
            # Every column a search filters and sorts on, by client id: so a
            # search can take the caller's clients one by one without reading
            # their rows (PostgreSQL; docs/performance.md, "Province scale",
            # change 32).
            models.Index(
                fields=["id"],
                include=["family_name", "given_name", "health_card_normalized", "birth_date"],
                name="client_search_columns",
            ),
        ]
        permissions = [("access_client", "Access the client's record as a care-team organization")]

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name}"


class MembershipStart(models.TextChoices):
    """How a provider came onto a case: the care team shows it, so that a join
    by matching (three identifiers typed at intake) is never silent."""

    INTAKE = "intake", "registered the client at intake"
    MATCHING = "matching", "joined at intake by matching"
    COLLEAGUE = "colleague", "added by a colleague"
    REFERRAL = "referral", "accepted a referral"
    UNRECORDED = "", "on the care team"  # memberships from before this was kept


class CareTeamMembership(models.Model):
    """A provider on a client's case, kept in history with an end date when they leave."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="care_team")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="memberships")
    # The provider's organization when they joined: access is by organization.
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    since = models.DateTimeField(default=timezone.now)
    began = models.CharField(max_length=16, choices=MembershipStart.choices, blank=True, default="")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["since", "id"]
        constraints = [
            models.CheckConstraint(
                condition=_in_choices("began", MembershipStart), name="care_team_began_valid"
            ),
            models.UniqueConstraint(
                fields=["client", "provider"],
                condition=Q(ended_at__isnull=True),
                name="care_team_one_active_membership",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("since")),
                name="care_team_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["client", "organization"], name="care_team_client_org")]


class Entry(models.Model):
    """One item of the shared record. Never deleted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the three indexes below lead with the client.
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    category = models.CharField(max_length=32, choices=Category.choices)
    kind = models.CharField(max_length=32, choices=EntryKind.choices)
    title = models.CharField(max_length=TITLE_LIMIT)
    body = models.TextField(max_length=BODY_LIMIT, blank=True)
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    author = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    # Amending keeps the original: the new version points at the one it amends,
    # and the original is marked superseded (lists show the newest version).
    amends = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="amended_by"
    )
    amend_reason = models.TextField(max_length=REASON_LIMIT, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    # Retracting keeps the row: its readers see a tombstone in its place.
    retracted_at = models.DateTimeField(null=True, blank=True)
    retracted_by = models.ForeignKey(
        Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    retract_reason = models.TextField(max_length=REASON_LIMIT, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-created_at", "-id"]
        verbose_name_plural = "entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(retracted_at__isnull=True) | Q(retracted_by__isnull=False),
                name="entry_retracted_by_someone",
            ),
            models.CheckConstraint(
                condition=_in_choices("category", Category), name="entry_category_valid"
            ),
            models.CheckConstraint(
                condition=_in_choices("kind", EntryKind), name="entry_kind_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["client", "-occurred_at"], name="entry_client_timeline"),
            models.Index(fields=["client", "category"], name="entry_client_category"),
            # A timeline's rule 2 (its reader's organization's own entries),
            # within the client: without it PostgreSQL may AND the client's
            # entries with all of the organization's, a cost that grows with
            # the organization (docs/performance.md, "Province scale").
            models.Index(fields=["client", "organization"], name="entry_client_organization"),
        ]

    def __str__(self) -> str:
        return self.title


# django-guardian with a direct foreign-key table (not the generic one): the
# care-team organizations' groups hold `access_client` on the client. There is
# no per-user table: access is by organization, never by person.
from guardian.models import GroupObjectPermissionBase  # noqa: E402


class ClientGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Client, on_delete=models.CASCADE)
