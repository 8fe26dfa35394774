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
from core.permissions import may_manage_services, may_open_and_close_intake
from core.vocabulary import NAME_LIMIT, REASON_LIMIT, TITLE_LIMIT
from records import events
from records.models import (
    ACCESS_CLIENT_PERMISSION,
    CareTeamMembership,
    Client,
    Entry,
    Organization,
    Provider,
    Service,
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


def _organization_still_on_team(client: Client, organization_id: int) -> bool:
    return CareTeamMembership.objects.filter(
        client=client, organization_id=organization_id, ended_at__isnull=True
    ).exists()


def add_to_care_team(client: Client, provider: Provider) -> CareTeamMembership:
    """Put a provider on the case (idempotent), granting their organization access.

    Call inside the transaction of the change that justifies it; permission
    checks are the caller's.
    """
    membership = CareTeamMembership.objects.filter(
        client=client, provider=provider, ended_at__isnull=True
    ).first()
    if membership is None:
        with conflict_on_duplicate("This provider was just added to the care team."):
            membership = CareTeamMembership.objects.create(
                client=client, provider=provider, organization_id=provider.organization_id
            )
    _grant_organization_access(client, provider.organization)
    return membership


@transaction.atomic
def join_care_team(*, actor: Provider, client: Client, provider: Provider) -> CareTeamMembership:
    if CareTeamMembership.objects.filter(
        client=client, provider=provider, ended_at__isnull=True
    ).exists():
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
        add_to_care_team(existing, provider)
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
    add_to_care_team(client, provider)
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


@transaction.atomic
def add_entry(*, provider: Provider, client: Client, **fields) -> Entry:
    entry = create_entry(client=client, author=provider, **fields)
    record_access(provider, client, Action.ENTRY_CREATE)
    events.entry_added(entry, actor=provider)
    return entry


# --- services: an organization's programs ----------------------------------------------

SERVICE_FIELDS = frozenset({"name", "description", "eligibility", "accepting_referrals"})
INTAKE_FIELDS = frozenset({"accepting_referrals"})


def check_service_name(
    *, organization: Organization, name: str, service: Service | None = None
) -> str:
    """Names are unique within an organization, whatever their case."""
    name = require_text("name", name, NAME_LIMIT)
    taken = Service.objects.filter(organization=organization, name__iexact=name)
    if service is not None:
        taken = taken.exclude(pk=service.pk)
    if taken.exists():
        raise InvalidInput({"name": f"{organization.name} already has a service named {name}."})
    return name


def _optional_text(field: str, value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > REASON_LIMIT:
        limit = f"Ensure this field has no more than {REASON_LIMIT} characters."
        raise InvalidInput({field: limit})
    return text


@transaction.atomic
def create_service(
    *,
    actor: Provider,
    organization: Organization,
    name: str,
    description: str = "",
    eligibility: str = "",
    accepting_referrals: bool = True,
) -> Service:
    """A new program of the organization, open to referrals unless said otherwise."""
    if not may_manage_services(actor, organization.pk):
        raise NotAllowed("Only the organization's admins may add its services.")
    name = check_service_name(organization=organization, name=name)
    with conflict_on_duplicate(f"{organization.name} just got a service named {name}."):
        return Service.objects.create(
            organization=organization,
            name=name,
            description=_optional_text("description", description),
            eligibility=_optional_text("eligibility", eligibility),
            accepting_referrals=accepting_referrals,
        )


def check_service_change(*, actor: Provider, service: Service, fields: set[str]) -> None:
    """Who may change what (403 before any 400 about the values): the
    organization's admins any field but the organization, its intake workers
    only whether it takes referrals."""
    if not may_open_and_close_intake(actor, service.organization_id):
        raise NotAllowed("Only the organization's admins and intake workers may change it.")
    if not may_manage_services(actor, service.organization_id) and fields - INTAKE_FIELDS:
        raise NotAllowed("Intake workers may open and close intake only.")
    if "organization" in fields:
        raise InvalidInput({"organization": "A service stays with its organization."})


@transaction.atomic
def update_service(*, actor: Provider, service: Service, **changes: object) -> Service:
    """Edit a service, or open and close it to referrals. Closing touches no
    referral already sent: those stay in the queue until they are answered."""
    check_service_change(actor=actor, service=service, fields=set(changes))
    unknown = set(changes) - SERVICE_FIELDS
    if unknown:
        raise InvalidInput({field: "This field cannot be changed." for field in sorted(unknown)})
    if "name" in changes:
        changes["name"] = check_service_name(
            organization=service.organization, name=changes["name"], service=service
        )
    for field in ("description", "eligibility"):
        if field in changes:
            changes[field] = _optional_text(field, changes[field])
    if "accepting_referrals" in changes and not isinstance(changes["accepting_referrals"], bool):
        raise InvalidInput({"accepting_referrals": "Must be true or false."})
    if not changes:
        return service
    for field, value in changes.items():
        setattr(service, field, value)
    with conflict_on_duplicate(f"{service.organization.name} just got a service of this name."):
        service.save(update_fields=list(changes))
    return service
