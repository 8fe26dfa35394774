"""Reads of the referrals app: referrals, their history, the inbox.

A referral (with its reason) exists only for the referring and the receiving
organizations. A notification exists only for its recipient, and its preview is
decided at read time by the consent engine, so a revocation changes what the
inbox shows on the next read.
"""

from datetime import timedelta
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from carelink.ids import parse_uuid
from consent.selectors import entry_visibility_q, visible_clients
from records.models import Entry, Provider
from referrals.models import EventKind, Notification, OutboxEvent, Referral

REFERRAL_EVENT_KINDS = frozenset(
    {
        EventKind.REFERRAL_RECEIVED,
        EventKind.REFERRAL_ACCEPTED,
        EventKind.REFERRAL_DECLINED,
        EventKind.REFERRAL_SCHEDULED,
        EventKind.REFERRAL_CANCELLED,
        EventKind.REFERRAL_OVERDUE,
    }
)


def _party_q(provider: Provider, prefix: str = "") -> Q:
    organization_id = provider.organization_id
    return Q(**{f"{prefix}from_organization_id": organization_id}) | Q(
        **{f"{prefix}to_organization_id": organization_id}
    )


def visible_referrals(provider: Provider) -> QuerySet[Referral]:
    """Referrals from or to the provider's organization; for everyone else they
    do not exist (404), care-team colleagues included."""
    if not provider.is_authenticated or provider.organization_id is None:
        return Referral.objects.none()
    return Referral.objects.filter(_party_q(provider)).select_related(
        "client", "from_organization", "to_organization", "referred_by"
    )


def referral_for(provider: Provider, referral_id: Any) -> Referral:
    referral = (
        visible_referrals(provider).filter(pk=parse_uuid(referral_id, "No referral found.")).first()
    )
    if referral is None:
        raise Http404("No referral found.")
    return referral


def wait_days(referral: Referral) -> int | None:
    """Whole days (elapsed time floored to 24 h) from sending to the appointment,
    or to completion when no appointment was set; None while neither exists."""
    end = referral.appointment_at or referral.completed_at
    if end is None:
        return None
    return max(0, (end - referral.created_at) // timedelta(days=1))


def referral_history(referral: Referral) -> QuerySet[OutboxEvent]:
    """The referral's routed events, oldest first, for its page."""
    return referral.events.select_related("actor", "actor__organization").order_by(
        "created_at", "id"
    )


def inbox(provider: Provider, unread: bool | None = None) -> QuerySet[Notification]:
    """The provider's notifications, newest first, each annotated with
    `visible_entry_title`: the entry's title when the provider may see that entry
    now (rules 1–4), else NULL. One query for the whole page.

    A notification whose client the provider may no longer see (their
    organization left the case) disappears with the client, unless it is about a
    referral of their organization, which they still see.
    """
    visible = visible_clients(provider).values("pk")
    visible_title = Entry.objects.filter(
        pk=OuterRef("entry_id"), client_id__in=visible_clients(provider).values("pk")
    ).filter(entry_visibility_q(provider))
    notifications = (
        Notification.objects.filter(recipient_id=provider.pk)
        .filter(Q(client_id__in=visible) | _party_q(provider, "referral__"))
        .select_related(
            "client",
            "referral__from_organization",
            "referral__to_organization",
            "event__actor__organization",
        )
        .annotate(visible_entry_title=Subquery(visible_title.values("title")[:1]))
        .order_by("-created_at", "-id")
    )
    if unread is True:
        notifications = notifications.filter(read_at__isnull=True)
    elif unread is False:
        notifications = notifications.filter(read_at__isnull=False)
    return notifications


def notification_for(provider: Provider, notification_id: Any) -> Notification:
    """Someone else's notification does not exist for the caller (404)."""
    pk = parse_uuid(notification_id, "No notification found.")
    notification = inbox(provider).filter(pk=pk).first()
    if notification is None:
        raise Http404("No notification found.")
    return notification


_REFERRAL_PREVIEWS = {
    EventKind.REFERRAL_RECEIVED: "New referral from {frm} to {to}.",
    EventKind.REFERRAL_ACCEPTED: "{to} accepted the referral from {frm}.",
    EventKind.REFERRAL_DECLINED: "{to} declined the referral from {frm}.",
    EventKind.REFERRAL_SCHEDULED: "{to} scheduled an appointment for the referral from {frm}.",
    EventKind.REFERRAL_CANCELLED: "{frm} cancelled the referral to {to}.",
    EventKind.REFERRAL_OVERDUE: "The referral from {frm} to {to} is still awaiting a response.",
}
WITHHELD = "content withheld"


def notification_preview(notification: Notification) -> str:
    """What the inbox may say about a notification: an entry's title only when
    the recipient may see the entry now (`visible_entry_title`, from `inbox`);
    a referral event names the event and the two organizations, never the reason."""
    kind = notification.kind
    title = getattr(notification, "visible_entry_title", None)
    referral = notification.referral
    if kind in _REFERRAL_PREVIEWS:
        return _REFERRAL_PREVIEWS[kind].format(
            frm=referral.from_organization.name, to=referral.to_organization.name
        )
    if kind == EventKind.INTAKE_REPORT:
        lead = (
            f"Intake report from {referral.to_organization.name} "
            f"on the referral from {referral.from_organization.name}"
        )
        return f"{lead}: {title}" if title is not None else f"{lead} — {WITHHELD}."
    if kind == EventKind.ENTRY_ADDED:
        return f"New entry: {title}" if title is not None else f"New entry — {WITHHELD}."
    if kind == EventKind.EMERGENCY_ACCESS:
        actor = notification.event.actor
        if actor is None:
            return "Emergency access to the record was granted."
        organization = actor.organization.name if actor.organization else "no organization"
        return (
            f"Emergency access to the record was granted to {actor.display_name} ({organization})."
        )
    return kind
