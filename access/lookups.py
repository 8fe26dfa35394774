"""Lookups by id through the consent gate: 404 alike for "no such id" and "not
yours to see"."""

from typing import Any

from django.http import Http404

from access.inbox import inbox
from consent.models import ConsentDirective
from consent.selectors import visible_clients, visible_entries
from core.ids import parse_uuid
from core.models import Notification
from core.permissions import is_system_admin
from records.models import Client, Entry
from referrals.models import Referral
from referrals.selectors import visible_referrals

NO_CLIENT = "No client found."
NO_ENTRY = "No entry found."
NO_REFERRAL = "No referral found."
NO_DIRECTIVE = "No consent directive found."
NO_NOTIFICATION = "No notification found."


def access_client(user: Any, client_id: Any) -> Client:
    """Rule 1 as a lookup: a client off the caller's care teams does not exist for them."""
    client = visible_clients(user).filter(pk=parse_uuid(client_id, NO_CLIENT)).first()
    if client is None:
        raise Http404(NO_CLIENT)
    return client


def access_client_for_audit(user: Any, client_id: Any) -> Client:
    """The gate, except that system admins reach any client — for its access log
    only (they read who looked, never the record)."""
    if not is_system_admin(user):
        return access_client(user, client_id)
    client = Client.objects.filter(pk=parse_uuid(client_id, NO_CLIENT)).first()
    if client is None:
        raise Http404(NO_CLIENT)
    return client


def access_entry(user: Any, client: Client, entry_id: Any) -> Entry:
    """An entry of a client already through the gate that consent lets the user see."""
    entry = visible_entries(user, client).filter(pk=parse_uuid(entry_id, NO_ENTRY)).first()
    if entry is None:
        raise Http404(NO_ENTRY)
    return entry


def access_referral(user: Any, referral_id: Any) -> Referral:
    """A referral of the user's organization (referring or receiving)."""
    pk = parse_uuid(referral_id, NO_REFERRAL)
    referral = visible_referrals(user).filter(pk=pk).first()
    if referral is None:
        raise Http404(NO_REFERRAL)
    return referral


def access_directive(user: Any, directive_id: Any) -> ConsentDirective:
    """A consent directive of a client the user may see."""
    pk = parse_uuid(directive_id, NO_DIRECTIVE)
    directive = (
        ConsentDirective.objects.filter(pk=pk, client__in=visible_clients(user))
        .select_related("client")
        .first()
    )
    if directive is None:
        raise Http404(NO_DIRECTIVE)
    return directive


def access_notification(user: Any, notification_id: Any) -> Notification:
    """One of the user's own notifications, as their inbox shows it."""
    pk = parse_uuid(notification_id, NO_NOTIFICATION)
    notification = inbox(user).filter(pk=pk).first()
    if notification is None:
        raise Http404(NO_NOTIFICATION)
    return notification
