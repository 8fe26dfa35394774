"""The consent engine: the access rules of docs/access-rules.md as set-based
querysets.

Every path that can carry record content — API, web pages, notification
previews, exports — asks these functions, and only these, what a provider may
see. Nothing here is cached: a revocation bites on the next query.
"""

import re
from collections.abc import Collection, Iterable
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.utils import timezone

from consent.models import (
    ConsentDirective,
    ConsentDirectiveCategory,
    ConsentPolicy,
    Effect,
    EmergencyAccess,
    EmergencyAccessReview,
)
from core.audit import EMERGENCY_READER, UNDER_EMERGENCY, emergency_as_read
from core.models import AccessEvent
from core.paging import KeysFirst, among
from core.permissions import entry_readers_q, is_provider, may_read_entries
from core.vocabulary import Category
from records.models import (
    Client,
    ClientGroupObjectPermission,
    Entry,
    Organization,
    Provider,
    normalize_health_card,
)
from records.selectors import access_client_permission_id

_ORGANIZATION = Provider._meta.get_field("organization")


def visible_client_ids(provider: Provider) -> QuerySet:
    """Rule 1 as the ids of the visible clients, read from the care-team
    permission rows alone (an index-only scan): what filters on other tables
    ("client_id IN …") should use, rather than going through the client table."""
    if not is_provider(provider):
        return ClientGroupObjectPermission.objects.none().values("content_object_id")
    # The organization's group and the permission compared by id, each a value
    # or a scalar subquery of this same statement, rather than joined through:
    # so the database can estimate how many clients a caseload holds. Joined,
    # it guessed 9 of 5,000 and chose row-by-row loops for caseload-wide reads
    # such as the registry (docs/performance.md). The same rows either way. The
    # group is the value when the account was read with its organization (a
    # token is; so is every account the engine has asked for its sector), and
    # a subquery otherwise, not a query of its own; the permission's id is read
    # once per process (`access_client_permission_id`).
    group = (
        provider.organization.group_id
        if _ORGANIZATION.is_cached(provider)
        else Subquery(
            Organization.objects.filter(pk=provider.organization_id)
            .order_by()
            .values("group_id")[:1]
        )
    )
    return ClientGroupObjectPermission.objects.filter(
        group_id=group,
        permission_id=access_client_permission_id(),
    ).values("content_object_id")


def visible_clients(provider: Provider, *, one_by_one: bool = False) -> QuerySet[Client]:
    """Rule 1: the clients on whose care team the provider's organization is.

    Care-team organizations hold `access_client` on the client through their
    group (django-guardian's direct foreign-key table, written by
    `records.services`). Only the provider's own organization's group counts:
    no global permission, no other group, no superuser flag and no client
    account sees a client this way.

    `one_by_one`: the same clients, written so that the database takes the
    caller's clients first and tests each (`core.paging.among`), where
    otherwise it may choose to scan the province's clients and meet the
    caller's: for a filter no index narrows (docs/performance.md, "Province
    scale", change 33).
    """
    if not is_provider(provider):
        return Client.objects.none()
    ids = visible_client_ids(provider)
    return Client.objects.filter(among(ids) if one_by_one else Q(pk__in=ids))


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _birth_date_of(term: str) -> date | None:
    """A search word written as a date (YYYY-MM-DD, as the pages show them)."""
    if not _ISO_DATE.fullmatch(term):
        return None
    try:
        return date.fromisoformat(term)
    except ValueError:
        return None


# A list of clients in name order, written so that no index can produce it:
# the names are never NULL, so NULLS FIRST changes nothing but the plan. Given
# the name index, PostgreSQL walks the province in name order testing each
# client against the caller's care teams (and any words), which grows with the
# province: 200 ms for a common name at 100,000 clients, 152 ms for the first
# page of a caseload of 4,000 at 1,000,000. Without it, it takes the caller's
# clients or the trigram matches (records migration 0009), whichever are
# fewer, and sorts those that are both.
_BY_NAME = (F("family_name").asc(nulls_first=True), F("given_name").asc(nulls_first=True), "id")


def clients_by_name(
    provider: Provider, clients: QuerySet[Client], rows: QuerySet[Client], *, everyone: bool
) -> KeysFirst:
    """`clients` (from `visible_clients(provider)`, filtered or not) as a list
    for a paginator, in name order, the page's keys first: the caller's
    clients are then read from the search's covering index
    (`client_search_columns`) without their rows, and only the page's fifty
    are read whole, as `rows`. Asked for whole rows, PostgreSQL priced reading
    4,000 clients one by one above scanning all 111,000 matches of a common
    name (68 ms, where the index takes 12; docs/performance.md, "Province
    scale", change 32). The rows are read by the page's keys alone, and the
    keys are drawn from `clients`, which is the gate (rule 1) and its filters.

    `everyone`: `clients` is unfiltered, every visible client, one per
    care-team permission row of the organization (a row names one existing
    client, once): counted on those rows' own index."""
    ordered = clients.order_by(*_BY_NAME)
    if everyone:
        return KeysFirst(ordered, rows, counted=visible_client_ids(provider))
    return KeysFirst(ordered, rows)


def search_clients(provider: Provider, text: str) -> KeysFirst:
    """The provider's visible clients matching every word of `text` by name,
    birth date (YYYY-MM-DD) or health card number (with or without dashes and
    spaces): "Silva 1992-03-14" finds Ana Silva born that day. No words: all
    of them.

    A list for a paginator (it counts and slices), in name order, each client
    read with rule 4 for the audit row the list writes (core.audit)."""
    words = text.split()
    # No words, or a word of one or two letters (no trigram for the indexes to
    # look up): the caller's clients are the only narrowing, so read first.
    # Left to choose, PostgreSQL scanned the province's clients for them (a
    # two-letter word: 38 ms a statement at 100,000 clients, against 7;
    # docs/performance.md, "Province scale", change 33).
    unnarrowed = not words or any(len(word) < 3 for word in words)
    clients = visible_clients(provider, one_by_one=unnarrowed)
    for term in words:
        match = Q(given_name__icontains=term) | Q(family_name__icontains=term)
        card = normalize_health_card(term)
        if card:
            match |= Q(health_card_normalized__contains=card)
        born = _birth_date_of(term)
        if born is not None:
            match |= Q(birth_date=born)
        clients = clients.filter(match)
    rows = with_emergency_read(Client.objects.all(), provider)
    return clients_by_name(provider, clients, rows, everyone=not words)


def _emergencies(now: datetime, *, provider: Any) -> QuerySet[EmergencyAccess]:
    """Rule 4's rows: the unexpired emergency accesses the provider holds (a
    value or an `OuterRef`) — only theirs, not their colleagues'."""
    return EmergencyAccess.objects.filter(
        provider_id=provider, granted_at__lte=now, expires_at__gt=now
    )


def _emergency_held(now: datetime, *, client: Any, provider: Any) -> Exists:
    """Rule 4's condition for one client, from either side (values or
    `OuterRef`s, as in `_directive_covers`)."""
    return Exists(_emergencies(now, provider=provider).filter(client_id=client))


def emergency_access_q(provider: Provider, now: datetime, client_ref: str = "client_id") -> Exists:
    """Rule 4: the provider (only them) holds an unexpired emergency access."""
    return _emergency_held(now, client=OuterRef(client_ref), provider=provider.pk)


def with_emergency_read(clients: QuerySet[Client], provider: Provider) -> QuerySet[Client]:
    """Rule 4 read with each client, for this provider, and marked as theirs
    (`core.audit.emergency_as_read`): the audit row each read writes and the
    engine's decision on the client's entries both use it."""
    return clients.annotate(
        **{
            UNDER_EMERGENCY: emergency_access_q(provider, timezone.now(), client_ref="pk"),
            EMERGENCY_READER: Value(provider.pk),
        }
    )


def _covering(
    effect: str | None, now: datetime, *, organization: Any, sector: Any
) -> QuerySet[ConsentDirectiveCategory]:
    """Rule 3's rows: the categories of active directives of this effect (None:
    either) whose grantee is the organization or its sector (values or `OuterRef`s).

    Active = recorded, not revoked, valid_from ≤ now < expires_at (none: open).
    The one statement of "covers"; `_directive_covers` asks it for one
    (client, category), `_consented_across_clients_q` for every client at once,
    `categories_shared_with` for one client's directives."""
    effects = Q() if effect is None else Q(directive__effect=effect)
    return (
        ConsentDirectiveCategory.objects.filter(
            effects,
            directive__revoked_at__isnull=True,
            directive__valid_from__lte=now,
        )
        .filter(Q(directive__expires_at__isnull=True) | Q(directive__expires_at__gt=now))
        .filter(
            Q(directive__grantee_organization_id=organization) | Q(directive__grantee_sector=sector)
        )
    )


def _directive_covers(
    effect: str,
    now: datetime,
    *,
    client: Any,
    category: Any,
    organization: Any,
    sector: Any,
) -> Exists:
    """An active directive of this effect, of the client, covering (the
    organization or its sector, the category).

    Read from either side: each of `client`, `category`, `organization` and
    `sector` is a value or an `OuterRef` — the entry's when the provider is
    fixed (`consented_entry_q`), the provider's when the entry is
    (`providers_who_may_see`)."""
    return Exists(
        _covering(effect, now, organization=organization, sector=sector).filter(
            directive__client_id=client, category=category
        )
    )


def categories_shared_with(
    client: Any,
    organizations: Iterable[Organization],
    now: datetime | None = None,
    *,
    without: Iterable[Any] = (),
) -> dict[Any, set[str]]:
    """Rule 3 from the client's side: for each organization (by id), the
    categories of other organizations' entries that the client's active
    directives let it see — permitted to it or its sector, and not denied —
    leaving out the directives `without` (to say what taking them back would
    do). The same statement of "covers" as every read of entries."""
    now = now or timezone.now()
    excluded = [getattr(directive, "pk", directive) for directive in without]

    def shared(organization: Organization) -> set[str]:
        """Permitted and not denied, from one read of both effects' rows."""
        rows = _covering(None, now, organization=organization.pk, sector=organization.sector)
        rows = rows.filter(directive__client=client)
        if excluded:
            rows = rows.exclude(directive__in=excluded)
        covered: dict[str, set[str]] = {Effect.PERMIT: set(), Effect.DENY: set()}
        for effect, category in rows.values_list("directive__effect", "category"):
            covered[effect].add(category)
        return covered[Effect.PERMIT] - covered[Effect.DENY]

    return {organization.pk: shared(organization) for organization in organizations}


def denies_covering(
    client: Any, organization: Organization, category: str, now: datetime | None = None
) -> QuerySet[ConsentDirective]:
    """The client's active deny directives that keep this category from this
    organization (naming it or its sector)."""
    rows = _covering(
        Effect.DENY,
        now or timezone.now(),
        organization=organization.pk,
        sector=organization.sector,
    ).filter(directive__client=client, category=category)
    return ConsentDirective.objects.filter(pk__in=rows.values("directive_id"))


def consented_entry_q(provider: Provider, now: datetime, client: Any = None) -> Q:
    """Rules 2 and 3: own organization's entries, or permitted and not denied.

    `client`: the one client (an id) every filtered entry belongs to, when the
    caller knows it. That client's directives are then read here, once, in one
    small query (`categories_shared_with`), and the filter becomes plain
    columns: the reader's organization, or one of the categories shared with
    it. Correlated on each entry instead, the same decision is two subqueries
    per entry for the database to run and for Django to compile again on
    every read of a timeline — most of a short timeline's time
    (docs/performance.md, "Province scale"). The same rows either way: the
    property test holds both shapes to the reference rules."""
    organization = provider.organization
    own = Q(organization_id=organization.pk)
    if client is not None:
        shared = categories_shared_with(client, [organization], now)[organization.pk]
        return own | Q(category__in=sorted(shared))
    covers = {
        "client": OuterRef("client_id"),
        "category": OuterRef("category"),
        "organization": organization.pk,
        "sector": organization.sector,
    }
    return own | (
        _directive_covers(Effect.PERMIT, now, **covers)
        & ~_directive_covers(Effect.DENY, now, **covers)
    )


def entry_visibility_q(provider: Provider, now: datetime | None = None, client: Any = None) -> Q:
    """Rules 2–4 as one filter on Entry, valid across clients (or, given
    `client`, only for that client's entries: see `consented_entry_q`; that
    shape reads the client's directives when it is built, so a read builds it
    once and hands it to its page and counts — `visibility`).

    `client` is an id, or the client as the gate returned it
    (`access.lookups.access_client`), which read rule 4 with it: whether the
    provider holds an emergency access to the client now
    (`core.audit.emergency_as_read`, bound to the account it was read for).
    That answer then stands in for the emergency subquery the page and the
    counts would each carry.

    It does not check rule 1 (client visibility); callers either start from a
    client already resolved through `visible_clients`, or use
    `visible_entries_anywhere`.

    Minimum necessary comes first: an organization admin or a privacy officer
    sees no entry at all — not their own organization's (rule 2), not under an
    emergency access (rule 4) — so every path built on this filter (pages,
    previews, exports) shows them nothing, whether or not it asked the role.
    """
    now = now or timezone.now()
    if not may_read_entries(provider):
        return Q(pk__in=[])
    if client is None:
        return consented_entry_q(provider, now) | Q(emergency_access_q(provider, now))
    client_id = getattr(client, "pk", client)
    held = emergency_as_read(client, provider)
    if held:
        return Q(client_id=client_id)  # rule 4: every entry of this client
    consented = consented_entry_q(provider, now, client_id)
    if held is None:  # not read with the client: ask here
        return consented | Q(_emergency_held(now, client=client_id, provider=provider.pk))
    return consented


def providers_who_may_see(
    entry: Entry, providers: QuerySet[Provider], now: datetime | None = None
) -> QuerySet[Provider]:
    """Which of `providers` may see `entry` now (rules 1–4): the engine read
    from the entry's side, one query for any number of providers.

    The same conditions as `visible_clients` and `entry_visibility_q`, from
    the same definitions (`_directive_covers`, `_emergency_held`), with the
    provider as the free side: their organization holds the client's
    care-team permission (rule 1); it wrote the entry (rule 2), or a permit
    covers its organization or sector for the entry's category and no deny
    does (rule 3); or the provider holds an emergency access (rule 4).
    The property test holds it to the reference rules beside the others.
    """
    now = now or timezone.now()
    care_team_organization = Exists(
        ClientGroupObjectPermission.objects.filter(
            group__organization__id=OuterRef("organization_id"),
            content_object_id=entry.client_id,
            permission_id=access_client_permission_id(),
        )
    )
    covers = {
        "client": entry.client_id,
        "category": entry.category,
        "organization": OuterRef("organization_id"),
        "sector": OuterRef("organization__sector"),
    }
    consented = Q(organization_id=entry.organization_id) | (
        _directive_covers(Effect.PERMIT, now, **covers)
        & ~_directive_covers(Effect.DENY, now, **covers)
    )
    emergency = _emergency_held(now, client=entry.client_id, provider=OuterRef("pk"))
    return (
        providers.filter(entry_readers_q())
        .filter(care_team_organization)
        .filter(consented | Q(emergency))
    )


def visible_entry_versions(
    provider: Provider, client: Client, visibility: Q | None = None
) -> QuerySet[Entry]:
    """Every row of `client`'s entries the provider may see now — amended
    versions included — author and organization joined. `client` must come
    from `visible_clients(provider)`. An amendment has its original's client,
    category and organization, so rules 2–4 decide alike for every version.
    `visibility`: `entry_visibility_q` for this provider and client, when the
    caller has decided it already (`entries_and_counts`)."""
    if visibility is None:
        visibility = entry_visibility_q(provider, client=client)
    return (
        Entry.objects.filter(client=client)
        .filter(visibility)
        .select_related("author", "organization", "retracted_by")
    )


def visible_entries(
    provider: Provider, client: Client, visibility: Q | None = None
) -> QuerySet[Entry]:
    """The entries of `client` the provider may see now, each in its newest
    version (an amended original is reached by id, not listed); a retracted
    entry stays, as the tombstone its readers see."""
    return visible_entry_versions(provider, client, visibility).filter(superseded_at__isnull=True)


def entries_and_counts(provider: Provider, client: Client) -> tuple[QuerySet[Entry], int, int]:
    """A timeline: `visible_entries` with `entry_counts` (visible, withheld),
    rules 2–4 decided once for the page and its counts."""
    visibility = entry_visibility_q(provider, client=client)
    visible, withheld = entry_counts(provider, client, visibility=visibility)
    return visible_entries(provider, client, visibility), visible, withheld


def _consented_across_clients_q(provider: Provider, now: datetime) -> Q:
    """Rules 2 and 3 as `consented_entry_q` decides them, in the shape for many
    clients at once: per category, the clients whose directives permit it and
    do not deny it, each set computed once per query (uncorrelated, so the
    database hashes it) instead of two correlated lookups per entry."""
    organization = provider.organization
    grantee = {"organization": organization.pk, "sector": organization.sector}
    permitted = _covering(Effect.PERMIT, now, **grantee)
    denied = _covering(Effect.DENY, now, **grantee)
    by_category = Q(pk__in=[])
    for category in Category.values:
        by_category |= (
            Q(category=category)
            & Q(client_id__in=permitted.filter(category=category).values("directive__client_id"))
            & ~Q(client_id__in=denied.filter(category=category).values("directive__client_id"))
        )
    return Q(organization_id=provider.organization_id) | by_category


def visible_entries_anywhere(provider: Provider, now: datetime | None = None) -> QuerySet[Entry]:
    """Entries the provider may see now (or at `now`, for a read that also
    measures time from it), newest versions, of any client they may see: rule 1, then rules
    2–4 in their across-clients shape (the same rows as `entry_visibility_q`,
    which the property test checks; measured in docs/performance.md)."""
    now = now or timezone.now()
    if not may_read_entries(provider):
        return Entry.objects.none()
    emergency = Q(client_id__in=_emergencies(now, provider=provider.pk).values("client_id"))
    return Entry.objects.filter(
        client__in=visible_clients(provider), superseded_at__isnull=True
    ).filter(_consented_across_clients_q(provider, now) | emergency)


def withheld_count(
    provider: Provider, client: Client, among: Q | None = None, visibility: Q | None = None
) -> int:
    """Rule 5: how many of the client's entries rule 3 hides from the provider.

    Counted from the same filter as `visible_entries`, over all the client's
    entries whatever filter the request applies — or, for a list of one kind
    of entry (assessments), over all the client's entries of that kind
    (`among`, a filter on Entry). An amended entry is one entry (its newest
    version is counted); a retracted one still exists. `visibility`: as for
    `visible_entry_versions`.
    """
    return entry_counts(provider, client, among, visibility)[1]


def entry_counts(
    provider: Provider, client: Client, among: Q | None = None, visibility: Q | None = None
) -> tuple[int, int]:
    """(visible, withheld): how many of the client's entries (newest versions;
    of `among`, if given) the provider may see — `visible_entries(...).count()`
    — and how many rule 3 hides (`withheld_count`), in one query. A list with
    no filter of its own has its page's exact count from here. `visibility`:
    as for `visible_entry_versions`."""
    visible = visibility if visibility is not None else entry_visibility_q(provider, client=client)
    entries = Entry.objects.filter(client=client, superseded_at__isnull=True)
    if among is not None:
        entries = entries.filter(among)
    # Withheld = all − visible: the filter is written (and compiled) once.
    counts = entries.aggregate(visible=Count("pk", filter=visible), all=Count("pk"))
    return counts["visible"], counts["all"] - counts["visible"]


def active_emergency_access(provider: Provider, client: Client) -> EmergencyAccess | None:
    return (
        _emergencies(timezone.now(), provider=provider.pk)
        .filter(client=client)
        .order_by("-expires_at")
        .first()
    )


def clients_under_emergency(provider: Any, client_ids: Collection[Any]) -> set:
    """Which of these clients the provider reads under emergency access now (one
    query). The audit asks it for every access event it writes.

    Read from the provider's side — the few emergency accesses they hold now,
    by the provider's index — and matched here: a list's fifty client ids in
    the query would cost more to send than the rows it reads (docs/performance.md,
    "Province scale")."""
    if not is_provider(provider):
        return set()
    held = _emergencies(timezone.now(), provider=provider.pk).values_list("client_id", flat=True)
    return set(held).intersection(client_ids)


def access_log(client: Client) -> QuerySet[AccessEvent]:
    """Every access event of the client, newest first, with who read it and for
    which organization (`_with_names`). For the whole log (the CSV) or to
    filter; a page of it is read through `access_log_pages`."""
    return _with_names(AccessEvent.objects.filter(client=client).order_by("-at", "-id"))


def _with_names(events: QuerySet[AccessEvent]) -> QuerySet[AccessEvent]:
    """Who (their shown name) and for which organization (its name and sector,
    which the portal shows) — the provider's other columns (the password hash
    among them) are not read, which halves a page's cost."""
    return events.select_related("actor", "organization").only(
        *(f.name for f in AccessEvent._meta.concrete_fields),
        "actor__full_name",
        "actor__username",
        "organization__name",
        "organization__sector",
    )


def access_log_pages(events: QuerySet[AccessEvent]) -> KeysFirst:
    """A client's log (`access_log`, filtered or not) for a paginator: each
    page's events chosen on the log's index alone, then read with their names
    (core.paging.KeysFirst: a much-read client's log otherwise joined and
    sorted every event it holds, for each page)."""
    return KeysFirst(events, _with_names(AccessEvent.objects.all()))


# What a row of the access log's API page carries (`access_log_rows`).
ACCESS_LOG_COLUMNS = (
    "id",
    "at",
    "action",
    "channel",
    "emergency",
    "by_client",
    "actor_id",
    "actor__full_name",
    "actor__username",
    "organization_id",
    "organization__name",
)


def access_log_rows(client: Client) -> KeysFirst:
    """`access_log_pages` as plain rows (ACCESS_LOG_COLUMNS), newest first: the
    API's page of fifty builds no model instances, which was most of its time
    after the SQL (docs/performance.md, "Province scale")."""
    return KeysFirst(access_log(client), AccessEvent.objects.values(*ACCESS_LOG_COLUMNS))


def emergency_review_queue(officer: Provider, reviewed: bool = False) -> QuerySet[EmergencyAccess]:
    """Emergency accesses on the clients of the officer's organization (rule 1:
    the clients it serves now), not yet acknowledged by that organization —
    or, with `reviewed`, those it has acknowledged — newest first."""
    own_review = EmergencyAccessReview.objects.filter(
        emergency_access=OuterRef("pk"), organization_id=officer.organization_id
    )
    grants = (
        EmergencyAccess.objects.filter(client__in=visible_clients(officer))
        .annotate(reviewed=Exists(own_review))
        .filter(reviewed=reviewed)
        .select_related("client", "provider", "organization")
        .order_by("-granted_at", "-id")
    )
    return grants


def reads_under(grants: list[EmergencyAccess]) -> dict[Any, list[AccessEvent]]:
    """What each emergency access was used for: the access events its holder
    made on that client while it lasted (marked emergency), in one query."""
    if not grants:
        return {}
    events = AccessEvent.objects.filter(
        emergency=True,
        client_id__in={grant.client_id for grant in grants},
        actor_id__in={grant.provider_id for grant in grants},
        at__gte=min(grant.granted_at for grant in grants),
        at__lt=max(grant.expires_at for grant in grants),
    ).order_by("at", "id")
    found: dict[Any, list[AccessEvent]] = {grant.pk: [] for grant in grants}
    for event in events:
        for grant in grants:
            if (
                event.client_id == grant.client_id
                and event.actor_id == grant.provider_id
                and grant.granted_at <= event.at < grant.expires_at
            ):
                found[grant.pk].append(event)
    return found


def directives_of(client: Client | object) -> QuerySet[ConsentDirective]:
    """The client's directives, revoked ones included, newest first."""
    return (
        ConsentDirective.objects.filter(client=client)
        .select_related("recorded_by")
        .prefetch_related("category_rows")
        .order_by("-recorded_at", "id")
    )


def live_policies() -> QuerySet[ConsentPolicy]:
    """Consent policies that may still be applied (archived ones are kept, unlisted)."""
    return ConsentPolicy.objects.filter(archived_at__isnull=True).prefetch_related("rules")
