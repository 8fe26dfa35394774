"""What the benchmarks in this folder share. Import it before Django: it puts
the project on the path with benchmark-only settings.

- `nearest_rank`: the percentile every benchmark reports;
- `samples` and `timed`: a function's times after warm-up;
- `emptied_postgresql`: the database the in-process benchmarks write, checked
  to be PostgreSQL (their budgets are PostgreSQL's), emptied and migrated;
- `clinician_per_sector`: one organization per sector with a clinician each,
  the world the timeline and FHIR benchmarks build on.
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
