"""Writes of the records app: organizations, providers, clients, care teams, entries."""

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from consent.selectors import ACCESS_CLIENT_PERMISSION
from consent.services import TransitionNotAllowed, record_access
from records.models import (
    CareTeamMembership,
    Client,
    Entry,
    Organization,
    Provider,
    normalize_health_card,
)


@transaction.atomic
def create_organization(*, name: str, sector: str) -> Organization:
    group = Group.objects.create(name=f"organization:{name}")
    return Organization.objects.create(name=name, sector=sector, group=group)


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
        raise TransitionNotAllowed("This provider is already on the care team.")
    membership = add_to_care_team(client, provider)
    record_access(actor, client, "care_team.add")
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
        raise TransitionNotAllowed("This provider is not on the care team.")
    record_access(actor, client, "care_team.remove")
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
    existing = find_matching_client(
        family_name=family_name, birth_date=birth_date, health_card_number=health_card_number
    )
    if existing is not None:
        add_to_care_team(existing, provider)
        record_access(provider, existing, "client.match")
        return ClientRegistration(existing, matched=True)
    client = Client.objects.create(
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        birth_date=birth_date,
        health_card_number=(health_card_number or "").strip(),
        health_card_normalized=normalize_health_card(health_card_number),
        phone=phone or "",
        email=email or "",
        created_by=provider,
    )
    add_to_care_team(client, provider)
    record_access(provider, client, "client.create")
    return ClientRegistration(client, matched=False)


@transaction.atomic
def update_client(*, provider: Provider, client: Client, **fields) -> Client:
    for name, value in fields.items():
        setattr(client, name, value)
    client.health_card_normalized = normalize_health_card(client.health_card_number)
    client.save()
    record_access(provider, client, "client.update")
    return client


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
    """The entry row only; `add_entry` is the audited, routed write."""
    now = timezone.now()
    return Entry.objects.create(
        client=client,
        category=category,
        kind=kind,
        title=title,
        body=body or "",
        data=data if data is not None else {},
        occurred_at=occurred_at or now,
        created_at=now,
        author=author,
        organization_id=author.organization_id,
    )


@transaction.atomic
def add_entry(*, provider: Provider, client: Client, **fields) -> Entry:
    from referrals.outbox import publish_event

    entry = create_entry(client=client, author=provider, **fields)
    record_access(provider, client, "entry.create")
    publish_event("entry_added", client=client, actor=provider, entry=entry)
    return entry
