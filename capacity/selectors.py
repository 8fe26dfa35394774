"""The wait figures of services and organizations, computed by the database.

What each figure means is in docs/capacity.md; in short, over the referrals
to a service (or to an organization, with or without a service):

- `waiting` (sent or accepted), `awaiting_triage` (sent), `oldest_waiting_days`;
- the **sample**: referrals sent in the last 180 days whose `wait_days` is
  known; its nearest-rank median and 90th percentile, published from 6;
- `arrivals_4w` (sent) and `left_4w` (stopped waiting) over the last 28 days;
- `growing`: more arrivals than departures with at least 5 waiting.

Any number of services costs four grouped queries, each over its own index
range: the queue, the last 28 days' arrivals and departures, and the sample's
histogram (how many referrals waited each number of days), from which the
percentiles are read. The weekly history of one service costs four. Nothing
loads referrals into Python, only counts.
"""

from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Count,
    F,
    Func,
    IntegerField,
    Min,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce, TruncWeek
from django.http import Http404
from django.utils import timezone

from core.ids import parse_uuid
from portal.models import ExperienceAnswer
from records.models import Organization, Service
from referrals.models import WAITING_STATUSES, Referral, ReferralStatus

SAMPLE_DAYS = 180
RECENT_DAYS = 28
# Below this many waits a median would all but name the referrals behind it.
PUBLISH_FROM = 6
# Below this many survey answers a mean could be traced to a client.
EXPERIENCE_FROM = 5
# A week's median needs this many referrals that stopped waiting that week.
WEEK_MEDIAN_FROM = 3
GROWING_FROM = 5
HISTORY_WEEKS = 26
MAX_HISTORY_WEEKS = 104

_DAY = timedelta(days=1)
NO_SERVICE = "No service found."


def access_service(service_id: Any) -> Service:
    """Any service by id, for every face: services are public within CareLink
    (their figures are about queues, not clients). A malformed or unknown id
    is the same 404."""
    service = (
        Service.objects.select_related("organization")
        .filter(pk=parse_uuid(service_id, NO_SERVICE))
        .first()
    )
    if service is None:
        raise Http404(NO_SERVICE)
    return service


class WholeDaysBetween(Func):
    """Whole days from `start` to `end` (elapsed time floored to 24 h, never
    below 0): a referral's `wait_days` (referrals.selectors.wait_days), in SQL.
    For rows where `end` is known (PostgreSQL's GREATEST ignores NULL)."""

    output_field = IntegerField()
    arity = 2

    def __init__(self, end: Any, start: Any) -> None:
        super().__init__(end, start)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        return self.as_sql(
            compiler,
            connection,
            template="GREATEST(FLOOR(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400), 0)::integer",
            arg_joiner=" - ",
            **extra,
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        # Django's own SQLite function for timestamp subtraction, in microseconds.
        return self.as_sql(
            compiler,
            connection,
            template="MAX(django_timestamp_diff(%(expressions)s) / 86400000000, 0)",
            arg_joiner=", ",
            **extra,
        )


WAIT_END = Coalesce("appointment_at", "completed_at")
# A referral's wait is known once it has an appointment or was completed.
WAIT_KNOWN = Q(appointment_at__isnull=False) | Q(completed_at__isnull=False)


@dataclass(frozen=True)
class Wait:
    waiting: int = 0
    awaiting_triage: int = 0
    oldest_waiting_days: int | None = None
    median_wait_days: int | None = None
    p90_wait_days: int | None = None
    sample_size: int = 0
    arrivals_4w: int = 0
    left_4w: int = 0

    @property
    def growing(self) -> bool:
        return self.arrivals_4w > self.left_4w and self.waiting >= GROWING_FROM

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"growing": self.growing}


# The nearest-rank percentiles published: p = num / den.
MEDIAN, P90 = (1, 2), (9, 10)


def nearest_rank(p: tuple[int, int], size: int) -> int:
    """The 1-based position ⌈p·n⌉ of the nearest-rank percentile p of n values."""
    num, den = p
    return (size * num + den - 1) // den


def _histograms(sample: QuerySet, group: str) -> dict[Any, list[tuple[int, int]]]:
    """Per group of `sample`, how many of its referrals waited each number of
    whole days: `(days, how many)` ascending. One grouped query; a group's
    histogram has one row per distinct wait, a few hundred at most, where
    ranking its referrals would sort every one of them (docs/performance.md,
    "Province scale", change 36)."""
    rows = (
        sample.annotate(days=WholeDaysBetween(WAIT_END, F("created_at")))
        .values(group, "days")
        .annotate(n=Count("*"))
        .order_by(group, "days")
        .values_list(group, "days", "n")
    )
    histograms: dict[Any, list[tuple[int, int]]] = {}
    for key, days, n in rows:
        histograms.setdefault(key, []).append((days, n))
    return histograms


def _at_rank(histogram: list[tuple[int, int]], rank: int) -> int:
    """The value at 1-based position `rank` of the histogram's values, ascending."""
    seen = 0
    for days, n in histogram:
        seen += n
        if seen >= rank:
            return days
    raise ValueError(f"rank {rank} is past the histogram's {seen} values")


def _percentiles(
    histogram: list[tuple[int, int]], floor: int
) -> tuple[int, int | None, int | None]:
    """The size, nearest-rank median and 90th percentile of a histogram; the
    percentiles are None below `floor` values."""
    size = sum(n for _, n in histogram)
    if size < floor:
        return size, None, None
    return (
        size,
        _at_rank(histogram, nearest_rank(MEDIAN, size)),
        _at_rank(histogram, nearest_rank(P90, size)),
    )


def _counts(referrals: QuerySet, group: str) -> dict[Any, int]:
    """How many of `referrals` each group has."""
    return dict(referrals.values(group).annotate(n=Count("*")).values_list(group, "n"))


def _flow(mine: QuerySet, group: str, now: datetime) -> tuple[dict[Any, int], dict[Any, int]]:
    """Per group, the last 28 days' arrivals (sent since) and departures
    (stopped waiting since), each counted on its own (group, time) index."""
    since = now - timedelta(days=RECENT_DAYS)
    return (
        _counts(mine.filter(created_at__gte=since), group),
        _counts(mine.filter(stopped_waiting_at__gte=since), group),
    )


def _waits(referrals: QuerySet, group: str, ids: Collection[Any], now: datetime) -> dict:
    ids = list(ids)
    if not ids:
        return {}
    since_sample = now - timedelta(days=SAMPLE_DAYS)
    mine = referrals.filter(**{f"{group}__in": ids}).order_by()
    # Four reads, each of its own index range: the queue (the waiting
    # referrals' partial index, which carries the status), the last 28 days'
    # arrivals (by the time sent) and departures (by the time they stopped
    # waiting), and the sample's histogram. They count rows
    # (`*`, or `created_at`, never null, where a FILTER needs a column), not
    # ids: the ids are in none of these indexes, and reading them would visit
    # every referral counted instead of reading the index alone.
    queue = {
        key: (n_waiting, triage, oldest)
        for key, n_waiting, triage, oldest in mine.filter(status__in=WAITING_STATUSES)
        .values(group)
        .annotate(
            waiting=Count("*"),
            awaiting_triage=Count("created_at", filter=Q(status=ReferralStatus.SENT)),
            oldest=Min("created_at"),
        )
        .values_list(group, "waiting", "awaiting_triage", "oldest")
    }
    arrivals_4w, left_4w = _flow(mine, group, now)
    histograms = _histograms(mine.filter(WAIT_KNOWN, created_at__gte=since_sample), group)
    found = {}
    for key in ids:
        n_waiting, triage, oldest = queue.get(key, (0, 0, None))
        sample_size, median, p90 = _percentiles(histograms.get(key, []), PUBLISH_FROM)
        found[key] = Wait(
            waiting=n_waiting,
            awaiting_triage=triage,
            oldest_waiting_days=None if oldest is None else max(0, (now - oldest) // _DAY),
            median_wait_days=median,
            p90_wait_days=p90,
            sample_size=sample_size,
            arrivals_4w=arrivals_4w.get(key, 0),
            left_4w=left_4w.get(key, 0),
        )
    return found


def service_waits(services: Iterable[Service | Any], now: datetime | None = None) -> dict:
    """The wait of each service (by id), over the referrals to it."""
    ids = [getattr(service, "pk", service) for service in services]
    return _waits(Referral.objects.all(), "service_id", ids, now or timezone.now())


def growing_services(services: Iterable[Service | Any], now: datetime | None = None) -> set:
    """The ids of the services whose wait is `growing`, without the rest of
    their figures: the queue's size and the last 28 days' arrivals and
    departures, three counts over index ranges, where a whole `Wait` also
    ranks each service's 180-day sample. For a directory of every service in
    the province, which shows the growing ones first and full figures for one
    page of them (docs/performance.md, change 40)."""
    ids = [getattr(service, "pk", service) for service in services]
    if not ids:
        return set()
    mine = Referral.objects.filter(service_id__in=ids).order_by()
    waiting = _counts(mine.filter(status__in=WAITING_STATUSES), "service_id")
    arrivals, left = _flow(mine, "service_id", now or timezone.now())
    return {
        key
        for key in ids
        if Wait(
            waiting=waiting.get(key, 0), arrivals_4w=arrivals.get(key, 0), left_4w=left.get(key, 0)
        ).growing
    }


def service_wait(service: Service, now: datetime | None = None) -> Wait:
    return service_waits([service], now)[service.pk]


def organization_waits(
    organizations: Iterable[Organization | Any], now: datetime | None = None
) -> dict:
    """The wait of each organization (by id), over every referral to it, with
    or without a service."""
    ids = [getattr(organization, "pk", organization) for organization in organizations]
    return _waits(Referral.objects.all(), "to_organization_id", ids, now or timezone.now())


@dataclass(frozen=True)
class Experience:
    """What clients said of a service after their referrals (the portal's
    survey, docs/portal.md). Every figure but `responses` stays null below
    5 responses, so no answer can be traced to a client."""

    responses: int = 0
    repeated_story_percent: int | None = None
    kept_informed_mean: float | None = None
    overall_mean: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _one_decimal(total: int, count: int) -> float:
    """A mean rounded to one decimal, halves up (4.25 → 4.3), in exact arithmetic."""
    return float((Decimal(total) / Decimal(count)).quantize(Decimal("0.1"), ROUND_HALF_UP))


def service_experiences(services: Iterable[Service | Any]) -> dict:
    """The experience of each service (by id): what clients answered about
    their referrals to it, in one grouped query. Below EXPERIENCE_FROM answers
    only their number shows; no single answer ever leaves this function."""
    ids = [getattr(service, "pk", service) for service in services]
    if not ids:
        return {}
    rows = (
        ExperienceAnswer.objects.filter(referral__service_id__in=ids)
        .order_by()
        .values("referral__service_id")
        .annotate(
            responses=Count("pk"),
            repeated=Count("pk", filter=Q(repeated_story=True)),
            kept_informed=Sum("kept_informed"),
            overall=Sum("overall"),
        )
        .values_list("referral__service_id", "responses", "repeated", "kept_informed", "overall")
    )
    found = {}
    for service_id, responses, repeated, kept_informed, overall in rows:
        if responses < EXPERIENCE_FROM:
            found[service_id] = Experience(responses=responses)
            continue
        percent = (Decimal(100 * repeated) / Decimal(responses)).quantize(1, ROUND_HALF_UP)
        found[service_id] = Experience(
            responses=responses,
            repeated_story_percent=int(percent),
            kept_informed_mean=_one_decimal(kept_informed, responses),
            overall_mean=_one_decimal(overall, responses),
        )
    return {service_id: found.get(service_id, Experience()) for service_id in ids}


# --- the weekly history ----------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    week_start: datetime
    arrivals: int
    left: int
    waiting_at_end: int
    median_wait_days: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "week_start": self.week_start.date().isoformat(),
            "arrivals": self.arrivals,
            "left": self.left,
            "waiting_at_end": self.waiting_at_end,
            "median_wait_days": self.median_wait_days,
        }


def week_start(moment: datetime) -> datetime:
    """The Monday 00:00 UTC that starts the ISO week of `moment`."""
    day = moment.astimezone(UTC).date()
    monday = day - timedelta(days=day.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)


def wait_history(
    service: Service, weeks: int = HISTORY_WEEKS, now: datetime | None = None
) -> list[Week]:
    """Per ISO week (UTC), oldest first, the last being the current week:
    referrals sent, referrals that stopped waiting, referrals waiting at the
    week's end (now, for the current week), and the median `wait_days` of
    those that stopped waiting that week by being scheduled or completed
    (null below 3).

    The queue at each week's end is the queue before the first week plus the
    arrivals minus the departures since: a referral stops waiting once, never
    before it was sent (the referral table's constraints)."""
    now = now or timezone.now()
    first = week_start(now) - timedelta(weeks=weeks - 1)
    referrals = Referral.objects.filter(service=service).order_by()
    by_week = {"tzinfo": UTC}
    arrivals = dict(
        referrals.filter(created_at__gte=first)
        .annotate(week=TruncWeek("created_at", **by_week))
        .values("week")
        .annotate(n=Count("pk"))
        .values_list("week", "n")
    )
    left_rows = referrals.filter(stopped_waiting_at__gte=first).annotate(
        week=TruncWeek("stopped_waiting_at", **by_week)
    )
    left = dict(left_rows.values("week").annotate(n=Count("pk")).values_list("week", "n"))
    waiting = (
        referrals.filter(created_at__lt=first)
        .filter(Q(stopped_waiting_at__isnull=True) | Q(stopped_waiting_at__gte=first))
        .count()
    )
    # Scheduled or completed = its wait is known: a declined or cancelled
    # referral that was never scheduled has none.
    medians = {
        week: _percentiles(histogram, WEEK_MEDIAN_FROM)[1]
        for week, histogram in _histograms(left_rows.filter(WAIT_KNOWN), "week").items()
    }
    history = []
    for n in range(weeks):
        start = first + timedelta(weeks=n)
        came, went = arrivals.get(start, 0), left.get(start, 0)
        waiting += came - went
        history.append(Week(start, came, went, waiting, medians.get(start)))
    return history
