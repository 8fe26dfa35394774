"""Writes of the records app: organizations, providers, clients, care teams, entries.

Each write decides its own rules and raises `core.errors.InvalidInput` by field
when the input breaks one; the `check_…` functions are those rules, which
forms and serializers call to report them beside their own errors.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
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
from core.permissions import (
    NON_READING_ROLES,
    is_system_admin,
    may_add_providers,
    may_join_care_teams,
    may_manage_services,
    may_open_and_close_intake,
    may_read_entries,
)
from core.vocabulary import BODY_LIMIT, NAME_LIMIT, REASON_LIMIT, TITLE_LIMIT, Role
from records import events
from records.models import (
    ACCESS_CLIENT_PERMISSION,
    CareTeamMembership,
    Client,
    Entry,
    MembershipStart,
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


def _on_care_team(client: Client, provider: Provider) -> bool:
    return CareTeamMembership.objects.filter(
        client=client, provider=provider, ended_at__isnull=True
    ).exists()


def organization_on_care_team(client: Client, organization_id: int | None) -> bool:
    return _organization_still_on_team(client, organization_id)


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
    client: Client, provider: Provider, began: MembershipStart = MembershipStart.UNRECORDED
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
    membership = add_to_care_team(client, provider, began=MembershipStart.COLLEAGUE)
    record_access(actor, client, Action.CARE_TEAM_ADD)
    return membership


def check_may_end_membership(*, actor: Provider, membership: CareTeamMembership) -> None:
    """A provider leaves the case themself, or a colleague of the organization
    they are on it for removes them."""
    if membership.provider_id != actor.pk and membership.organization_id != actor.organization_id:
        raise NotAllowed(
            "Only the provider or a colleague of the same organization may remove them."
        )


@transaction.atomic
def leave_care_team(*, actor: Provider, client: Client, provider: Provider) -> None:
    """End the membership (kept in history, with who ended it). An organization
    whose last provider leaves loses access to the client."""
    memberships = CareTeamMembership.objects.filter(
        client=client, provider=provider, ended_at__isnull=True
    )
    for membership in memberships:
        check_may_end_membership(actor=actor, membership=membership)
    # The organization the provider joined for, which is not their current one if
    # they have moved since: that organization's access is what may end now.
    organization_ids = set(memberships.values_list("organization_id", flat=True))
    if not memberships.update(ended_at=timezone.now(), ended_by=actor):
        raise Conflict("This provider is not on the care team.")
    record_access(actor, client, Action.CARE_TEAM_REMOVE)
    for organization in Organization.objects.filter(pk__in=organization_ids).select_related(
        "group"
    ):
        if not _organization_still_on_team(client, organization.pk):
            remove_perm(ACCESS_CLIENT_PERMISSION, organization.group, client)


# The earliest date the record takes (birth dates, when things happened).
EARLIEST_DATE = date(1900, 1, 1)
EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)


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
    errors.check("birth_date", birth_date >= EARLIEST_DATE, "Birth date cannot be before 1900.")
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


DEMOGRAPHIC_FIELDS = (
    "given_name",
    "family_name",
    "birth_date",
    "health_card_number",
    "phone",
    "email",
)


@transaction.atomic
def update_demographics(*, actor: Provider, client: Client, **changes: object) -> Client:
    """Correct a client's identifying and contact details (audited).

    The matching rules stay true of the record: the same checks as at intake,
    the health card normalized again, and no edit may make this record a twin
    of another (same health card, birth date and family name), which matching
    could then no longer tell apart.
    """
    unknown = set(changes) - set(DEMOGRAPHIC_FIELDS)
    if unknown:
        raise InvalidInput({name: "This field cannot be changed here." for name in unknown})
    values = {name: getattr(client, name) for name in DEMOGRAPHIC_FIELDS} | changes
    values = {
        name: value.strip() if isinstance(value, str) else value for name, value in values.items()
    }
    check_demographics(
        given_name=values["given_name"],
        family_name=values["family_name"],
        birth_date=values["birth_date"],
        health_card_number=values["health_card_number"],
    )
    twin = find_matching_client(
        family_name=values["family_name"],
        birth_date=values["birth_date"],
        health_card_number=values["health_card_number"],
    )
    if twin is not None and twin.pk != client.pk:
        raise InvalidInput(
            {
                "health_card_number": "Another record has this health card number, birth date "
                "and family name: ask the care team to check which record is the client's."
            }
        )
    for name, value in values.items():
        setattr(client, name, value)
    client.health_card_normalized = normalize_health_card(values["health_card_number"])
    client.save(update_fields=[*DEMOGRAPHIC_FIELDS, "health_card_normalized"])
    record_access(actor, client, Action.CLIENT_UPDATE)
    return client


def check_occurred_at(*, occurred_at: datetime | None) -> None:
    """When something happened: from 1900 to now, both ends included."""
    if occurred_at is None:
        return
    if occurred_at > timezone.now():
        raise InvalidInput({"occurred_at": "This cannot be in the future."})
    if occurred_at < EARLIEST_MOMENT:
        raise InvalidInput({"occurred_at": "This cannot be before 1900."})


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
    check_occurred_at(occurred_at=fields.get("occurred_at"))
    entry = create_entry(client=client, author=provider, **fields)
    record_access(provider, client, Action.ENTRY_CREATE)
    events.entry_added(entry, actor=provider)
    return entry


def check_may_change_entry(provider: Provider, entry: Entry, verb: str) -> None:
    """Amending and retracting are for the organization that wrote the entry."""
    _require_authoring_organization(provider, entry, verb)


def _require_authoring_organization(provider: Provider, entry: Entry, verb: str) -> None:
    require_entry_reader(provider)
    if provider.organization_id != entry.organization_id:
        raise NotAllowed(f"Only the organization that wrote an entry may {verb} it.")


def check_entry_is_current(entry: Entry, verb: str) -> None:
    """Only the newest version of an entry that is not retracted is amended or
    retracted (`verb`: "amend" or "retract"); otherwise a 409 that says why."""
    if entry.retracted_at is not None:
        if verb == "retract":
            raise Conflict("This entry is already retracted.")
        raise Conflict(f"This entry was retracted; it cannot be {verb}ed.")
    if entry.superseded_at is not None:
        raise Conflict(f"This version was amended since; {verb} the newest version instead.")


@transaction.atomic
def amend_entry(
    *, provider: Provider, entry: Entry, title: str, body: str | None = None, reason: str = ""
) -> Entry:
    """A new version of the entry, by its own organization; the original is kept,
    marked superseded, and stays readable by id for whoever may see it. The new
    version keeps the client, category, kind and when it happened, so consent
    decides about it exactly as about the original."""
    _require_authoring_organization(provider, entry, "amend")
    check_entry_is_current(entry, "amend")
    title = require_text("title", title, TITLE_LIMIT)
    body = entry.body if body is None else body
    if len(body) > BODY_LIMIT:
        raise InvalidInput({"body": f"Ensure this field has no more than {BODY_LIMIT} characters."})
    if len(reason or "") > REASON_LIMIT:
        raise InvalidInput(
            {"reason": f"Ensure this field has no more than {REASON_LIMIT} characters."}
        )
    now = timezone.now()
    # Of two concurrent amendments exactly one supersedes the original.
    claimed = Entry.objects.filter(
        pk=entry.pk, superseded_at__isnull=True, retracted_at__isnull=True
    ).update(superseded_at=now)
    if not claimed:
        raise Conflict("This entry was just amended or retracted by someone else.")
    amendment = Entry.objects.create(
        client_id=entry.client_id,
        category=entry.category,
        kind=entry.kind,
        title=title,
        body=body,
        data=entry.data,
        occurred_at=entry.occurred_at,
        created_at=now,
        author=provider,
        organization_id=entry.organization_id,
        amends=entry,
        amend_reason=(reason or "").strip(),
    )
    record_access(provider, entry.client, Action.ENTRY_AMEND)
    return amendment


@transaction.atomic
def retract_entry(*, provider: Provider, entry: Entry, reason: str) -> Entry:
    """Withdraw an entry written in error: the row stays (never deleted); its
    readers see a tombstone with who, when and why, and no content."""
    _require_authoring_organization(provider, entry, "retract")
    reason = require_text("reason", reason, REASON_LIMIT)
    check_entry_is_current(entry, "retract")
    now = timezone.now()
    claimed = Entry.objects.filter(pk=entry.pk, retracted_at__isnull=True).update(
        retracted_at=now, retracted_by=provider, retract_reason=reason
    )
    if not claimed:
        raise Conflict("This entry is already retracted.")
    record_access(provider, entry.client, Action.ENTRY_RETRACT)
    entry.refresh_from_db()
    return entry


# --- an organization's staff ----------------------------------------------------------


def require_staff_manager(actor: Provider, provider: Provider) -> None:
    """System admins manage any account; organization admins their own
    organization's providers (a 404 for others is the caller's lookup)."""
    if not may_add_providers(actor, provider.organization_id) or provider.client_id:
        raise NotAllowed("Only your organization's admin may change this account.")
    if provider.is_superuser and not is_system_admin(actor):
        raise NotAllowed("Only system admins may change a system admin's account.")


@transaction.atomic
def update_provider(*, actor: Provider, provider: Provider, full_name: str, role: str) -> Provider:
    """Rename a provider or change their role. A role that does not treat is
    never on a care team, so a provider on a case keeps a treating role until
    they leave it (minimum necessary)."""
    require_staff_manager(actor, provider)
    full_name = require_text("full_name", full_name, NAME_LIMIT)
    if role not in Role.values:
        raise InvalidInput({"role": f'"{role}" is not a role.'})
    if role in NON_READING_ROLES and role != provider.role:
        cases = CareTeamMembership.objects.filter(provider=provider, ended_at__isnull=True).count()
        if cases:
            raise InvalidInput(
                {
                    "role": f"{provider.display_name} is on {cases} client"
                    f"{'s' if cases != 1 else ''}' care team{'s' if cases != 1 else ''}; "
                    "organization admins and privacy officers are on none. They leave "
                    "those cases first."
                }
            )
    if provider.pk == actor.pk and role != provider.role and not is_system_admin(actor):
        raise InvalidInput({"role": "You cannot change your own role."})
    Provider.objects.filter(pk=provider.pk).update(full_name=full_name, role=role)
    provider.refresh_from_db()
    return provider


@transaction.atomic
def reset_password(*, actor: Provider, provider: Provider, password: str) -> None:
    """A new password chosen by the admin, under the project's password rules.
    Django's session check ends the provider's other sessions (the password
    hash is part of every session)."""
    require_staff_manager(actor, provider)
    try:
        validate_password(password, provider)
    except ValidationError as error:
        raise InvalidInput({"password": error.messages}) from None
    provider.set_password(password)
    provider.save(update_fields=["password"])
    _end_sessions(provider)


def _end_sessions(provider: Provider) -> int:
    """Delete the provider's browser sessions now. Sessions are not indexed by
    account, so this reads them all — a few per active user, each gone after
    the idle logoff; deactivation is rare."""
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(session.get_decoded().get("_auth_user_id")) == str(provider.pk)
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


@transaction.atomic
def deactivate_provider(*, actor: Provider, provider: Provider) -> Provider:
    """Someone who left: they cannot sign in again and their browser sessions end
    now. (Their API tokens: `accounts.services.deactivate`, the write the pages
    call, revokes them in the same transaction; the token check also refuses
    any inactive account.) Their name stays on everything they wrote; their
    care-team memberships stay until a colleague takes the case over, so the
    organization keeps access."""
    require_staff_manager(actor, provider)
    if provider.pk == actor.pk:
        raise InvalidInput({"is_active": "You cannot deactivate your own account."})
    if not provider.is_active:
        raise Conflict(f"{provider.display_name} is already deactivated.")
    Provider.objects.filter(pk=provider.pk).update(is_active=False)
    _end_sessions(provider)
    provider.refresh_from_db()
    return provider


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
