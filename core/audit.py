"""The audit: one access event per client for every read of a client's record
and every write under it (docs/access-rules.md, rule 7).

`record_access` is the only writer. The action is an `Action`; the channel —
web, api, fhir, portal, or system for commands — is the request's, set by
`AuditChannelMiddleware`, so a service called from any face records the face
it was called from without being told. The actor is an account: a provider's,
or the client's own (portal), in which case the event says `by_client`.
"""

import functools
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import connection, models
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from core.models import AccessEvent
from core.permissions import is_client_account


class Channel(models.TextChoices):
    WEB = "web", "web pages"
    API = "api", "REST API"
    FHIR = "fhir", "FHIR API"
    PORTAL = "portal", "client portal"
    SYSTEM = "system", "command or task"


class Action(models.TextChoices):
    """What was done. Reads list or show; writes change the record."""

    CLIENT_LIST = "client.list", "listed clients"
    CLIENT_SEARCH = "client.search", "searched clients"
    CLIENT_READ = "client.read", "read the record"
    CLIENT_CREATE = "client.create", "registered the client"
    CLIENT_MATCH = "client.match", "linked to the record at intake"
    # Its own action, as the contract names it: matching put someone new on the case.
    JOINED_BY_MATCHING = "joined_by_matching", "joined the care team by matching at intake"
    CLIENT_UPDATE = "client.update", "changed the demographics"
    CARE_TEAM_READ = "care_team.read", "read the care team"
    CARE_TEAM_ADD = "care_team.add", "added to the care team"
    CARE_TEAM_REMOVE = "care_team.remove", "removed from the care team"
    ENTRY_LIST = "entry.list", "listed entries"
    ENTRY_READ = "entry.read", "read an entry"
    ENTRY_CREATE = "entry.create", "added an entry"
    ENTRY_AMEND = "entry.amend", "amended an entry"
    ENTRY_RETRACT = "entry.retract", "retracted an entry"
    CONSENT_LIST = "consent.list", "listed consent decisions"
    CONSENT_RECORD = "consent.record", "recorded a consent decision"
    CONSENT_RECORD_AT_REFERRAL = "consent.record_at_referral", "recorded consent at referral"
    CONSENT_APPLY_POLICY = "consent.apply_policy", "applied a consent policy"
    CONSENT_REVOKE = "consent.revoke", "revoked a consent decision"
    EMERGENCY_ACCESS_GRANT = "emergency_access.grant", "broke the glass"
    EMERGENCY_ACCESS_REVIEW = "emergency_access.review", "reviewed an emergency access"
    EMERGENCY_ACCESS_LIST = "emergency_access.list", "listed emergency accesses for review"
    ACCESS_LOG_READ = "access_log.read", "read the access log"
    # FHIR's Patient/$everything: the record as the caller may see it, in one read.
    RECORD_EXPORT = "record.export", "exported the record (FHIR)"
    REFERRAL_LIST = "referral.list", "listed referrals"
    REFERRAL_READ = "referral.read", "read a referral"
    REFERRAL_CREATE = "referral.create", "sent a referral"
    REFERRAL_ACCEPT = "referral.accept", "accepted a referral"
    REFERRAL_DECLINE = "referral.decline", "declined a referral"
    REFERRAL_SCHEDULE = "referral.schedule", "scheduled a referral"
    REFERRAL_COMPLETE = "referral.complete", "completed a referral"
    REFERRAL_CANCEL = "referral.cancel", "cancelled a referral"
    INBOX_LIST = "inbox.list", "listed notifications"
    ASSESSMENT_CREATE = "assessment.create", "recorded an assessment"
    ASSESSMENT_LIST = "assessment.list", "listed assessments"
    ASSESSMENT_READ = "assessment.read", "read an assessment"
    REGISTRY_READ = "registry.read", "read the registry"
    DASHBOARD_READ = "dashboard.read", "opened the dashboard"
    # The client portal (docs/portal.md).
    PORTAL_INVITE = "portal.invite", "gave the client a portal invitation"
    PORTAL_ACTIVATE = "portal.activate", "opened their portal account"
    PORTAL_NOTICES = "portal.notices", "changed their email notices"
    EXPERIENCE_RECORD = "experience.record", "answered the survey about a referral"


_channel: ContextVar[str] = ContextVar("audit_channel", default=Channel.SYSTEM)


def action_label(value: str) -> str:
    """An access event's action in plain words ("read an entry"); an action
    no longer in the list (an older release's) shows as it was stored."""
    try:
        return Action(value).label
    except ValueError:
        return value


def current_channel() -> str:
    return _channel.get()


@contextmanager
def audit_channel(channel: Channel) -> Iterator[None]:
    token = _channel.set(channel)
    try:
        yield
    finally:
        _channel.reset(token)


def channel_of(path: str) -> Channel:
    if path.startswith("/api/v1/portal/") or path.startswith("/portal/"):
        return Channel.PORTAL
    if path.startswith("/api/"):
        return Channel.API
    if path.startswith("/fhir/"):
        return Channel.FHIR
    return Channel.WEB


class AuditChannelMiddleware:
    """Every request records its accesses under the face it came through."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit_channel(channel_of(request.path_info)):
            return self.get_response(request)


# Which of some clients the actor reads under emergency access now. The consent
# app owns emergency access and registers the lookup when it loads; the ground
# floor only calls it (docs/architecture.md, "Hooks").
EmergencyLookup = Callable[[Any, Collection[Any]], set]
_emergency_lookup: EmergencyLookup = lambda actor, client_ids: set()  # noqa: E731


def register_emergency_lookup(lookup: EmergencyLookup) -> None:
    global _emergency_lookup
    _emergency_lookup = lookup


# The gate may read rule 4 with the client it resolves (`access.lookups`
# annotates both): whether the reader holds an emergency access to the client
# now, and who that reader is. The audit then needs no query of its own to
# flag the row, nor the consent engine a subquery to decide rule 4.
UNDER_EMERGENCY = "read_under_emergency"
EMERGENCY_READER = "emergency_read_for"


def emergency_as_read(client: Any, reader: Any) -> bool | None:
    """Rule 4 as the gate read it with `client`, for `reader` alone: None when
    it was not read with the client, or was read for another account — never
    one account's emergency access standing in for another's."""
    if getattr(client, EMERGENCY_READER, None) != getattr(reader, "pk", None):
        return None
    return getattr(client, UNDER_EMERGENCY, None)


def _under_emergency(actor: Any, clients: Sequence[Any], ids: list) -> set:
    """Which clients the actor reads under emergency access: as the gate read
    it with the client, else by the registered lookup (one query)."""
    read = {client.pk: emergency_as_read(client, actor) for client in clients if client is not None}
    known = {client_id: held for client_id, held in read.items() if held is not None}
    unknown = [client_id for client_id in ids if client_id not in known]
    emergency = {client_id for client_id, held in known.items() if held}
    return emergency | (_emergency_lookup(actor, unknown) if unknown else set())


def record_access(actor: Any, clients: Sequence[Any] | Any, action: Action) -> None:
    """One access event per distinct client, written in one bulk insert.

    `None` among the clients is skipped: some rows a page shows concern no
    client (a service's notification), and reading them reads no record."""
    if not isinstance(action, Action):
        raise TypeError(f"audit actions are Action members, not {action!r}")
    if not isinstance(clients, Sequence):
        clients = [clients]
    ids = list(dict.fromkeys(client.pk for client in clients if client is not None))
    if not ids:
        return
    by_client = is_client_account(actor)
    emergency = set() if by_client else _under_emergency(actor, clients, ids)
    row = {
        # Ids, not the related objects: setting an object is checked and
        # cached per row, fifty times for the same account.
        "actor_id": actor.pk,
        "organization_id": None if by_client else actor.organization_id,
        "by_client": by_client,
        "action": action.value,
        "channel": current_channel(),
        "at": timezone.now(),
    }
    if connection.vendor == "postgresql":
        _insert_postgresql(ids, [client_id in emergency for client_id in ids], row)
    else:
        AccessEvent.objects.bulk_create(
            [
                AccessEvent(client_id=client_id, emergency=client_id in emergency, **row)
                for client_id in ids
            ]
        )


# The columns one access event shares with the others of its read; the client
# and the emergency flag are each row's own, and the id is new for each.
_SHARED = ("actor_id", "organization_id", "by_client", "action", "channel", "at")


def _insert_postgresql(ids: list, emergency: list[bool], row: dict) -> None:
    """The rows of one read as one `INSERT … SELECT … FROM unnest(clients,
    flags)`: what they share is sent once, not once per row.

    Django's `bulk_create` writes the same statement shape on PostgreSQL, but
    builds a model instance per row, prepares each of the nine fields of each
    row and sends nine arrays of fifty values: for a page of fifty clients
    5.2–5.4 ms in process against 2.3 for this statement, the largest piece of
    Python in a list's read (docs/performance.md, "Province scale", change 25).
    No library inserts rows whose values are mostly shared. The statement is
    built from the model's own fields and types; `tests/test_audit.py` holds
    it to every concrete field and checks each row it writes."""
    with connection.cursor() as cursor:
        cursor.execute(_insert_statement(), [*(row[name] for name in _SHARED), ids, emergency])


@functools.cache
def _insert_statement() -> str:
    """Written once per process: the table, its columns and their types."""
    meta, quote = AccessEvent._meta, connection.ops.quote_name
    shared = [meta.get_field(name) for name in _SHARED]
    client = meta.get_field("client")
    return (
        f"INSERT INTO {quote(meta.db_table)} ({quote(meta.pk.column)}, {quote(client.column)}, "
        f"{quote(meta.get_field('emergency').column)}, "
        f"{', '.join(quote(field.column) for field in shared)}) "
        "SELECT gen_random_uuid(), rows.client, rows.emergency, "
        + ", ".join(f"%s::{field.db_type(connection)}" for field in shared)
        + f" FROM unnest(%s::{client.target_field.db_type(connection)}[], %s::boolean[])"
        " AS rows (client, emergency)"
    )
