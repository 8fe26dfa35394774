"""Writes of the records app: organizations, providers, clients, care teams, entries.

Each write decides its own rules and raises `core.errors.InvalidInput` by field
when the input breaks one; the `check_…` functions are those rules, which
forms and serializers call to report them beside their own errors.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from core.audit import Action, record_access
from core.errors import (
    Conflict,
    InputErrors,
    InvalidInput,
    NotAllowed,
    conflict_on_duplicate,
    require_text,
)
from core.permissions import may_join_care_teams, may_read_entries
from core.vocabulary import NAME_LIMIT, TITLE_LIMIT
from records import events
from records.models import (
    ACCESS_CLIENT_PERMISSION,
    CareTeamMembership,
    Client,
    Entry,
    MembershipStart,
    Organization,
    Provider,
    normalize_health_card,
)


def organization_group_name(organization_id: int) -> str:
    return f"organization:{organization_id}"


@transaction.atomic
def create_organization(*, name: str, sector: str) -> Organization:
    """The organization and its group, named by the organization's id (a name
    can be changed in the admin; the id never is)."""
    name = require_text("name", name, NAME_LIMIT)
    if Organization.objects.filter(name__iexact=name).exists():
        raise InvalidInput({"name": "An organization with this name already exists."})
    # The group needs a unique name before the organization has its id.
    group = Group.objects.create(name=f"organization:new:{uuid.uuid4()}")
    with conflict_on_duplicate("An organization with this name was just created."):
        organization = Organization.objects.create(name=name, sector=sector, group=group)
    group.name = organization_group_name(organization.pk)
    group.save(update_fields=["name"])
    return organization


def check_new_account(*, username: str, password: str | None, full_name: str = "") -> None:
    """The project's rules for a new sign-in: a free username (whatever its case)
    and a password Django's validators accept."""
    errors = InputErrors()
    errors.check(
        "username",
        not Provider.objects.filter(username__iexact=username).exists(),
        "This username is taken.",
    )
    if password is not None:
        try:
            validate_password(password, Provider(username=username, full_name=full_name))
        except ValidationError as error:
            for message in error.messages:
                errors.add("password", message)
    errors.raise_if_any()


@transaction.atomic
def create_provider(
    *,
    username: str,
    password: str | None,
    full_name: str,
    organization: Organization,
    role: str,
    email: str = "",
) -> Provider:
    username = require_text("username", username, NAME_LIMIT)
    check_new_account(username=username, password=password, full_name=full_name)
    provider = Provider(
        username=username,
        full_name=full_name,
        organization=organization,
        role=role,
        email=email,
    )
    if password:
        provider.set_password(password)
    else:
        provider.set_unusable_password()
    with conflict_on_duplicate("This username was just taken."):
        provider.save()
    sync_provider_group(provider)
    return provider


def sync_provider_group(provider: Provider) -> None:
    """A provider is a member of their organization's group only (care-team access
    is granted to organization groups)."""
    groups = [provider.organization.group] if provider.organization_id else []
    provider.groups.set(groups)


def _grant_organization_access(client: Client, organization: Organization) -> None:
    assign_perm(ACCESS_CLIENT_PERMISSION, organization.group, client)


def _on_care_team(client: Client, provider: Provider) -> bool:
    return CareTeamMembership.objects.filter(
        client=client, provider=provider, ended_at__isnull=True
    ).exists()


def _organization_still_on_team(client: Client, organization_id: int) -> bool:
    return CareTeamMembership.objects.filter(
        client=client, organization_id=organization_id, ended_at__isnull=True
    ).exists()


def check_may_join_care_team(*, provider: Provider) -> None:
    """Minimum necessary: organization admins and privacy officers are never on a
    care team, however they would get there (docs/access-rules.md)."""
    if not may_join_care_teams(provider):
        raise InvalidInput(
            {
                "provider": f"{provider.display_name} is {provider.get_role_display().lower()}: "
                "organization admins and privacy officers do not treat clients and are "
                "never on a care team."
            }
        )


def add_to_care_team(
    client: Client, provider: Provider, began: MembershipStart = MembershipStart.COLLEAGUE
) -> CareTeamMembership:
    """Put a provider on the case (idempotent), granting their organization access.

    Call inside the transaction of the change that justifies it; permission
    checks are the caller's, except the one no caller may skip: only a role that
    treats joins a care team.
    """
    check_may_join_care_team(provider=provider)
    membership = CareTeamMembership.objects.filter(
        client=client, provider=provider, ended_at__isnull=True
    ).first()
    if membership is None:
        with conflict_on_duplicate("This provider was just added to the care team."):
            membership = CareTeamMembership.objects.create(
                client=client,
                provider=provider,
                organization_id=provider.organization_id,
                began=began,
            )
    _grant_organization_access(client, provider.organization)
    return membership


@transaction.atomic
def join_care_team(*, actor: Provider, client: Client, provider: Provider) -> CareTeamMembership:
    if _on_care_team(client, provider):
        raise Conflict("This provider is already on the care team.")
    membership = add_to_care_team(client, provider)
    record_access(actor, client, Action.CARE_TEAM_ADD)
    return membership


@transaction.atomic
def leave_care_team(*, actor: Provider, client: Client, provider: Provider) -> None:
    """End the membership (kept in history). An organization whose last provider
    leaves loses access to the client."""
    memberships = CareTeamMembership.objects.filter(
        client=client, provider=provider, ended_at__isnull=True
    )
    # The organization the provider joined for, which is not their current one if
    # they have moved since: that organization's access is what may end now.
    organization_ids = set(memberships.values_list("organization_id", flat=True))
    if not memberships.update(ended_at=timezone.now()):
        raise Conflict("This provider is not on the care team.")
    record_access(actor, client, Action.CARE_TEAM_REMOVE)
    for organization in Organization.objects.filter(pk__in=organization_ids).select_related(
        "group"
    ):
        if not _organization_still_on_team(client, organization.pk):
            remove_perm(ACCESS_CLIENT_PERMISSION, organization.group, client)


@dataclass(frozen=True)
class ClientRegistration:
    client: Client
    matched: bool


def find_matching_client(
    *, family_name: str, birth_date: date, health_card_number: str
) -> Client | None:
    """Matching at intake: same health card (normalized), birth date and family
    name (case-insensitive). A health card number alone is not unique."""
    normalized = normalize_health_card(health_card_number)
    if not normalized:
        return None
    return (
        Client.objects.filter(
            health_card_normalized=normalized,
            birth_date=birth_date,
            family_name__iexact=family_name.strip(),
        )
        .order_by("created_at")
        .first()
    )


def check_demographics(
    *, given_name: str, family_name: str, birth_date: date, health_card_number: str
) -> None:
    """The rules of a client's identifying details, for intake and edits alike."""
    errors = InputErrors()
    errors.check("given_name", bool(given_name.strip()), "This field may not be blank.")
    errors.check("family_name", bool(family_name.strip()), "This field may not be blank.")
    errors.check(
        "birth_date", birth_date <= timezone.localdate(), "Birth date cannot be in the future."
    )
    errors.check(
        "health_card_number",
        not health_card_number.strip() or bool(normalize_health_card(health_card_number)),
        "Enter a health card number with letters or digits.",
    )
    errors.raise_if_any()


@transaction.atomic
def register_client(
    *,
    provider: Provider,
    given_name: str,
    family_name: str,
    birth_date: date,
    health_card_number: str = "",
    phone: str = "",
    email: str = "",
) -> ClientRegistration:
    """Create a client, or link to the existing record; the caller joins its care team."""
    if not may_join_care_teams(provider):
        raise NotAllowed(
            "Organization admins and privacy officers do not register clients: registering "
            "puts you on the care team."
        )
    health_card_number = (health_card_number or "").strip()
    check_demographics(
        given_name=given_name,
        family_name=family_name,
        birth_date=birth_date,
        health_card_number=health_card_number,
    )
    existing = find_matching_client(
        family_name=family_name, birth_date=birth_date, health_card_number=health_card_number
    )
    if existing is not None:
        already_on_team = _on_care_team(existing, provider)
        membership = add_to_care_team(existing, provider, began=MembershipStart.MATCHING)
        if not already_on_team:
            # Legitimate (the client is in front of them) and watched.
            record_access(provider, existing, Action.JOINED_BY_MATCHING)
            events.care_team_joined(membership, actor=provider)
        else:
            record_access(provider, existing, Action.CLIENT_MATCH)
        return ClientRegistration(existing, matched=True)
    client = Client.objects.create(
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        birth_date=birth_date,
        health_card_number=health_card_number,
        health_card_normalized=normalize_health_card(health_card_number),
        phone=phone or "",
        email=email or "",
        created_by=provider,
    )
    add_to_care_team(client, provider, began=MembershipStart.INTAKE)
    record_access(provider, client, Action.CLIENT_CREATE)
    return ClientRegistration(client, matched=False)


def create_entry(
    *,
    client: Client,
    author: Provider,
    category: str,
    kind: str,
    title: str,
    body: str = "",
    data: dict | None = None,
    occurred_at: datetime | None = None,
) -> Entry:
    """The entry row only, for writes that raise their own event (an intake
    report); `add_entry` is the audited, routed write."""
    now = timezone.now()
    return Entry.objects.create(
        client=client,
        category=category,
        kind=kind,
        title=require_text("title", title, TITLE_LIMIT),
        body=body or "",
        data=data if data is not None else {},
        occurred_at=occurred_at or now,
        created_at=now,
        author=author,
        organization_id=author.organization_id,
    )


def require_entry_reader(user: Provider) -> None:
    """403 for the roles that do not read the record (and so write none either)."""
    if not may_read_entries(user):
        raise NotAllowed(
            "Organization admins and privacy officers do not read or write the record's entries."
        )


@transaction.atomic
def add_entry(*, provider: Provider, client: Client, **fields) -> Entry:
    require_entry_reader(provider)
    entry = create_entry(client=client, author=provider, **fields)
    record_access(provider, client, Action.ENTRY_CREATE)
    events.entry_added(entry, actor=provider)
    return entry
