"""Writes of the consent app: directives, policies, emergency access.

Each write is one transaction with its audit row (and, for emergency access,
its routing event), and decides its own input rules.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from consent import events
from consent.models import (
    ConsentDirective,
    ConsentDirectiveCategory,
    ConsentPolicy,
    ConsentPolicyRule,
    EmergencyAccess,
    EmergencyAccessReview,
)
from core.audit import UNDER_EMERGENCY, Action, record_access
from core.errors import Conflict, InvalidInput, NotAllowed, conflict_on_duplicate, require_text
from core.permissions import may_break_the_glass, may_review_emergency_access
from core.vocabulary import NAME_LIMIT, REASON_LIMIT
from records.models import Client, Organization, Provider

EMERGENCY_REASON_MIN = 20
# A consent policy is a template a person can read through: a bounded one. (One
# with 10,000 rules once made 10,000 directives for one client in 15 s.)
POLICY_RULE_LIMIT = 50


ONE_GRANTEE = "Give exactly one grantee: grantee_organization or grantee_sector."


def check_one_grantee(*, grantee_organization: object, grantee_sector: object) -> None:
    """A directive (or a policy's rule) names an organization or a sector, never
    both and never neither: 400 naming both fields."""
    if bool(grantee_organization) == bool(grantee_sector):
        raise InvalidInput({"grantee_organization": [ONE_GRANTEE], "grantee_sector": [ONE_GRANTEE]})


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
    *,
    provider: Provider,
    client: Client,
    action: Action = Action.CONSENT_RECORD,
    **directive,
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
    record_access(provider, client, Action.CONSENT_APPLY_POLICY)
    return directives


@transaction.atomic
def revoke_consent(*, provider: Provider, directive: ConsentDirective) -> ConsentDirective:
    # A conditional UPDATE: of two concurrent revokes exactly one wins.
    now = timezone.now()
    updated = ConsentDirective.objects.filter(pk=directive.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=provider
    )
    if not updated:
        raise Conflict("This consent directive is already revoked.")
    record_access(provider, directive.client, Action.CONSENT_REVOKE)
    directive.refresh_from_db()
    return directive


def revoke_consent_silently(directive: ConsentDirective, by: Provider) -> None:
    """Revoke a directive as a consequence of another change (a declined or
    cancelled referral); no-op when already revoked."""
    ConsentDirective.objects.filter(pk=directive.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=by
    )


def require_may_break_the_glass(provider: Provider) -> None:
    """Minimum necessary: the roles that do not read the record cannot lift its limits."""
    if not may_break_the_glass(provider):
        raise NotAllowed("Organization admins and privacy officers have no emergency access.")


@transaction.atomic
def grant_emergency_access(*, provider: Provider, client: Client, reason: str) -> EmergencyAccess:
    require_may_break_the_glass(provider)
    reason = require_text("reason", reason, REASON_LIMIT)
    if len(reason) < EMERGENCY_REASON_MIN:
        raise InvalidInput(
            {"reason": f"Give a reason of at least {EMERGENCY_REASON_MIN} characters."}
        )
    now = timezone.now()
    grant = EmergencyAccess.objects.create(
        client=client,
        provider=provider,
        organization=provider.organization,
        reason=reason,
        granted_at=now,
        expires_at=now + timedelta(hours=settings.CARELINK_EMERGENCY_ACCESS_HOURS),
    )
    # The gate read the caller's emergency access with the client, before this
    # grant existed: the audit and the engine ask again (core.audit.emergency_as_read).
    vars(client).pop(UNDER_EMERGENCY, None)
    record_access(provider, client, Action.EMERGENCY_ACCESS_GRANT)
    events.emergency_access_granted(grant, actor=provider)
    return grant


@transaction.atomic
def acknowledge_emergency_access(
    *, officer: Provider, grant: EmergencyAccess, note: str
) -> EmergencyAccessReview:
    """A privacy officer has looked at an emergency access on one of their
    organization's clients and says what they found (audited). Once per
    organization."""
    if not may_review_emergency_access(officer):
        raise NotAllowed("Only privacy officers review emergency accesses.")
    note = require_text("note", note, REASON_LIMIT)
    with conflict_on_duplicate("Your organization has reviewed this emergency access already."):
        review = EmergencyAccessReview.objects.create(
            emergency_access=grant,
            organization_id=officer.organization_id,
            reviewed_by=officer,
            note=note,
        )
    record_access(officer, grant.client, Action.EMERGENCY_ACCESS_REVIEW)
    return review


def check_policy_name(name: str, policy: ConsentPolicy | None = None) -> str:
    """A policy's name: not blank, and no other policy's (whatever its case)."""
    name = require_text("name", name, NAME_LIMIT)
    taken = ConsentPolicy.objects.filter(name__iexact=name)
    if policy is not None:
        taken = taken.exclude(pk=policy.pk)
    if taken.exists():
        raise InvalidInput({"name": "A consent policy with this name already exists."})
    return name


@transaction.atomic
def save_consent_policy(
    *,
    name: str,
    description: str,
    rules: list[dict],
    policy: ConsentPolicy | None = None,
) -> ConsentPolicy:
    """Create or replace a policy with its rules. Directives already copied from it stay."""
    name = check_policy_name(name, policy)
    if len(rules) > POLICY_RULE_LIMIT:
        raise InvalidInput({"rules": f"A consent policy holds at most {POLICY_RULE_LIMIT} rules."})
    with conflict_on_duplicate("A consent policy with this name was just saved."):
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
