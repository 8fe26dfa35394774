"""Reads of the measures app, every one through the consent engine.

- `visible_assessments(provider, client)`: the assessments whose entries the
  provider may see now — the one source for the API's list, the client page's
  chart and banner, and (later) FHIR's Observations;
- `assessment_withheld_count`: rule 5 over the client's assessments;
- `registry(provider, instrument, …)`: the organization's measurement-based
  care registry, computed in the database over visible assessments only, in
  one query whatever the number of clients (docs/measures.md).
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    RowRange,
    Window,
)
from django.db.models.functions import FirstValue, LastValue, RowNumber
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from consent.selectors import visible_entries, visible_entries_anywhere, withheld_count
from core.ids import parse_uuid
from measures.instruments import INSTRUMENTS, Instrument
from measures.models import Assessment, RegistryStatus
from records.models import Client, Provider

NO_ASSESSMENT = "No assessment found."

# The registry's clocks (docs/measures.md, "The registry").
FOLLOW_UP_WITHIN = timedelta(days=28)
NOT_IMPROVING_AFTER = timedelta(days=56)
WEEK = timedelta(days=7)

# The order a case review walks the registry: who needs attention first.
STATUS_ORDER = [
    RegistryStatus.NOT_IMPROVING,
    RegistryStatus.NO_FOLLOW_UP,
    RegistryStatus.IN_TREATMENT,
    RegistryStatus.RESPONSE,
    RegistryStatus.REMISSION,
]


# --- a client's assessments ---------------------------------------------------------------


def visible_assessments(
    provider: Provider,
    client: Client,
    instrument: str | None = None,
    visibility: Q | None = None,
) -> QuerySet[Assessment]:
    """The client's assessments the provider may see now, newest first, with
    their entry's author and organization. `client` must come from the gate.

    Only assessments recorded as such are here: an entry of kind `assessment`
    posted as a plain entry has no Assessment row. `visibility`: the consent
    engine's decision for this provider and client, when the caller has it
    (`entry_visibility_q`), so a read that also counts decides once."""
    assessments = Assessment.objects.filter(
        entry__in=visible_entries(provider, client, visibility).values("pk")
    )
    if instrument is not None:
        assessments = assessments.filter(instrument=instrument)
    return assessments.select_related("entry__author", "entry__organization").order_by(
        "-administered_at", "-entry__created_at", "-id"
    )


def assessment_withheld_count(
    provider: Provider, client: Client, visibility: Q | None = None
) -> int:
    """Rule 5 for the list of assessments: how many of the client's assessments
    consent hides from the provider, whatever instrument the list shows."""
    return withheld_count(provider, client, Q(assessment__isnull=False), visibility)


def access_assessment(provider: Provider, client: Client, assessment_id: Any) -> Assessment:
    """One of the client's assessments the provider may see; unknown,
    malformed and hidden ids are the same 404."""
    assessment = (
        visible_assessments(provider, client)
        .filter(pk=parse_uuid(assessment_id, NO_ASSESSMENT))
        .first()
    )
    if assessment is None:
        raise Http404(NO_ASSESSMENT)
    return assessment


def latest_safety_concerns(provider: Provider, client: Client) -> list[Assessment]:
    """For each instrument with a safety item, the client's latest assessment
    the provider may see, when it raises the safety alert: what the client
    page's banner shows. A later assessment answering the item 0 is the
    current picture, so the banner follows it."""
    concerns = []
    for code, instrument in INSTRUMENTS.items():
        if instrument.safety_item is None:
            continue
        latest = visible_assessments(provider, client, code).first()
        if latest is not None and instrument.raises_safety_alert(latest.answers):
            concerns.append(latest)
    return concerns


# --- the registry -----------------------------------------------------------------------


@dataclass(frozen=True)
class RegistryRow:
    client_id: uuid.UUID
    given_name: str
    family_name: str
    baseline_score: int
    baseline_at: datetime
    latest_score: int
    latest_at: datetime
    count: int
    status: str
    weeks_in_care: int
    change_percent: int | None

    @property
    def status_label(self) -> str:
        return RegistryStatus(self.status).label


@dataclass(frozen=True)
class RegistryPage:
    rows: list[RegistryRow]
    # Every status, 0 when none: over the whole registry, whatever the filter.
    summary: dict[str, int]
    # How many rows the filter keeps (what the page's `count` says).
    total: int


class RegistryRows:
    """A fetched page of the registry as Django's paginator reads a list: its
    length is the registry's (filtered) total, and slicing it at the page that
    was fetched gives that page. So the page number checks, the 404 past the
    end and the links are the paginator's, with no second query for a count."""

    def __init__(self, page: RegistryPage, offset: int) -> None:
        self.page = page
        self.offset = offset

    def count(self) -> int:
        return self.page.total

    def __len__(self) -> int:
        return self.page.total

    def __getitem__(self, index: slice) -> list[RegistryRow]:
        if not isinstance(index, slice) or (index.start or 0) != self.offset:
            raise IndexError("only the fetched page can be read")
        return self.page.rows


def change_percent(baseline: int, latest: int) -> int | None:
    """100·(latest − baseline)/baseline, to the nearest whole number, halves
    away from zero (−62.5 → −63); None when the baseline is 0. Integer
    arithmetic: no float ever rounds a half the wrong way."""
    if baseline == 0:
        return None
    numerator = 100 * (latest - baseline)
    quotient, remainder = divmod(abs(numerator), baseline)
    if 2 * remainder >= baseline:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def weeks_between(start: datetime, end: datetime) -> int:
    """Whole weeks of 7 × 24 h."""
    return (end - start) // WEEK


def registry(
    provider: Provider,
    instrument: Instrument,
    *,
    status: str | None = None,
    offset: int = 0,
    limit: int | None = 50,
    now: datetime | None = None,
) -> RegistryPage:
    """One page of the registry of the provider's organization for one
    instrument, with the summary by status; `status` filters the rows (not the
    summary).

    A row is a client the provider may see (rule 1) with at least one
    assessment of the instrument the provider may see (rules 2–4); baseline and
    latest are the earliest and the most recent of those visible ones, so a
    hidden assessment shapes no figure. Computed in the database, in one query
    for the page and the summary together (a second only when the page is
    empty, for the summary).
    """
    now = now or timezone.now()
    sql, params = _registry_sql(provider, instrument, now)
    status_totals = ", ".join(
        f"SUM(CASE WHEN status = '{each.value}' THEN 1 ELSE 0 END) OVER () AS total_{each.value}"
        for each in STATUS_ORDER
    )
    rank = " ".join(f"WHEN '{each.value}' THEN {n}" for n, each in enumerate(STATUS_ORDER))
    client_table = connection.ops.quote_name(Client._meta.db_table)
    where = ""
    page_params: list[Any] = []
    if status is not None:
        where = "WHERE s.status = %s"
        page_params.append(status)
    page_params += [_NO_LIMIT if limit is None else limit, offset]
    page_sql = f"""
        {sql},
        summed AS (SELECT latest.*, {status_totals} FROM latest)
        SELECT s.client_id, c.given_name, c.family_name, s.baseline_score, s.baseline_at,
               s.latest_score, s.latest_at, s.n, s.status,
               {", ".join(f"s.total_{each.value}" for each in STATUS_ORDER)}
        FROM summed s JOIN {client_table} c ON c.id = s.client_id
        {where}
        ORDER BY CASE s.status {rank} END, s.latest_at, s.client_id
        LIMIT %s OFFSET %s
    """
    with connection.cursor() as cursor:
        cursor.execute(_without_jit() + page_sql, params + page_params)
        fetched = cursor.fetchall()
        if fetched:
            first = fetched[0]
            summary = {each.value: int(first[9 + n]) for n, each in enumerate(STATUS_ORDER)}
        else:
            cursor.execute(
                f"{_without_jit()}{sql} SELECT status, COUNT(*) FROM latest GROUP BY status", params
            )
            counted = dict(cursor.fetchall())
            summary = {each.value: int(counted.get(each.value, 0)) for each in STATUS_ORDER}
    rows = [
        RegistryRow(
            client_id=uuid.UUID(str(client_id)),
            given_name=given_name,
            family_name=family_name,
            baseline_score=baseline_score,
            baseline_at=(baseline := _python_datetime(baseline_at)),
            latest_score=latest_score,
            latest_at=_python_datetime(latest_at),
            count=n,
            status=row_status,
            weeks_in_care=weeks_between(baseline, now),
            change_percent=change_percent(baseline_score, latest_score),
        )
        for (
            client_id,
            given_name,
            family_name,
            baseline_score,
            baseline_at,
            latest_score,
            latest_at,
            n,
            row_status,
            *_,
        ) in fetched
    ]
    total = summary[status] if status is not None else sum(summary.values())
    return RegistryPage(rows=rows, summary=summary, total=total)


# PostgreSQL's JIT compiles a query whose estimated cost passes jit_above_cost;
# for this one (a consent check per visible assessment) the estimate can cross
# it, and compiling then took ~490 ms of a ~150 ms query (docs/performance.md).
# SET LOCAL in the same round trip: it lasts for this statement batch (its
# implicit transaction) or, inside a transaction, until its end — never beyond.
def _without_jit() -> str:
    return "SET LOCAL jit = off; " if connection.vendor == "postgresql" else ""


# "No limit" in a LIMIT both databases accept (PostgreSQL refuses -1, SQLite NULL).
_NO_LIMIT = 2**62


def _registry_sql(provider: Provider, instrument: Instrument, now: datetime) -> tuple[str, list]:
    """The registry's common part: `WITH ranked AS (…), latest AS (…)`.

    `ranked` is the consent engine's own queryset of visible entries, joined to
    their assessments of the instrument, with each client's baseline and latest
    (first and last value in time), count and position (window functions over
    one ordering, so one sort) — compiled by the ORM, so the consent filter is
    the engine's and no copy of it. `latest` keeps one row per client and
    decides its status, the first that applies, as a CASE over plain column
    comparisons (so it reads the same on PostgreSQL and SQLite; the 56-day mark
    is computed by the ORM).

    Raw SQL from here on because the ORM cannot put a window over the rows a
    window filter kept (the summary beside the page)."""
    in_time = [F("assessment__administered_at").asc(), F("created_at").asc(), F("id").asc()]

    def per_client(expression: Any) -> Window:
        # One window definition for all of them, over the client's whole series:
        # the database sorts the visible assessments once.
        return Window(
            expression,
            partition_by=[F("client_id")],
            order_by=in_time,
            frame=RowRange(start=None, end=None),
        )

    ranked = (
        visible_entries_anywhere(provider, now)
        .filter(assessment__instrument=instrument.code)
        .annotate(
            baseline_score=per_client(FirstValue("assessment__score")),
            baseline_at=per_client(FirstValue("assessment__administered_at")),
            not_improving_from=per_client(
                FirstValue(
                    ExpressionWrapper(
                        F("assessment__administered_at") + NOT_IMPROVING_AFTER,
                        output_field=DateTimeField(),
                    )
                )
            ),
            latest_score=per_client(LastValue("assessment__score")),
            latest_at=per_client(LastValue("assessment__administered_at")),
            n=per_client(Count("id")),
            position=per_client(RowNumber()),
        )
        .order_by()
        .values(
            "client_id",
            "baseline_score",
            "baseline_at",
            "not_improving_from",
            "n",
            "position",
            "latest_score",
            "latest_at",
        )
    )
    inner_sql, inner_params = ranked.query.sql_with_params()
    s = RegistryStatus
    sql = f"""
        WITH ranked AS ({inner_sql}),
        latest AS (
            SELECT client_id, baseline_score, baseline_at, latest_score, latest_at, n,
                CASE
                    WHEN n >= 2 AND latest_score < %s THEN '{s.REMISSION.value}'
                    WHEN n >= 2 AND 2 * latest_score <= baseline_score THEN '{s.RESPONSE.value}'
                    WHEN latest_at < %s THEN '{s.NO_FOLLOW_UP.value}'
                    WHEN latest_at >= not_improving_from THEN '{s.NOT_IMPROVING.value}'
                    ELSE '{s.IN_TREATMENT.value}'
                END AS status
            FROM ranked WHERE position = 1
        )
    """
    return sql, [*inner_params, instrument.remission_below, _db_datetime(now - FOLLOW_UP_WITHIN)]


def _db_datetime(value: datetime) -> Any:
    """A timestamp as this database compares it in raw SQL (SQLite: text in UTC)."""
    return connection.ops.adapt_datetimefield_value(value)


def _python_datetime(value: Any) -> datetime:
    """A timestamp from raw SQL: aware from PostgreSQL, naive UTC text from SQLite."""
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise ValueError(f"not a timestamp: {value!r}")
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)
