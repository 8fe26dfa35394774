"""The early warning `service_queue_growing`: raised by the routing queue when
a referral to a growing service is delivered, to the service organization's
admins and intake workers, at most once per service per 7 days — also when two
referrals are delivered at the same instant in two transactions (PostgreSQL)."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from capacity.events import SERVICE_QUEUE_GROWING
from core.events import deliver
from core.models import Notification, OutboxEvent
from records.models import Service
from referrals import services as referral_services
from referrals.models import Referral
from tests.capacity_data import Row, referral
from tests.celery_worker import routed, using_broker  # noqa: F401 - routed is a fixture
from tests.factories import ClientFactory, ProviderFactory

KIND = SERVICE_QUEUE_GROWING.name


def make_scene(mh_centre, dr_lee, client):
    """A counselling service with 5 referrals waiting (all arrived this month,
    none left): the next referral finds it growing."""
    service = Service.objects.create(organization=mh_centre, name="Adult counselling")
    now = timezone.now()
    Referral.objects.bulk_create(
        referral(
            Row(now - timedelta(days=i + 1), "sent"),
            client=client,
            referrer=dr_lee,
            to_organization=mh_centre,
            service=service,
        )
        for i in range(5)
    )
    people = {
        "admin": ProviderFactory(username="admin_e", organization=mh_centre, role="org_admin"),
        "clinician": ProviderFactory(username="dr_osei", organization=mh_centre),
    }
    return service, people


def refer(dr_lee, client, service):
    return referral_services.refer_client(
        provider=dr_lee, client=client, service=service, reason="CBT", urgency="routine"
    )


@pytest.mark.django_db
def test_warning_goes_to_admins_and_intake_once_in_seven_days(
    ana,
    dr_lee,
    intake_kim,
    mh_centre,
    routed,  # noqa: F811
    api_as,
    client,
):
    service, people = make_scene(mh_centre, dr_lee, ana)
    with routed():
        refer(dr_lee, ana, service)
    warnings = OutboxEvent.objects.filter(kind=KIND)
    assert warnings.count() == 1
    event = warnings.get()
    assert (event.client_id, event.subject_id) == (None, service.pk)
    recipients = set(
        Notification.objects.filter(kind=KIND).values_list("recipient__username", flat=True)
    )
    assert recipients == {"intake_kim", "admin_e"}  # not the clinician, not the referrer

    item = api_as(intake_kim).get("/api/v1/inbox/").json()["results"][0]
    assert item["kind"] == KIND
    assert (item["client"], item["service"], item["referral"]) == (None, str(service.pk), None)
    assert "Adult counselling" in item["preview"] and "6 waiting" in item["preview"]
    # Nobody else has it: the clinician's inbox holds no warning.
    assert not [
        n
        for n in api_as(people["clinician"]).get("/api/v1/inbox/").json()["results"]
        if n["kind"] == KIND
    ]
    # The dashboard and the inbox page list it beside clients' notifications.
    client.force_login(intake_kim)
    for page in ("/", "/inbox/"):
        response = client.get(page)
        assert response.status_code == 200
        assert "The queue of Adult counselling" in response.content.decode()

    # Still growing a day later: no second warning within 7 days.
    with routed():
        refer(dr_lee, ana, service)
    assert OutboxEvent.objects.filter(kind=KIND).count() == 1
    # Eight days after the last warning it may warn again.
    Service.objects.filter(pk=service.pk).update(queue_warned_at=timezone.now() - timedelta(days=8))
    with routed():
        refer(dr_lee, ana, service)
    assert OutboxEvent.objects.filter(kind=KIND).count() == 2


@pytest.mark.django_db
def test_no_warning_while_not_growing_or_without_a_service(ana, dr_lee, mh_centre, routed):  # noqa: F811
    service = Service.objects.create(organization=mh_centre, name="Adult counselling")
    with routed():
        for _ in range(4):
            refer(dr_lee, ana, service)  # 4 waiting: under the floor of 5
        referral_services.refer_client(
            provider=dr_lee, client=ana, to_organization=mh_centre, reason="R", urgency="routine"
        )
    assert not OutboxEvent.objects.filter(kind=KIND).exists()


@pytest.mark.django_db
def test_two_events_in_one_delivery_batch_warn_once(ana, dr_lee, intake_kim, mh_centre):
    service, _ = make_scene(mh_centre, dr_lee, ana)
    with using_broker("memory://localhost/", "capacity-batch"):
        first, second = refer(dr_lee, ana, service), refer(dr_lee, ana, service)
    assert OutboxEvent.objects.filter(delivered_at__isnull=True).count() == 2
    deliver(OutboxEvent.objects.get(subject_id=first.pk).pk)  # takes both events
    assert OutboxEvent.objects.filter(subject_id=second.pk, delivered_at__isnull=False).exists()
    assert OutboxEvent.objects.filter(kind=KIND).count() == 1


def _sessions() -> list[tuple]:
    """The other sessions on the test database, as they are now (inside a
    transaction PostgreSQL otherwise keeps its first snapshot of them)."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT state, wait_event_type, wait_event, left(query, 60) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_the_same_instant_warn_once(mh_centre, family_practice):
    """Two referrals to the same growing service, delivered by two transactions
    that both see the service growing before either claims the window: the
    test holds the service row locked until both are waiting on it, then lets
    them go together. Exactly one warning."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two real transactions racing for the service row")
    dr_lee = ProviderFactory(username="dr_lee_race", organization=family_practice)
    ProviderFactory(username="kim_race", organization=mh_centre, role="intake_worker")
    ana = ClientFactory(registered_by=dr_lee)
    service, _ = make_scene(mh_centre, dr_lee, ana)
    with using_broker("memory://localhost/", "capacity-race"):
        first, second = refer(dr_lee, ana, service), refer(dr_lee, ana, service)
    events = [OutboxEvent.objects.get(subject_id=r.pk).pk for r in (first, second)]

    results: list[object] = []

    def delivery(event_id) -> None:
        try:
            results.append(deliver(event_id, batch=1))
        except Exception as error:  # reported below, never swallowed
            results.append(error)
        finally:
            connections.close_all()

    with transaction.atomic():
        # Hold the row the claim updates; both deliveries compute `growing`
        # (plain reads) and then queue up behind this lock.
        list(Service.objects.select_for_update().filter(pk=service.pk))
        threads = [threading.Thread(target=delivery, args=(e,)) for e in events]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while sum(1 for session in _sessions() if session[1] == "Lock") < 2:
            assert not results, f"a delivery ended while the claim was held: {results}"
            assert time.monotonic() < deadline, f"the deliveries never met: {_sessions()}"
            time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=30)
    assert all(isinstance(r, int) for r in results), results
    assert (
        OutboxEvent.objects.filter(subject_id__in=[first.pk, second.pk])
        .exclude(delivered_at=None)
        .count()
        == 2
    )
    assert OutboxEvent.objects.filter(kind=KIND).count() == 1
