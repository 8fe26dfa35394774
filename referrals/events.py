"""The referrals app's routing events, one function each to raise them.

- `referral_received`: the receiving organization's triage (intake workers and
  care coordinators; all its providers if it has none);
- `referral_accepted`, `_declined`, `_scheduled`, `_cancelled`, `intake_report`:
  the referrer and the care team;
- `referral_overdue`: the receiving organization's intake workers (its triage
  if it has none) and the referrer.

A referral event names the event and the two organizations, never the reason;
an intake report's title shows only to readers whom consent lets see the report.
Readers keep seeing their organization's referral events after the client
leaves their care team: a referral's parties see the referral (docs/access-rules.md).
"""

from collections.abc import Callable
from typing import Any

from django.db.models import Exists, Q, QuerySet
from django.urls import reverse

from core import events
from core.events import WITHHELD, EventKind
from core.models import Notification, OutboxEvent
from core.permissions import TRIAGE_ROLES
from core.vocabulary import Role
from records.events import care_team_recipients
from records.models import Entry, Provider
from referrals.models import Referral

REFERRAL = "referrals.referral"


def _organization(event: OutboxEvent, side: str) -> int:
    return event.detail[side]["id"]


def _triage_of(organization_id: int) -> Q:
    """Who triages an organization's incoming referrals: its intake workers and
    care coordinators, or all its providers when it has none (decided by the
    database in the same query, at delivery time)."""
    has_triage = Exists(
        Provider.objects.filter(
            organization_id=organization_id, is_active=True, role__in=TRIAGE_ROLES
        )
    )
    return Q(organization_id=organization_id) & (Q(role__in=TRIAGE_ROLES) | Q(~has_triage))


def _intake_workers_of(organization_id: int) -> Q:
    """An organization's intake workers — who answer referrals — or, when it has
    none, whoever triages its referrals, so an overdue notice always lands."""
    has_intake = Exists(
        Provider.objects.filter(
            organization_id=organization_id, is_active=True, role=Role.INTAKE_WORKER
        )
    )
    return Q(organization_id=organization_id, role=Role.INTAKE_WORKER) | (
        Q(~has_intake) & _triage_of(organization_id)
    )


def _receiving_triage(event: OutboxEvent) -> QuerySet[Provider]:
    return Provider.objects.filter(is_active=True).filter(
        _triage_of(_organization(event, "to_organization"))
    )


def _care_team_and_referrer(event: OutboxEvent) -> QuerySet[Provider]:
    return care_team_recipients(event) | Provider.objects.filter(
        is_active=True, pk=event.detail["referred_by"]
    )


def _receiving_intake_and_referrer(event: OutboxEvent) -> QuerySet[Provider]:
    return Provider.objects.filter(is_active=True).filter(
        _intake_workers_of(_organization(event, "to_organization"))
        | Q(pk=event.detail["referred_by"])
    )


def _names(notification: Notification) -> dict[str, str]:
    detail = notification.event.detail
    return {"frm": detail["from_organization"]["name"], "to": detail["to_organization"]["name"]}


def _says(text: str) -> Callable[[Notification], str]:
    return lambda notification: text.format(**_names(notification))


def _intake_report_preview(notification: Notification) -> str:
    names = _names(notification)
    lead = f"Intake report from {names['to']} on the referral from {names['frm']}"
    title = getattr(notification, "visible_entry_title", None)
    return f"{lead}: {title}" if title is not None else f"{lead} — {WITHHELD}."


def _referral_parties(event: OutboxEvent) -> tuple[int, int]:
    """A referral's events stay visible to its two organizations, as the
    referral does, whatever becomes of the care team."""
    return (_organization(event, "from_organization"), _organization(event, "to_organization"))


def _referral_page(notification: Notification) -> str:
    return reverse("referral-detail", args=[notification.event.subject_id])


def _kind(name: str, label: str, recipients, preview) -> EventKind:
    return events.register(
        EventKind(
            name=name,
            label=label,
            recipients=recipients,
            preview=preview,
            parties=_referral_parties,
            link=_referral_page,
        )
    )


REFERRAL_RECEIVED = _kind(
    "referral_received",
    "Referral received",
    _receiving_triage,
    _says("New referral from {frm} to {to}."),
)
REFERRAL_ACCEPTED = _kind(
    "referral_accepted",
    "Referral accepted",
    _care_team_and_referrer,
    _says("{to} accepted the referral from {frm}."),
)
REFERRAL_DECLINED = _kind(
    "referral_declined",
    "Referral declined",
    _care_team_and_referrer,
    _says("{to} declined the referral from {frm}."),
)
REFERRAL_SCHEDULED = _kind(
    "referral_scheduled",
    "Referral scheduled",
    _care_team_and_referrer,
    _says("{to} scheduled an appointment for the referral from {frm}."),
)
REFERRAL_CANCELLED = _kind(
    "referral_cancelled",
    "Referral cancelled",
    _care_team_and_referrer,
    _says("{frm} cancelled the referral to {to}."),
)
REFERRAL_OVERDUE = _kind(
    "referral_overdue",
    "Referral overdue",
    _receiving_intake_and_referrer,
    _says("The referral from {frm} to {to} is still awaiting a response."),
)
INTAKE_REPORT = _kind(
    "intake_report",
    "Intake report filed",
    _care_team_and_referrer,
    _intake_report_preview,
)


def _publish(
    kind: EventKind,
    referral: Referral,
    actor: Provider | None,
    *,
    entry: Entry | None = None,
    once_key: str | None = None,
    **detail: Any,
) -> OutboxEvent | None:
    """A referral event carries, as of the event, the two organizations and the
    referrer: what its recipients and its preview need, and never the reason."""
    return events.publish_event(
        kind,
        client=referral.client,
        actor=actor,
        subject=referral,
        entry=entry,
        once_key=once_key,
        detail={
            "from_organization": {
                "id": referral.from_organization_id,
                "name": referral.from_organization.name,
            },
            "to_organization": {
                "id": referral.to_organization_id,
                "name": referral.to_organization.name,
            },
            "referred_by": referral.referred_by_id,
            # The program referred to, if any: the capacity app's early warning
            # listens for it (docs/capacity.md).
            "service": (
                {"id": str(referral.service_id), "name": referral.service.name}
                if referral.service_id
                else None
            ),
            **detail,
        },
    )


def referral_sent(referral: Referral, *, actor: Provider) -> None:
    _publish(REFERRAL_RECEIVED, referral, actor)


def referral_accepted(referral: Referral, *, actor: Provider) -> None:
    _publish(REFERRAL_ACCEPTED, referral, actor)


def referral_declined(referral: Referral, *, actor: Provider) -> None:
    _publish(REFERRAL_DECLINED, referral, actor)


def referral_scheduled(referral: Referral, *, actor: Provider) -> None:
    _publish(
        REFERRAL_SCHEDULED,
        referral,
        actor,
        appointment_at=referral.appointment_at.isoformat(),
    )


def referral_cancelled(referral: Referral, *, actor: Provider) -> None:
    _publish(REFERRAL_CANCELLED, referral, actor)


def intake_report_filed(referral: Referral, *, actor: Provider) -> None:
    _publish(INTAKE_REPORT, referral, actor, entry=referral.report_entry)


def referral_overdue(referral: Referral) -> bool:
    """Raised once per referral, whatever the overdue check races with."""
    key = f"referral_overdue:{referral.pk}"
    return _publish(REFERRAL_OVERDUE, referral, None, once_key=key) is not None
