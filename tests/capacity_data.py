"""Referral histories for the capacity tests, and the wait figures computed the
plainest way — from the rows, in Python, word for word as docs/capacity.md
defines them — to check the database's figures against."""

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from referrals.models import Referral

DAY = timedelta(days=1)


@dataclass
class Row:
    """What the figures read of one referral."""

    created_at: datetime
    status: str
    appointment_at: datetime | None = None
    completed_at: datetime | None = None
    stopped_waiting_at: datetime | None = None


def referral(row: Row, *, client, referrer, to_organization, service=None, **extra) -> Referral:
    return Referral(
        client=client,
        from_organization_id=referrer.organization_id,
        to_organization=to_organization,
        service=service,
        referred_by=referrer,
        reason="History",
        urgency=extra.pop("urgency", "routine"),
        status=row.status,
        created_at=row.created_at,
        appointment_at=row.appointment_at,
        completed_at=row.completed_at,
        stopped_waiting_at=row.stopped_waiting_at,
        accepted_at=row.created_at if row.status != "sent" else None,
        declined_at=row.stopped_waiting_at if row.status == "declined" else None,
        cancelled_at=row.stopped_waiting_at if row.status == "cancelled" else None,
        **extra,
    )


def random_rows(rng: random.Random, n: int, now: datetime, days: int = 400) -> list[Row]:
    """Referrals along every path of the transition table, at random times."""
    rows = []
    for _ in range(n):
        created = now - timedelta(seconds=rng.randint(60, days * 86400))
        span = (now - created).total_seconds()

        def later(after: datetime) -> datetime:
            room = max(1.0, (now - after).total_seconds())
            return after + timedelta(seconds=rng.uniform(0, room))

        path = rng.choice(
            [
                "sent",
                "accepted",
                "scheduled",
                "completed",
                "completed_after_schedule",
                "declined",
                "cancelled",
                "cancelled_after_schedule",
            ]
        )
        if path in ("sent", "accepted"):
            rows.append(Row(created, path))
        elif path == "declined" or path == "cancelled":
            rows.append(Row(created, path, stopped_waiting_at=later(created)))
        elif path == "completed":
            done = later(created)
            rows.append(Row(created, "completed", completed_at=done, stopped_waiting_at=done))
        else:
            scheduled = created + timedelta(seconds=rng.uniform(0, span))
            # The appointment is after scheduling, sometimes still ahead.
            appointment = scheduled + timedelta(days=rng.uniform(0, 60))
            status = path.split("_")[0]
            completed = later(scheduled) if status == "completed" else None
            rows.append(
                Row(
                    created,
                    status,
                    appointment_at=appointment,
                    completed_at=completed,
                    stopped_waiting_at=scheduled,
                )
            )
    return rows


# --- the figures, by hand ------------------------------------------------------------


def wait_days(row: Row) -> int | None:
    end = row.appointment_at or row.completed_at
    return None if end is None else max(0, (end - row.created_at) // DAY)


def nearest_rank(values: list[int], p: float) -> int:
    ordered = sorted(values)
    return ordered[math.ceil(p * len(ordered)) - 1]


def hand_wait(rows: list[Row], now: datetime) -> dict:
    waiting = [r for r in rows if r.status in ("sent", "accepted")]
    sample = [
        wait_days(r)
        for r in rows
        if wait_days(r) is not None and r.created_at >= now - timedelta(days=180)
    ]
    arrivals = sum(1 for r in rows if r.created_at >= now - timedelta(days=28))
    left = sum(
        1
        for r in rows
        if r.stopped_waiting_at is not None and r.stopped_waiting_at >= now - timedelta(days=28)
    )
    published = len(sample) >= 6
    return {
        "waiting": len(waiting),
        "awaiting_triage": sum(1 for r in rows if r.status == "sent"),
        "oldest_waiting_days": (
            (now - min(r.created_at for r in waiting)) // DAY if waiting else None
        ),
        "median_wait_days": nearest_rank(sample, 0.5) if published else None,
        "p90_wait_days": nearest_rank(sample, 0.9) if published else None,
        "sample_size": len(sample),
        "arrivals_4w": arrivals,
        "left_4w": left,
        "growing": arrivals > left and len(waiting) >= 5,
    }


def hand_history(rows: list[Row], now: datetime, weeks: int) -> list[dict]:
    today = now.astimezone(UTC).date()
    monday = today - timedelta(days=today.weekday())
    current = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    history = []
    for k in range(weeks - 1, -1, -1):
        start = current - timedelta(weeks=k)
        end = min(start + timedelta(weeks=1), now)
        stopped = [
            r
            for r in rows
            if r.stopped_waiting_at is not None and start <= r.stopped_waiting_at < end
        ]
        waits = [wait_days(r) for r in stopped if wait_days(r) is not None]
        history.append(
            {
                "week_start": start.date().isoformat(),
                "arrivals": sum(1 for r in rows if start <= r.created_at < end),
                "left": len(stopped),
                "waiting_at_end": sum(
                    1
                    for r in rows
                    if r.created_at < end
                    and (r.stopped_waiting_at is None or r.stopped_waiting_at >= end)
                ),
                "median_wait_days": nearest_rank(waits, 0.5) if len(waits) >= 3 else None,
            }
        )
    return history
