"""What the benchmarks in this folder share. Import it before Django: it puts
the project on the path with benchmark-only settings.

- `nearest_rank`: the percentile every benchmark reports;
- `samples` and `timed`: a function's times after warm-up;
- `emptied_postgresql`: the database the in-process benchmarks write, checked
  to be PostgreSQL (their budgets are PostgreSQL's), emptied and migrated;
- `clinician_per_sector`: one organization per sector with a clinician each,
  the world the timeline and FHIR benchmarks build on;
- `wait_figures`: the plainest SQL for a group's wait figures, the floor of
  every read that shows waits.
"""

import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carelink.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "carelink-benchmark-only")
# In process, over plain HTTP: no redirect to HTTPS, cookies without `Secure`.
os.environ.setdefault("DJANGO_SECURE_COOKIES", "false")


def nearest_rank(values: list[float], fraction: float) -> float:
    """The value at position ⌈p·n⌉ (1-based) of the sorted values."""
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(fraction * len(ordered)))) - 1]


def samples(function: Callable[[], Any], runs: int, warm: int = 10) -> list[float]:
    """`function`'s time in milliseconds, `runs` times, after `warm` untimed runs."""
    for _ in range(warm):
        function()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return times


def timed(function: Callable[[], Any], runs: int) -> tuple[float, float]:
    """p50 and p95 of `samples`."""
    times = samples(function, runs)
    return statistics.median(times), nearest_rank(times, 0.95)


def emptied_postgresql() -> None:
    """After `django.setup()`: stop unless the database is PostgreSQL, then
    empty it and bring it to the latest migration."""
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (it is emptied).")
    call_command("flush", "--noinput", verbosity=0)
    call_command("migrate", "--noinput", verbosity=0)


def clinician_per_sector(sectors: Iterable[str], password: str | None = None) -> tuple:
    """One organization per sector ("Bench org i"), each with a clinician
    ("bench<i>"): (organizations, clinicians), in the sectors' order."""
    from records import services

    organizations = [
        services.create_organization(name=f"Bench org {i}", sector=sector)
        for i, sector in enumerate(sectors)
    ]
    clinicians = [
        services.create_provider(
            username=f"bench{i}",
            password=password,
            full_name=f"Bench {i}",
            organization=organization,
            role="clinician",
        )
        for i, organization in enumerate(organizations)
    ]
    return organizations, clinicians


def wait_figures(group: str, within: str) -> str:
    """The plainest SQL for the wait figures of each group (a service or an
    organization: `group` is the referral's column) of the referrals `within`
    selects, as docs/capacity.md defines them: the queue, the 180-day sample's
    nearest-rank median and 90th percentile, arrivals and departures in 28
    days. One grouped statement with FILTERs and percentile_disc: the floor of
    the services list in bench/capacity_bench.py and of the waits in
    bench/reads.py."""
    return f"""
    SELECT {group},
      count(*) FILTER (WHERE status IN ('sent', 'accepted')),
      count(*) FILTER (WHERE status = 'sent'),
      min(created_at) FILTER (WHERE status IN ('sent', 'accepted')),
      percentile_disc(0.5) WITHIN GROUP (ORDER BY wait_days)
        FILTER (WHERE created_at >= now() - interval '180 days' AND wait_days IS NOT NULL),
      percentile_disc(0.9) WITHIN GROUP (ORDER BY wait_days)
        FILTER (WHERE created_at >= now() - interval '180 days' AND wait_days IS NOT NULL),
      count(*) FILTER (WHERE created_at >= now() - interval '180 days' AND wait_days IS NOT NULL),
      count(*) FILTER (WHERE created_at >= now() - interval '28 days'),
      count(*) FILTER (WHERE stopped_waiting_at >= now() - interval '28 days')
    FROM (SELECT {group}, status, created_at, stopped_waiting_at,
                 CASE WHEN COALESCE(appointment_at, completed_at) IS NOT NULL THEN
                   GREATEST(FLOOR(EXTRACT(EPOCH FROM COALESCE(appointment_at, completed_at)
                                          - created_at) / 86400), 0) END AS wait_days
          FROM referrals_referral WHERE {within}) r
    GROUP BY {group}
"""
