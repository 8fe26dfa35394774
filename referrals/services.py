"""Writes of the referrals app: the closed loop of a referral.

Each transition is one transaction holding the state change, its audit row and
its routing event. The state change is a conditional UPDATE along a row of
`referrals.transitions.TRANSITIONS`, so of two concurrent transitions (accept
and cancel, say) exactly one wins and the other gets a 409.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from consent.models import Effect
from consent.selectors import visible_clients
from consent.services import record_consent, revoke_consent_silently
from core.audit import Action, record_access
from core.errors import Conflict, InvalidInput, NotAllowed, conflict_on_duplicate, require_text
from core.vocabulary import BODY_LIMIT, REASON_LIMIT, TITLE_LIMIT, Category, EntryKind
from records.models import Client, MembershipStart, Organization, Provider, Service
from records.services import add_to_care_team, create_entry
from referrals import events
from referrals.models import Referral, ReferralStatus, Urgency
from referrals.transitions import (
    STOPS_WAITING,
    ReferralAction,
    next_state,
    require_side,
    states_allowing,
)


def _transition(
    referral: Referral, action: ReferralAction, at: datetime | None = None, **changes: Any
) -> Referral:
    """Move the referral on only if it is still in a state the table allows (one UPDATE).

    A transition out of the queue also marks, in the same UPDATE, the moment
    the referral stopped waiting — only the first time (`Coalesce` keeps an
    earlier one), so rescheduling never counts a referral as leaving twice."""
    allowed = states_allowing(action)
    if action in STOPS_WAITING:
        changes["stopped_waiting_at"] = Coalesce(
            F("stopped_waiting_at"), Value(at or timezone.now(), output_field=DateTimeField())
        )
    updated = Referral.objects.filter(pk=referral.pk, status__in=allowed).update(
        status=next_state(action), **changes
    )
    if not updated:
        current = Referral.objects.filter(pk=referral.pk).values_list("status", flat=True).first()
        allowed_text = " or ".join(allowed)
        raise Conflict(
            f"This referral is {current}; it can be {action.label} only while {allowed_text}."
        )
    referral.refresh_from_db()
    return referral


def _categories(field: str, values: Iterable[str] | None) -> list[str]:
    categories = list(dict.fromkeys(values or []))
    unknown = [c for c in categories if c not in Category.values]
    if unknown:
        raise InvalidInput({field: f"Unknown categories: {', '.join(unknown)}."})
    return categories


def referral_destination(
    *,
    provider: Provider,
    to_organization: Organization | None = None,
    service: Service | None = None,
) -> Organization:
    """Where a referral goes: the organization named, or the service's. With
    both, the service must be that organization's; never the referrer's own."""
    if service is None and to_organization is None:
        raise InvalidInput({"to_organization": "Choose an organization or one of its services."})
    if (
        service is not None
        and to_organization is not None
        and service.organization_id != to_organization.pk
    ):
        raise InvalidInput({"service": "This service is not one of the organization referred to."})
    organization = to_organization if to_organization is not None else service.organization
    if organization.pk == provider.organization_id:
        field = "to_organization" if to_organization is not None else "service"
        raise InvalidInput({field: "Refer to another organization than your own."})
    return organization


def check_service_accepting(service: Service | None) -> None:
    """A closed service is shown but takes no referral (409): not bad input, a state."""
    if service is not None and not service.accepting_referrals:
        raise Conflict(
            f"{service.name} is not accepting referrals now; choose another service "
            "or ask its organization when it reopens."
        )


@transaction.atomic
def refer_client(
    *,
    provider: Provider,
    client: Client,
    reason: str,
    urgency: str,
    to_organization: Organization | None = None,
    service: Service | None = None,
    share_categories: Iterable[str] | None = None,
    redirected_from: Referral | None = None,
) -> Referral:
    """Send a referral from the provider's organization, to an organization or
    to one of its services. The client's consent given at referral
    (`share_categories`) becomes a permit directive for the receiving
    organization, revoked again if the referral is declined or cancelled.

    Errors in the contract's order: 403 (not on the care team), 400 (bad
    input), then 409 (the service is closed) — nothing is written before."""
    if not visible_clients(provider).filter(pk=client.pk).exists():
        raise NotAllowed("Only providers of the client's care team may refer the client.")
    to_organization = referral_destination(
        provider=provider, to_organization=to_organization, service=service
    )
    if urgency not in Urgency.values:
        raise InvalidInput({"urgency": f'"{urgency}" is not a valid urgency.'})
    reason = require_text("reason", reason, REASON_LIMIT)
    categories = _categories("share_categories", share_categories)
    if service is not None:
        # Read again inside the transaction: the form may have seen it open.
        service = Service.objects.get(pk=service.pk)
    check_service_accepting(service)

    directive = None
    if categories:
        directive = record_consent(
            provider=provider,
            client=client,
            action=Action.CONSENT_RECORD_AT_REFERRAL,
            effect=Effect.PERMIT,
            categories=categories,
            grantee_organization=to_organization,
            note="Consent given at referral.",
        )
    referral = Referral.objects.create(
        client=client,
        from_organization_id=provider.organization_id,
        to_organization=to_organization,
        service=service,
        referred_by=provider,
        reason=reason,
        urgency=urgency,
        consent_directive=directive,
        redirected_from=redirected_from,
    )
    record_access(provider, client, Action.REFERRAL_CREATE)
    events.referral_sent(referral, actor=provider)
    return referral


@transaction.atomic
def accept_referral(*, provider: Provider, referral: Referral) -> Referral:
    """The receiving organization takes the client on; the accepting provider
    joins the care team, which opens the record to their organization (rule 1)."""
    require_side(provider, referral, ReferralAction.ACCEPT)
    referral = _transition(
        referral, ReferralAction.ACCEPT, accepted_at=timezone.now(), accepted_by=provider
    )
    add_to_care_team(referral.client, provider, began=MembershipStart.REFERRAL)
    record_access(provider, referral.client, Action.REFERRAL_ACCEPT)
    events.referral_accepted(referral, actor=provider)
    return referral


def _withdraw_shared_consent(referral: Referral, provider: Provider) -> None:
    if referral.consent_directive_id is not None:
        revoke_consent_silently(referral.consent_directive, provider)


@transaction.atomic
def decline_referral(*, provider: Provider, referral: Referral, reason: str) -> Referral:
    require_side(provider, referral, ReferralAction.DECLINE)
    reason = require_text("reason", reason, REASON_LIMIT)
    now = timezone.now()
    referral = _transition(
        referral, ReferralAction.DECLINE, at=now, declined_at=now, decline_reason=reason
    )
    _withdraw_shared_consent(referral, provider)
    record_access(provider, referral.client, Action.REFERRAL_DECLINE)
    events.referral_declined(referral, actor=provider)
    return referral


@transaction.atomic
def schedule_referral(
    *, provider: Provider, referral: Referral, appointment_at: datetime
) -> Referral:
    """Set (or move) the appointment; scheduling again reschedules."""
    require_side(provider, referral, ReferralAction.SCHEDULE)
    if appointment_at < referral.created_at:
        raise InvalidInput(
            {"appointment_at": "The appointment cannot be before the referral was sent."}
        )
    referral = _transition(referral, ReferralAction.SCHEDULE, appointment_at=appointment_at)
    record_access(provider, referral.client, Action.REFERRAL_SCHEDULE)
    events.referral_scheduled(referral, actor=provider)
    return referral


@transaction.atomic
def complete_referral(*, provider: Provider, referral: Referral, report: dict) -> Referral:
    """Close the loop: the intake report becomes an entry authored by the receiving
    organization, routed as `intake_report` only (not also `entry_added`)."""
    require_side(provider, referral, ReferralAction.COMPLETE)
    title = require_text("title", report.get("title", ""), TITLE_LIMIT)
    body = report.get("body") or ""
    if len(body) > BODY_LIMIT:
        raise InvalidInput({"body": f"Ensure this field has no more than {BODY_LIMIT} characters."})
    category = report.get("category")
    if category not in Category.values:
        raise InvalidInput({"category": f'"{category}" is not a category.'})
    now = timezone.now()
    referral = _transition(referral, ReferralAction.COMPLETE, at=now, completed_at=now)
    entry = create_entry(
        client=referral.client,
        author=provider,
        category=category,
        kind=EntryKind.INTAKE_REPORT,
        title=title,
        body=body,
        occurred_at=now,
    )
    Referral.objects.filter(pk=referral.pk).update(report_entry=entry)
    referral.report_entry = entry
    record_access(provider, referral.client, Action.REFERRAL_COMPLETE)
    events.intake_report_filed(referral, actor=provider)
    return referral


@transaction.atomic
def cancel_referral(*, provider: Provider, referral: Referral, reason: str) -> Referral:
    require_side(provider, referral, ReferralAction.CANCEL)
    reason = require_text("reason", reason, REASON_LIMIT)
    now = timezone.now()
    referral = _transition(
        referral, ReferralAction.CANCEL, at=now, cancelled_at=now, cancel_reason=reason
    )
    _withdraw_shared_consent(referral, provider)
    record_access(provider, referral.client, Action.REFERRAL_CANCEL)
    events.referral_cancelled(referral, actor=provider)
    return referral


def shared_categories(referral: Referral) -> list[str]:
    """What the client agreed to share with the receiving organization at referral."""
    if referral.consent_directive_id is None:
        return []
    return referral.consent_directive.categories


@transaction.atomic
def redirect_referral(
    *,
    provider: Provider,
    referral: Referral,
    to_organization: Organization | None = None,
    service: Service | None = None,
    urgency: str | None = None,
    note: str = "",
) -> Referral:
    """After a decline, send the client on in one step: a new referral from the
    same organization to another organization or service, carrying the reason
    and the categories the client agreed to share (recorded again as their
    consent for the new receiver), linked to the declined one. Once per
    declined referral."""
    if referral.from_organization_id != provider.organization_id:
        raise NotAllowed("Only the referring organization may redirect this referral.")
    if referral.status != ReferralStatus.DECLINED:
        raise Conflict(f"This referral is {referral.status}; only a declined one is redirected.")
    if Referral.objects.filter(redirected_from=referral).exists():
        raise Conflict("This referral was redirected already.")
    destination = referral_destination(
        provider=provider, to_organization=to_organization, service=service
    )
    if destination.pk == referral.to_organization_id:
        field = "service" if service is not None else "to_organization"
        raise InvalidInput({field: "This organization declined the referral."})
    reason = referral.reason
    note = (note or "").strip()
    if note:
        reason = f"{reason}\n\n{note}"
    if len(reason) > REASON_LIMIT:
        raise InvalidInput({"note": "The reason and the note together are too long."})
    with conflict_on_duplicate("This referral was just redirected."):
        return refer_client(
            provider=provider,
            client=referral.client,
            to_organization=destination,
            service=service,
            reason=reason,
            urgency=urgency or referral.urgency,
            share_categories=shared_categories(referral),
            redirected_from=referral,
        )


def notice_overdue_referral(referral_id: Any) -> bool:
    """Report one referral still waiting past its urgency's limit, once: the
    conditional UPDATE on `overdue_noticed_at` is the claim."""
    with transaction.atomic():
        claimed = Referral.objects.filter(
            pk=referral_id, status=ReferralStatus.SENT, overdue_noticed_at__isnull=True
        ).update(overdue_noticed_at=timezone.now())
        if not claimed:
            return False
        referral = Referral.objects.select_related(
            "client", "from_organization", "to_organization"
        ).get(pk=referral_id)
        return events.referral_overdue(referral)
