"""The routing queue against a real Celery worker on Redis.

Each test spawns `celery -A carelink worker --pool=solo --beat` on a queue of
its own (the sweep runs every second there), against the same committed test
database. Skipped without REDIS_URL; with REDIS_URL set, a Redis that does not
answer fails them.
"""

# ruff: noqa: F811 - the worker fixtures are imported from tests.celery_worker

import datetime
import os
import time
from collections import Counter

import pytest
from django.db import close_old_connections
from django.utils import timezone

from consent import services as consent_services
from core.models import Notification, OutboxEvent
from records import services as record_services
from referrals import services
from referrals.models import Referral
from tests.celery_worker import (  # noqa: F401 - fixtures
    ThrowawayRedis,
    routing_worker,
    spawn_worker,
    using_broker,
    wait_for,
    worker_queue,
)
from tests.factories import ClientFactory, OrganizationFactory, ProviderFactory

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

DELIVERY_TIMEOUT = 30


def all_delivered(expected_events: int) -> bool:
    close_old_connections()
    events = OutboxEvent.objects.count()
    return events >= expected_events and not OutboxEvent.objects.filter(delivered_at=None).exists()


def wait_delivered(expected_events: int, what: str) -> None:
    wait_for(lambda: all_delivered(expected_events), DELIVERY_TIMEOUT, what, step=0.2)


def recipients_by_kind() -> dict[str, Counter]:
    by_kind: dict[str, Counter] = {}
    for kind, username in Notification.objects.values_list("kind", "recipient__username"):
        by_kind.setdefault(kind, Counter())[username] += 1
    return by_kind


@pytest.fixture
def case(db):
    """A family doctor's client with a mental-health intake worker and an
    employment counsellor on the team, privacy officers at two of the care-team
    organizations, and a housing program to refer to."""
    practice = OrganizationFactory(name="Practice", sector="primary_care")
    centre = OrganizationFactory(name="Centre", sector="mental_health")
    work = OrganizationFactory(name="Work", sector="employment")
    housing = OrganizationFactory(name="Housing", sector="housing")
    people = {
        "lee": ProviderFactory(username="lee", organization=practice),
        "kim": ProviderFactory(username="kim", organization=centre, role="intake_worker"),
        "jo": ProviderFactory(username="jo", organization=work),
        "po_practice": ProviderFactory(
            username="po_practice", organization=practice, role="privacy_officer"
        ),
        "po_centre": ProviderFactory(
            username="po_centre", organization=centre, role="privacy_officer"
        ),
        "hal": ProviderFactory(username="hal", organization=housing, role="intake_worker"),
        "cy": ProviderFactory(username="cy", organization=housing, role="care_coordinator"),
        "hana": ProviderFactory(username="hana", organization=housing),
        "po_housing": ProviderFactory(
            username="po_housing", organization=housing, role="privacy_officer"
        ),
    }
    client = ClientFactory(registered_by=people["lee"])
    record_services.add_to_care_team(client, people["kim"])
    record_services.add_to_care_team(client, people["jo"])
    return {"client": client, "housing": housing, **people}


def refer(case, actor="lee", **extra):
    return services.refer_client(
        provider=case[actor],
        client=case["client"],
        to_organization=case["housing"],
        reason="Needs supportive housing; eviction pending.",
        urgency=extra.pop("urgency", "urgent"),
        **extra,
    )


def test_worker_fans_out_every_kind_to_the_table_recipients_once(case, routing_worker):
    c = case
    client = c["client"]
    record_services.add_entry(
        provider=c["lee"], client=client, category="general_health", kind="note", title="BP"
    )
    consent_services.grant_emergency_access(
        provider=c["kim"], client=client, reason="Crisis at the clinic; needs history now."
    )
    looped = refer(c)
    services.accept_referral(provider=c["hal"], referral=looped)
    services.schedule_referral(
        provider=c["hal"],
        referral=looped,
        appointment_at=timezone.now() + datetime.timedelta(days=3),
    )
    services.complete_referral(
        provider=c["hal"],
        referral=looped,
        report={"title": "Intake", "body": "", "category": "housing"},
    )
    declined = refer(c)
    services.decline_referral(provider=c["hal"], referral=declined, reason="Full")
    cancelled = refer(c, actor="jo")
    services.cancel_referral(provider=c["jo"], referral=cancelled, reason="Moved")
    overdue = refer(c, urgency="emergent")
    Referral.objects.filter(pk=overdue.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=2)
    )
    assert services.notice_overdue_referral(overdue.pk)

    wait_delivered(OutboxEvent.objects.count(), "every event to be delivered by the worker")
    team_after_accept = {"lee": 1, "kim": 1, "jo": 1}  # hal joined the team but acted
    assert recipients_by_kind() == {
        "entry_added": Counter({"kim": 1, "jo": 1}),
        "emergency_access": Counter({"po_practice": 1, "po_centre": 1}),
        # Four referrals sent: hal and cy (triage) hear of each, hana (clinician) of none.
        "referral_received": Counter({"hal": 4, "cy": 4}),
        "referral_accepted": Counter(team_after_accept),
        "referral_scheduled": Counter(team_after_accept),
        "intake_report": Counter(team_after_accept),
        # hal is on the care team since the first referral was accepted.
        "referral_declined": Counter({"lee": 1, "kim": 1, "jo": 1}),
        # jo referred and cancelled: the referrer acted, so the rest of the team hears.
        "referral_cancelled": Counter({"lee": 1, "kim": 1, "hal": 1}),
        # The receiving intake workers and the referrer (lee, who is not the actor here).
        "referral_overdue": Counter({"hal": 1, "lee": 1}),
    }
    # Exactly once: the sweep (every second) keeps running and changes nothing.
    before = Notification.objects.count()
    time.sleep(2.5)
    assert Notification.objects.count() == before


def test_referral_filed_while_the_worker_is_down_arrives_once_it_is_back(
    case, spawn_worker, worker_queue, api_as
):
    url = os.environ["REDIS_URL"]
    with using_broker(url, worker_queue):
        # No worker yet: the API still answers 201 and the message waits in Redis.
        response = api_as(case["lee"]).post(
            "/api/v1/referrals/",
            {
                "client": str(case["client"].pk),
                "to_organization": case["housing"].pk,
                "reason": "Needs housing",
                "urgency": "routine",
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        assert not Notification.objects.exists()
        spawn_worker(url)
        wait_delivered(1, "the referral filed while no worker ran")
        time.sleep(2.5)  # several sweeps later, still once
    assert recipients_by_kind() == {"referral_received": Counter({"hal": 1, "cy": 1})}


def test_referral_filed_while_redis_is_down_arrives_once_it_is_back(
    case, spawn_worker, worker_queue, api_as, tmp_path
):
    """A private redis-server, stopped and restarted on the same port: the shared
    one is never touched."""
    redis = ThrowawayRedis(tmp_path)
    redis.start()
    try:
        with using_broker(redis.url, worker_queue):
            spawn_worker(redis.url)
            redis.stop()
            lee = api_as(case["lee"])
            payload = {
                "client": str(case["client"].pk),
                "to_organization": case["housing"].pk,
                "reason": "Needs housing",
                "urgency": "routine",
            }
            started = time.monotonic()
            response = lee.post("/api/v1/referrals/", payload, format="json")
            elapsed = time.monotonic() - started
            assert response.status_code == 201, response.content
            assert elapsed < 10, "publishing must give up on a dead broker, not hang"
            event = OutboxEvent.objects.get()
            assert event.delivered_at is None

            redis.start()
            # The worker reconnects; its beat sweeps the outbox and re-dispatches.
            wait_delivered(1, "the referral filed while Redis was down")
            time.sleep(2.5)
    finally:
        redis.stop()
    assert recipients_by_kind() == {"referral_received": Counter({"hal": 1, "cy": 1})}


def test_worker_killed_mid_burst_loses_and_repeats_nothing(case, spawn_worker, worker_queue):
    """SIGKILL while a burst of events is being delivered: a new worker and the
    sweep deliver every event, each notification exactly once."""
    c = case
    team = [ProviderFactory(organization=c["hal"].organization) for _ in range(8)]
    for provider in team:
        record_services.add_to_care_team(c["client"], provider)
    url = os.environ["REDIS_URL"]
    burst = 150

    def add_entries(numbers: range) -> None:
        for n in numbers:
            record_services.add_entry(
                provider=c["lee"],
                client=c["client"],
                category="general_health",
                kind="note",
                title=f"Vitals {n}",
            )

    def some_delivered() -> bool:
        close_old_connections()
        return OutboxEvent.objects.filter(delivered_at__isnull=False).exists()

    with using_broker(url, worker_queue):
        first = spawn_worker(url, beat=False)
        add_entries(range(burst // 2))
        wait_for(some_delivered, DELIVERY_TIMEOUT, "the first worker to start delivering", 0.01)
        first.kill()  # mid-burst: whatever it held unacknowledged stays with the broker
        add_entries(range(burst // 2, burst))  # and the rest of the burst finds no worker
        delivered_before_restart = OutboxEvent.objects.filter(delivered_at__isnull=False).count()
        spawn_worker(url, beat=True)
        wait_delivered(burst, "the burst after the worker was killed")
        time.sleep(2.5)
    recipients_per_event = 2 + len(team)  # kim, jo and the housing providers; not lee
    counts = Counter(Notification.objects.values_list("event_id", flat=True))
    assert len(counts) == burst
    assert set(counts.values()) == {recipients_per_event}
    pairs = Notification.objects.values_list("event_id", "recipient_id")
    assert len(set(pairs)) == pairs.count() == burst * recipients_per_event
    assert 0 < delivered_before_restart < burst
