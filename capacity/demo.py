"""The demo's services and six months of referral history (docs/capacity.md).

Called once from `load_demo` (after the stories): each demo organization's
programs, and for every one of them 26 weeks of referrals — sent, triaged,
scheduled, completed, declined — with realistic shapes:

- most services are steady: about as many leave the queue as arrive;
- Eastside's **Adult counselling** joined a "new partnership" ten weeks ago:
  arrivals jumped, capacity did not, and the wait climbs;
- Harbour's **Supportive housing** closed to referrals three weeks ago; its
  queue is still there.

The history is written as rows with their past times (as an import from the
previous system would be), not through the services, which stamp "now"; it
raises no notifications. Then one live referral to Adult counselling goes
through the services like any other, so the routing queue raises the early
warning to Eastside's intake worker and admin, as it would in real use.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from records import services as record_services
from records.models import Provider, Service
from referrals import services as referral_services
from referrals.models import Referral

HISTORY_DAYS = 186
PARTNERSHIP_DAYS_AGO = 70
CLOSED_DAYS_AGO = 21


@dataclass(frozen=True)
class DemoService:
    organization: str
    name: str
    description: str
    eligibility: str
    # Referrals arriving and leaving the queue per day, before and after `change_days_ago`.
    arrivals: tuple[float, float]
    capacity: float
    change_days_ago: int = 0
    accepting: bool = True


SERVICES = [
    DemoService(
        "Eastside Community Mental Health",
        "Adult counselling",
        "Individual CBT and counselling for depression and anxiety, 12–16 sessions.",
        "Adults 18+ referred by their family doctor or a community agency.",
        arrivals=(0.55, 1.5),
        capacity=0.6,
        change_days_ago=PARTNERSHIP_DAYS_AGO,
    ),
    DemoService(
        "Eastside Community Mental Health",
        "Group therapy",
        "Eight-week skills groups: mood, anxiety, and living with psychosis.",
        "Adults 18+; a short intake call first.",
        arrivals=(0.45, 0.45),
        capacity=0.5,
    ),
    DemoService(
        "Harbour Supportive Housing",
        "Supportive housing",
        "Furnished units with on-site support workers.",
        "Adults with a serious mental illness who are homeless or at risk.",
        arrivals=(0.4, 0.0),
        capacity=0.3,
        change_days_ago=CLOSED_DAYS_AGO,
        accepting=False,
    ),
    DemoService(
        "WorkBridge Employment Services",
        "Supported employment",
        "Individual placement and support: job search with a coach, then on-the-job help.",
        "Adults in mental-health or addiction treatment who want to work.",
        arrivals=(0.5, 0.5),
        capacity=0.65,
    ),
    DemoService(
        "St. Mary's General Hospital",
        "Early psychosis intervention",
        "Assessment and two years of team-based care after a first episode of psychosis.",
        "Ages 14–35 with a first episode of psychosis.",
        arrivals=(0.3, 0.3),
        capacity=0.35,
    ),
    DemoService(
        "Clearwater Psychology",
        "Child and youth anxiety program",
        "CBT with exposure for children and teens, with a parent stream.",
        "Ages 8–17; a parent or guardian attends the first session.",
        arrivals=(0.35, 0.35),
        capacity=0.4,
    ),
]

GIVEN = ["Maya", "Omar", "Lena", "Tariq", "Nadia", "Ravi", "Chloe", "Dmitri", "Aisha", "Jonas"]
FAMILY = ["Nguyen", "Haddad", "Kowalski", "Mensah", "Alvarez", "Singh", "Tanaka", "Moreau"]


def _poisson(rng: random.Random, rate: float) -> int:
    """Knuth's method: how many arrive in a day at this mean rate."""
    limit, k, product = 2.718281828459045**-rate, 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _history(rng: random.Random, spec: DemoService, now: datetime) -> list[dict]:
    """Simulate the service day by day: arrivals join the queue; each day the
    service triages and books as many as its capacity allows, oldest first."""
    queue: list[dict] = []
    done: list[dict] = []
    for day in range(HISTORY_DAYS, -1, -1):
        morning = now - timedelta(days=day)
        before_change = day >= spec.change_days_ago
        rate = spec.arrivals[0] if before_change else spec.arrivals[1]
        # The first day opens the history: six months of it, whatever the dice say.
        arrivals = _poisson(rng, rate) if day < HISTORY_DAYS else max(1, _poisson(rng, rate))
        for _ in range(arrivals):
            sent = morning - timedelta(hours=rng.uniform(0, 10))
            if sent < now:
                queue.append(
                    {"created_at": sent, "urgency": rng.choice(["routine"] * 6 + ["urgent"])}
                )
        # Triage within a few days: a few are declined, the rest accepted.
        for referral in queue:
            if "accepted_at" not in referral and morning - referral["created_at"] > timedelta(
                days=2
            ):
                if rng.random() < 0.08:
                    referral["declined_at"] = morning + timedelta(hours=rng.uniform(1, 6))
                else:
                    referral["accepted_at"] = morning + timedelta(hours=rng.uniform(1, 6))
        for referral in [r for r in queue if "declined_at" in r]:
            queue.remove(referral)
            done.append(referral)
        booked = 0
        slots = _poisson(rng, spec.capacity)
        for referral in sorted(queue, key=lambda r: r["created_at"]):
            if booked >= slots:
                break
            if "accepted_at" not in referral:
                continue
            scheduled = max(referral["accepted_at"], morning) + timedelta(hours=rng.uniform(1, 7))
            if scheduled >= now:
                continue
            referral["scheduled_at"] = scheduled
            referral["appointment_at"] = scheduled + timedelta(days=rng.uniform(3, 14))
            queue.remove(referral)
            done.append(referral)
            booked += 1
    for referral in done:
        appointment = referral.get("appointment_at")
        if appointment is not None and appointment < now - timedelta(days=1):
            if rng.random() < 0.9:
                referral["completed_at"] = appointment + timedelta(hours=1)
            else:
                referral["cancelled_at"] = appointment - timedelta(hours=2)
    return done + queue


def _status(referral: dict) -> str:
    for status, stamp in (
        ("declined", "declined_at"),
        ("completed", "completed_at"),
        ("cancelled", "cancelled_at"),
        ("scheduled", "scheduled_at"),
        ("accepted", "accepted_at"),
    ):
        if stamp in referral:
            return status
    return "sent"


def _stopped(referral: dict) -> datetime | None:
    return referral.get("scheduled_at") or referral.get("declined_at")


def load_capacity_demo(command: Any, *, password: str) -> None:
    """Services, their history, and one live referral to the growing one.
    `command` is the `load_demo` command, with its organizations and people."""
    rng = random.Random(9)
    now = command.now
    orgs, people = command.orgs, command.people
    admin = record_services.create_provider(
        username="admin_eastside",
        password=password,
        full_name="Noor Haddad",
        organization=orgs["Eastside Community Mental Health"],
        role="org_admin",
        email="admin_eastside@demo.carelink.invalid",
    )
    referrer = people["dr_cho"]
    history_clients = [
        record_services.register_client(
            provider=referrer,
            given_name=GIVEN[n % len(GIVEN)],
            family_name=FAMILY[n % len(FAMILY)] + ("" if n < len(FAMILY) else f"-{n}"),
            birth_date=datetime(1960 + n % 40, 1 + n % 12, 1 + n % 27).date(),
            health_card_number=f"9{n:03d}-000-{n:03d}",
        ).client
        for n in range(48)
    ]
    services = {}
    for spec in SERVICES:
        organization = orgs[spec.organization]
        if organization == admin.organization:
            service = record_services.create_service(
                actor=admin,
                organization=organization,
                name=spec.name,
                description=spec.description,
                eligibility=spec.eligibility,
            )
        else:
            # These demo organizations have no admin to add their programs.
            service = Service.objects.create(
                organization=organization,
                name=spec.name,
                description=spec.description,
                eligibility=spec.eligibility,
                accepting_referrals=spec.accepting,
            )
        services[spec.name] = service
        accepting = _accepting_provider(organization)
        rows = _history(rng, spec, now)
        Referral.objects.bulk_create(
            Referral(
                client=rng.choice(history_clients),
                from_organization=referrer.organization,
                to_organization=organization,
                service=service,
                referred_by=referrer,
                reason="Referral from the clinic's waiting list.",
                urgency=row["urgency"],
                status=_status(row),
                created_at=row["created_at"],
                accepted_at=row.get("accepted_at"),
                accepted_by=accepting if "accepted_at" in row else None,
                appointment_at=row.get("appointment_at"),
                completed_at=row.get("completed_at"),
                declined_at=row.get("declined_at"),
                decline_reason="Outside our eligibility." if "declined_at" in row else "",
                cancelled_at=row.get("cancelled_at"),
                cancel_reason="The client moved away." if "cancelled_at" in row else "",
                stopped_waiting_at=_stopped(row),
            )
            for row in rows
        )
    # Ana's referral was for counselling.
    Referral.objects.filter(
        client__given_name="Ana", to_organization=orgs["Eastside Community Mental Health"]
    ).update(service=services["Adult counselling"])
    # A live referral: the routing queue sees the counselling queue growing.
    referral_services.refer_client(
        provider=referrer,
        client=history_clients[0],
        service=services["Adult counselling"],
        reason="Low mood since a job loss; would like counselling.",
        urgency="routine",
    )


def _accepting_provider(organization: Any) -> Provider | None:
    return (
        Provider.objects.filter(organization=organization, role="intake_worker").first()
        or Provider.objects.filter(organization=organization).first()
    )
