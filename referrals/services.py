"""Writes of the referrals app: the closed loop of a referral.

Each transition is one transaction holding the state change, its audit row and
its outbox event. The state change is a conditional UPDATE on the current
status, so of two concurrent transitions (accept and cancel, say) exactly one
wins and the other gets a 409.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from consent.models import Effect
from consent.selectors import visible_clients
from consent.services import (
    TransitionNotAllowed,
    record_access,
    record_consent,
    revoke_consent_silently,
)
from records.models import Category, Client, EntryKind, Organization, Provider
from records.services import add_to_care_team, create_entry
from referrals.models import EventKind, Notification, Referral, ReferralStatus, Urgency
from referrals.outbox import publish_event

_OPEN = [ReferralStatus.SENT, ReferralStatus.ACCEPTED, ReferralStatus.SCHEDULED]
_ACCEPTED = [ReferralStatus.ACCEPTED, ReferralStatus.SCHEDULED]


def _require_text(field: str, value: str, limit: int = 2_000) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: ["This field may not be blank."]})
    if len(value) > limit:
        raise ValidationError({field: [f"Ensure this field has no more than {limit} characters."]})
    return value


def _require_receiving(provider: Provider, referral: Referral, action: str) -> None:
    if provider.organization_id != referral.to_organization_id:
        raise PermissionDenied(f"Only the receiving organization may {action} this referral.")


def _require_referring(provider: Provider, referral: Referral, action: str) -> None:
    if provider.organization_id != referral.from_organization_id:
        raise PermissionDenied(f"Only the referring organization may {action} this referral.")


def _transition(referral: Referral, *, allowed: list[str], action: str, **changes: Any) -> Referral:
    """Move the referral on only if it is still in an allowed state (one UPDATE)."""
    updated = Referral.objects.filter(pk=referral.pk, status__in=allowed).update(**changes)
    if not updated:
        current = Referral.objects.filter(pk=referral.pk).values_list("status", flat=True).first()
        allowed_text = " or ".join(allowed)
        raise TransitionNotAllowed(
            f"This referral is {current}; it can be {action} only while {allowed_text}."
        )
    referral.refresh_from_db()
    return referral


@transaction.atomic
def refer_client(
    *,
    provider: Provider,
    client: Client,
    to_organization: Organization,
    reason: str,
    urgency: str,
    share_categories: Iterable[str] | None = None,
) -> Referral:
    """Send a referral from the provider's organization. The client's consent given
    at referral (`share_categories`) becomes a permit directive for the receiving
    organization, revoked again if the referral is declined or cancelled."""
    if not visible_clients(provider).filter(pk=client.pk).exists():
        raise PermissionDenied("Only providers of the client's care team may refer the client.")
    if to_organization.pk == provider.organization_id:
        raise ValidationError({"to_organization": ["Refer to another organization than your own."]})
    if urgency not in Urgency.values:
        raise ValidationError({"urgency": [f'"{urgency}" is not a valid urgency.']})
    reason = _require_text("reason", reason)
    categories = list(dict.fromkeys(share_categories or []))
    unknown = [c for c in categories if c not in Category.values]
    if unknown:
        raise ValidationError({"share_categories": [f"Unknown categories: {', '.join(unknown)}."]})

    directive = None
    if categories:
        directive = record_consent(
            provider=provider,
            client=client,
            action="consent.record_at_referral",
            effect=Effect.PERMIT,
            categories=categories,
            grantee_organization=to_organization,
            note="Consent given at referral.",
        )
    referral = Referral.objects.create(
        client=client,
        from_organization_id=provider.organization_id,
        to_organization=to_organization,
        referred_by=provider,
        reason=reason,
        urgency=urgency,
        consent_directive=directive,
    )
    record_access(provider, client, "referral.create")
    publish_event(EventKind.REFERRAL_RECEIVED, client=client, actor=provider, referral=referral)
    return referral


@transaction.atomic
def accept_referral(*, provider: Provider, referral: Referral) -> Referral:
    """The receiving organization takes the client on; the accepting provider
    joins the care team, which opens the record to their organization (rule 1)."""
    _require_receiving(provider, referral, "accept")
    referral = _transition(
        referral,
        allowed=[ReferralStatus.SENT],
        action="accepted",
        status=ReferralStatus.ACCEPTED,
        accepted_at=timezone.now(),
        accepted_by=provider,
    )
    add_to_care_team(referral.client, provider)
    record_access(provider, referral.client, "referral.accept")
    publish_event(
        EventKind.REFERRAL_ACCEPTED, client=referral.client, actor=provider, referral=referral
    )
    return referral


def _withdraw_shared_consent(referral: Referral, provider: Provider) -> None:
    if referral.consent_directive_id is not None:
        revoke_consent_silently(referral.consent_directive, provider)


@transaction.atomic
def decline_referral(*, provider: Provider, referral: Referral, reason: str) -> Referral:
    _require_receiving(provider, referral, "decline")
    reason = _require_text("reason", reason)
    referral = _transition(
        referral,
        allowed=[ReferralStatus.SENT],
        action="declined",
        status=ReferralStatus.DECLINED,
        declined_at=timezone.now(),
        decline_reason=reason,
    )
    _withdraw_shared_consent(referral, provider)
    record_access(provider, referral.client, "referral.decline")
    publish_event(
        EventKind.REFERRAL_DECLINED, client=referral.client, actor=provider, referral=referral
    )
    return referral


@transaction.atomic
def schedule_referral(
    *, provider: Provider, referral: Referral, appointment_at: datetime
) -> Referral:
    """Set (or move) the appointment; scheduling again reschedules."""
    _require_receiving(provider, referral, "schedule")
    if appointment_at < referral.created_at:
        raise ValidationError(
            {"appointment_at": ["The appointment cannot be before the referral was sent."]}
        )
    referral = _transition(
        referral,
        allowed=_ACCEPTED,
        action="scheduled",
        status=ReferralStatus.SCHEDULED,
        appointment_at=appointment_at,
    )
    record_access(provider, referral.client, "referral.schedule")
    publish_event(
        EventKind.REFERRAL_SCHEDULED,
        client=referral.client,
        actor=provider,
        referral=referral,
        detail={"appointment_at": appointment_at.isoformat()},
    )
    return referral


@transaction.atomic
def complete_referral(*, provider: Provider, referral: Referral, report: dict) -> Referral:
    """Close the loop: the intake report becomes an entry authored by the receiving
    organization, routed as `intake_report` only (not also `entry_added`)."""
    _require_receiving(provider, referral, "complete")
    title = _require_text("title", report.get("title", ""), limit=200)
    body = report.get("body") or ""
    if len(body) > 20_000:
        raise ValidationError({"body": ["Ensure this field has no more than 20000 characters."]})
    category = report.get("category")
    if category not in Category.values:
        raise ValidationError({"category": [f'"{category}" is not a category.']})
    now = timezone.now()
    referral = _transition(
        referral,
        allowed=_ACCEPTED,
        action="completed",
        status=ReferralStatus.COMPLETED,
        completed_at=now,
    )
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
    record_access(provider, referral.client, "referral.complete")
    publish_event(
        EventKind.INTAKE_REPORT,
        client=referral.client,
        actor=provider,
        referral=referral,
        entry=entry,
    )
    return referral


@transaction.atomic
def cancel_referral(*, provider: Provider, referral: Referral, reason: str) -> Referral:
    _require_referring(provider, referral, "cancel")
    reason = _require_text("reason", reason)
    referral = _transition(
        referral,
        allowed=_OPEN,
        action="cancelled",
        status=ReferralStatus.CANCELLED,
        cancelled_at=timezone.now(),
        cancel_reason=reason,
    )
    _withdraw_shared_consent(referral, provider)
    record_access(provider, referral.client, "referral.cancel")
    publish_event(
        EventKind.REFERRAL_CANCELLED, client=referral.client, actor=provider, referral=referral
    )
    return referral


def mark_notification_read(*, provider: Provider, notification: Notification) -> Notification:
    """Idempotent: reading twice keeps the first read time."""
    Notification.objects.filter(
        pk=notification.pk, recipient_id=provider.pk, read_at__isnull=True
    ).update(read_at=timezone.now())
    notification.refresh_from_db(fields=["read_at"])
    return notification


def notice_overdue_referral(referral_id: Any) -> bool:
    """Report one referral still waiting past its urgency's limit, once: the
    conditional UPDATE on `overdue_noticed_at` is the claim."""
    with transaction.atomic():
        claimed = Referral.objects.filter(
            Q(pk=referral_id),
            status=ReferralStatus.SENT,
            overdue_noticed_at__isnull=True,
        ).update(overdue_noticed_at=timezone.now())
        if not claimed:
            return False
        referral = Referral.objects.select_related("client").get(pk=referral_id)
        publish_event(
            EventKind.REFERRAL_OVERDUE, client=referral.client, actor=None, referral=referral
        )
    return True
