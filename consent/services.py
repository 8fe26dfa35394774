"""Writes of the consent app: directives, policies, emergency access, audit."""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from consent.models import (
    AccessEvent,
    ConsentDirective,
    ConsentDirectiveCategory,
    ConsentPolicy,
    ConsentPolicyRule,
    EmergencyAccess,
)
from consent.selectors import clients_under_emergency
from records.models import Client, Organization, Provider


class TransitionNotAllowed(Exception):
    """A state change that is not allowed now (API: 409)."""


def record_access(provider: Provider, clients: Sequence[Client] | Client, action: str) -> None:
    """Rule 7: one access event per client, written in one bulk insert."""
    if isinstance(clients, Client):
        clients = [clients]
    if not clients:
        return
    ids = [c.pk for c in clients]
    emergency = clients_under_emergency(provider, ids) if provider.organization_id else set()
    now = timezone.now()
    AccessEvent.objects.bulk_create(
        [
            AccessEvent(
                client_id=client_id,
                provider=provider,
                organization_id=provider.organization_id,
                action=action,
                at=now,
                emergency=client_id in emergency,
            )
            for client_id in ids
        ]
    )


def _create_directive(
    *,
    client: Client,
    recorded_by: Provider,
    effect: str,
    categories: Iterable[str],
    grantee_organization: Organization | None = None,
    grantee_sector: str = "",
    valid_from: datetime | None = None,
    expires_at: datetime | None = None,
    note: str = "",
    policy: ConsentPolicy | None = None,
) -> ConsentDirective:
    directive = ConsentDirective.objects.create(
        client=client,
        effect=effect,
        grantee_organization=grantee_organization,
        grantee_sector=grantee_sector or "",
        valid_from=valid_from or timezone.now(),
        expires_at=expires_at,
        note=note or "",
        recorded_by=recorded_by,
        policy=policy,
    )
    ConsentDirectiveCategory.objects.bulk_create(
        ConsentDirectiveCategory(directive=directive, category=c) for c in dict.fromkeys(categories)
    )
    return directive


@transaction.atomic
def record_consent(
    *, provider: Provider, client: Client, action: str = "consent.record", **directive
) -> ConsentDirective:
    """Record the client's decision, witnessed by `provider`."""
    created = _create_directive(client=client, recorded_by=provider, **directive)
    record_access(provider, client, action)
    return created


@transaction.atomic
def apply_consent_policy(
    *, provider: Provider, client: Client, policy: ConsentPolicy
) -> list[ConsentDirective]:
    """Copy the policy's rules to the client: later edits of the policy do not
    change what the client already agreed to."""
    directives = [
        _create_directive(
            client=client,
            recorded_by=provider,
            effect=rule.effect,
            categories=rule.categories,
            grantee_organization=rule.grantee_organization,
            grantee_sector=rule.grantee_sector,
            policy=policy,
        )
        for rule in policy.rules.select_related("grantee_organization")
    ]
    record_access(provider, client, "consent.apply_policy")
    return directives


@transaction.atomic
def revoke_consent(*, provider: Provider, directive: ConsentDirective) -> ConsentDirective:
    # A conditional UPDATE: of two concurrent revokes exactly one wins.
    now = timezone.now()
    updated = ConsentDirective.objects.filter(pk=directive.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=provider
    )
    if not updated:
        raise TransitionNotAllowed("This consent directive is already revoked.")
    record_access(provider, directive.client, "consent.revoke")
    directive.refresh_from_db()
    return directive


def revoke_consent_silently(directive: ConsentDirective, by: Provider) -> None:
    """Revoke a directive as a consequence of another change (a declined or
    cancelled referral); no-op when already revoked."""
    ConsentDirective.objects.filter(pk=directive.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=by
    )


@transaction.atomic
def grant_emergency_access(*, provider: Provider, client: Client, reason: str) -> EmergencyAccess:
    from referrals.outbox import publish_event

    now = timezone.now()
    grant = EmergencyAccess.objects.create(
        client=client,
        provider=provider,
        organization=provider.organization,
        reason=reason,
        granted_at=now,
        expires_at=now + timedelta(hours=settings.CARELINK_EMERGENCY_ACCESS_HOURS),
    )
    record_access(provider, client, "emergency_access.grant")
    publish_event("emergency_access", client=client, actor=provider, emergency_access=grant)
    return grant


@transaction.atomic
def save_consent_policy(
    *,
    name: str,
    description: str,
    rules: list[dict],
    policy: ConsentPolicy | None = None,
) -> ConsentPolicy:
    """Create or replace a policy with its rules. Directives already copied from it stay."""
    if policy is None:
        policy = ConsentPolicy.objects.create(name=name, description=description or "")
    else:
        ConsentPolicy.objects.filter(pk=policy.pk).update(
            name=name, description=description or "", updated_at=timezone.now()
        )
        policy.refresh_from_db()
        policy.rules.all().delete()
    ConsentPolicyRule.objects.bulk_create(
        ConsentPolicyRule(
            policy=policy,
            effect=rule["effect"],
            grantee_organization=rule.get("grantee_organization"),
            grantee_sector=rule.get("grantee_sector") or "",
            categories=list(dict.fromkeys(rule["categories"])),
        )
        for rule in rules
    )
    return policy


def archive_consent_policy(policy: ConsentPolicy) -> None:
    """Policies are archived, not deleted: directives keep pointing at them."""
    ConsentPolicy.objects.filter(pk=policy.pk, archived_at__isnull=True).update(
        archived_at=timezone.now()
    )
