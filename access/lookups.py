"""Lookups by id through the consent gate: 404 alike for "no such id" and "not
yours to see"."""

from collections.abc import Callable
from typing import Any

from django.db.models import Model, QuerySet
from django.http import Http404

from access.inbox import inbox
from consent.models import ConsentDirective, EmergencyAccess
from consent.selectors import visible_clients, visible_entry_versions, with_emergency_read
from core.ids import parse_int_id, parse_uuid
from core.models import Notification
from core.permissions import is_system_admin
from records.models import CareTeamMembership, Client, Entry
from records.selectors import active_care_team
from referrals.models import Referral
from referrals.selectors import visible_referrals

NO_CLIENT = "No client found."
NO_ENTRY = "No entry found."
NO_REFERRAL = "No referral found."
NO_DIRECTIVE = "No consent directive found."
NO_NOTIFICATION = "No notification found."
NO_MEMBER = "No care-team member found."
NO_EMERGENCY_ACCESS = "No emergency access found."


def _one_of(
    rows: QuerySet,
    row_id: Any,
    not_found: str,
    field: str = "pk",
    parse: Callable[[Any, str], Any] = parse_uuid,
) -> Model:
    """The row of `rows` with this id; an id that names none of them — unknown,
    malformed, or not the caller's to see — is the same 404, in our words."""
    # Each lookup names one row at most (an id, or a provider's one active
    # membership): read without `first()`'s sort by the model's ordering,
    # which Django built and compiled on every read (the client gate in
    # process: 1.64–1.76 → 1.48–1.58 ms; docs/performance.md, change 26).
    found = list(rows.filter(**{field: parse(row_id, not_found)}).order_by()[:1])
    if not found:
        raise Http404(not_found)
    return found[0]


def access_client(user: Any, client_id: Any) -> Client:
    """Rule 1 as a lookup: a client off the caller's care teams does not exist for them.

    Rule 4 is read in the same query (whether the caller holds an emergency
    access to the client now), for the audit row every read of the client
    writes: one round trip fewer on every client-scoped read."""
    return _one_of(with_emergency_read(visible_clients(user), user), client_id, NO_CLIENT)


def access_client_for_audit(user: Any, client_id: Any) -> Client:
    """The gate, except that system admins reach any client — for its access log
    only (they read who looked, never the record)."""
    if not is_system_admin(user):
        return access_client(user, client_id)
    return _one_of(Client.objects.all(), client_id, NO_CLIENT)


def access_entry(user: Any, client: Client, entry_id: Any) -> Entry:
    """An entry (any version) of a client already through the gate that consent
    lets the user see."""
    return _one_of(visible_entry_versions(user, client), entry_id, NO_ENTRY)


def access_referral(user: Any, referral_id: Any) -> Referral:
    """A referral of the user's organization (referring or receiving)."""
    return _one_of(visible_referrals(user), referral_id, NO_REFERRAL)


def access_directive(user: Any, directive_id: Any) -> ConsentDirective:
    """A consent directive of a client the user may see."""
    directives = ConsentDirective.objects.filter(client__in=visible_clients(user))
    return _one_of(directives.select_related("client"), directive_id, NO_DIRECTIVE)


def access_notification(user: Any, notification_id: Any) -> Notification:
    """One of the user's own notifications, as their inbox shows it."""
    return _one_of(inbox(user), notification_id, NO_NOTIFICATION)


def access_care_team_member(client: Client, provider_id: Any) -> CareTeamMembership:
    """A provider on the case now, of a client already through the gate."""
    return _one_of(
        active_care_team(client), provider_id, NO_MEMBER, field="provider_id", parse=parse_int_id
    )


def access_emergency_access(user: Any, grant_id: Any) -> EmergencyAccess:
    """An emergency access on a client the user's organization serves."""
    grants = EmergencyAccess.objects.filter(client__in=visible_clients(user))
    return _one_of(grants.select_related("client"), grant_id, NO_EMERGENCY_ACCESS)
