"""Services and their waits: the API, the figures against a hand count, the
query counts, and the moment a referral stops waiting."""

import datetime
import random
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from capacity import selectors
from consent.models import ConsentDirective
from core.models import OutboxEvent
from records import services as record_services
from records.models import Service
from referrals import services as referral_services
from referrals.models import Referral
from tests.capacity_data import Row, hand_history, hand_wait, random_rows, referral
from tests.factories import ClientFactory, OrganizationFactory, ProviderFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def counselling(mh_centre):
    return Service.objects.create(
        organization=mh_centre,
        name="Adult counselling",
        description="Short-term CBT for adults.",
        eligibility="Adults 18+ with a referral from their doctor.",
    )


@pytest.fixture
def mh_admin(mh_centre):
    return ProviderFactory(username="admin_eastside", organization=mh_centre, role="org_admin")


def history(rows, service, *, client, referrer):
    Referral.objects.bulk_create(
        referral(
            row,
            client=client,
            referrer=referrer,
            to_organization=service.organization,
            service=service,
        )
        for row in rows
    )


# --- the figures equal a hand count ------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_wait_and_history_equal_a_hand_count(seed, ana, dr_lee, mh_centre, counselling, api_as):
    rng = random.Random(seed)
    now = timezone.now()
    rows = random_rows(rng, rng.choice([3, 12, 60, 150]), now)
    history(rows, counselling, client=ana, referrer=dr_lee)
    # Referrals to the organization without a service count for the organization only.
    other = random_rows(rng, 20, now)
    Referral.objects.bulk_create(
        referral(row, client=ana, referrer=dr_lee, to_organization=mh_centre) for row in other
    )

    assert selectors.service_wait(counselling, now).as_dict() == hand_wait(rows, now)
    assert selectors.organization_waits([mh_centre], now)[mh_centre.pk].as_dict() == hand_wait(
        rows + other, now
    )
    for weeks in (1, 26, 60):
        got = [week.as_dict() for week in selectors.wait_history(counselling, weeks, now)]
        assert got == hand_history(rows, now, weeks)

    # The API says the same (computed a moment later: no row sits on a boundary).
    api = api_as(dr_lee)
    body = api.get(f"/api/v1/services/{counselling.pk}/").json()
    assert body["wait"] == hand_wait(rows, timezone.now())
    weeks = api.get(f"/api/v1/services/{counselling.pk}/wait-history/").json()
    assert weeks == hand_history(rows, timezone.now(), 26)
    organizations = api.get("/api/v1/organizations/").json()["results"]
    centre = next(o for o in organizations if o["id"] == mh_centre.pk)
    assert centre["wait"] == hand_wait(rows + other, timezone.now())


def test_percentiles_are_nearest_rank_and_unpublished_below_six(ana, dr_lee, counselling):
    now = timezone.now()
    waits = [9, 1, 30, 3, 4, 2]

    def scheduled(days_waited: int, sent_days_ago: int) -> Row:
        sent = now - sent_days_ago * DAY
        return Row(
            sent,
            "scheduled",
            appointment_at=sent + days_waited * DAY + datetime.timedelta(hours=5),
            stopped_waiting_at=sent + DAY,
        )

    history(
        [scheduled(w, 40 + i) for i, w in enumerate(waits[:5])],
        counselling,
        client=ana,
        referrer=dr_lee,
    )
    wait = selectors.service_wait(counselling, now)
    assert (wait.sample_size, wait.median_wait_days, wait.p90_wait_days) == (5, None, None)

    history([scheduled(waits[5], 50)], counselling, client=ana, referrer=dr_lee)
    wait = selectors.service_wait(counselling, now)
    # Sorted 1 2 3 4 9 30: the median is the 3rd (⌈0.5·6⌉), the 90th percentile the 6th.
    assert (wait.sample_size, wait.median_wait_days, wait.p90_wait_days) == (6, 3, 30)

    # Sent more than 180 days ago: out of the sample.
    history([scheduled(100, 200)], counselling, client=ana, referrer=dr_lee)
    assert selectors.service_wait(counselling, now).sample_size == 6


def test_growing_needs_five_waiting_and_more_arrivals_than_departures(ana, dr_lee, counselling):
    now = timezone.now()
    history(
        [Row(now - i * DAY, "sent") for i in range(4)], counselling, client=ana, referrer=dr_lee
    )
    assert not selectors.service_wait(counselling, now).growing  # 4 waiting
    history([Row(now - 5 * DAY, "accepted")], counselling, client=ana, referrer=dr_lee)
    wait = selectors.service_wait(counselling, now)
    assert (wait.waiting, wait.awaiting_triage, wait.oldest_waiting_days) == (5, 4, 5)
    assert wait.growing
    left = [
        Row(now - 60 * DAY, "declined", stopped_waiting_at=now - (i + 1) * DAY) for i in range(5)
    ]
    history(left, counselling, client=ana, referrer=dr_lee)
    wait = selectors.service_wait(counselling, now)
    assert (wait.arrivals_4w, wait.left_4w, wait.growing) == (5, 5, False)


# --- query counts --------------------------------------------------------------------------


def many_services(n: int, referrals_each: int, client, referrer) -> None:
    rng = random.Random(n)
    now = timezone.now()
    for i in range(n):
        organization = OrganizationFactory(name=f"Centre {n}-{i}", sector="mental_health")
        service = Service.objects.create(organization=organization, name=f"Program {i}")
        history(random_rows(rng, referrals_each, now), service, client=client, referrer=referrer)


# The page count, the page (services with their organizations), the queue,
# the last 28 days' arrivals and departures, the sample's histogram, the
# survey's figures (one grouped query). Nothing per service or per referral.
SERVICE_LIST_QUERIES = 7
# The page count, the page, the queue, arrivals, departures, the histogram.
ORGANIZATION_LIST_QUERIES = 6


def test_service_list_queries_do_not_grow(ana, dr_lee, api_as, django_assert_num_queries):
    api = api_as(dr_lee)
    many_services(2, 5, ana, dr_lee)
    with django_assert_num_queries(SERVICE_LIST_QUERIES):
        small = api.get("/api/v1/services/")
    many_services(40, 40, ana, dr_lee)
    with django_assert_num_queries(SERVICE_LIST_QUERIES):
        large = api.get("/api/v1/services/")
    assert (small.json()["count"], large.json()["count"]) == (2, 42)
    assert len(large.json()["results"]) == 42
    assert all(
        row["wait"]["sample_size"] + row["wait"]["waiting"] > 0 for row in large.json()["results"]
    )
    with django_assert_num_queries(ORGANIZATION_LIST_QUERIES):
        organizations = api.get("/api/v1/organizations/")
    assert all("wait" in row for row in organizations.json()["results"])


def test_the_wait_figures_count_rows_their_indexes_hold(ana, dr_lee, counselling):
    """The waits' statements read no referral's id: the queue, the arrivals, the
    departures and the histogram each come from an index that holds every column they read, and
    an id in a COUNT would make PostgreSQL visit every referral counted
    (docs/performance.md, change 36)."""
    history(
        random_rows(random.Random(3), 40, timezone.now()), counselling, client=ana, referrer=dr_lee
    )
    with CaptureQueriesContext(connection) as captured:
        service_wait = selectors.service_waits([counselling])[counselling.pk]
        selectors.organization_waits([counselling.organization_id])
    statements = [q["sql"] for q in captured.captured_queries]
    assert len(statements) == 8 and all("referrals_referral" in sql for sql in statements)
    for sql in statements:
        assert '"referrals_referral"."id"' not in sql, sql
    assert service_wait.sample_size + service_wait.waiting > 0


def test_the_wait_figures_can_be_read_from_their_indexes_alone(
    postgresql, ana, dr_lee, counselling
):
    """With no other way open, PostgreSQL reads each of the service's wait
    statements by an index-only scan: had a statement read a column the
    index lacks, it would need a plain index scan."""
    history(
        random_rows(random.Random(4), 40, timezone.now()), counselling, client=ana, referrer=dr_lee
    )
    with CaptureQueriesContext(connection) as captured:
        selectors.service_waits([counselling])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        for query in captured.captured_queries:
            cursor.execute("EXPLAIN " + query["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            scans = [line for line in plan.splitlines() if "Scan" in line]
            assert scans and all("Index Only Scan" in line for line in scans), plan


def test_growing_services_are_the_services_whose_whole_wait_is_growing(ana, dr_lee):
    """The directory's cheap flag agrees with the full figures, service by
    service, over random histories short enough that some grow and some do not."""
    rng, now = random.Random(5), timezone.now()
    for i in range(30):
        organization = OrganizationFactory(name=f"Centre {i}", sector="mental_health")
        service = Service.objects.create(organization=organization, name=f"Program {i}")
        rows = random_rows(rng, rng.randint(4, 30), now, days=rng.choice([35, 60, 400]))
        history(rows, service, client=ana, referrer=dr_lee)
    services = list(Service.objects.all())
    waits = selectors.service_waits(services, now)
    expected = {pk for pk, wait in waits.items() if wait.growing}
    assert 0 < len(expected) < len(services)
    assert selectors.growing_services(services, now) == expected


def test_the_directory_pages_every_service_growing_first(ana, dr_lee, client):
    many_services(60, 12, ana, dr_lee)
    services = list(Service.objects.all())  # the directory's own order
    waits = selectors.service_waits(services)
    growing = [s for s in services if waits[s.pk].growing]
    assert growing and len(growing) < 50  # the second page starts with steady ones
    expected = growing + [s for s in services if not waits[s.pk].growing]
    client.force_login(dr_lee)
    shown = []
    for number in (1, 2):
        html = client.get("/services/", {"page": number}).content.decode()
        assert f"60 services; <strong>{len(growing)} growing</strong>" in html
        assert "Page " + str(number) + " of 2" in html
        shown += re.findall(r'<th scope="row"><a href="/services/([0-9a-f-]+)/"', html)
    assert shown == [str(s.pk) for s in expected]


# --- the services API ----------------------------------------------------------------------


def test_service_shape_and_filters(counselling, dr_lee, housing, api_as):
    Service.objects.create(
        organization=housing, name="Supportive housing", accepting_referrals=False
    )
    api = api_as(dr_lee)
    body = api.get("/api/v1/services/").json()
    assert body["count"] == 2
    first = body["results"][0]
    assert set(first) == {
        "id",
        "organization",
        "name",
        "description",
        "eligibility",
        "accepting_referrals",
        "wait",
        "experience",
    }
    assert first["organization"] == {
        "id": counselling.organization_id,
        "name": "Eastside Community Mental Health",
        "sector": "mental_health",
    }
    assert set(first["wait"]) == {
        "waiting",
        "awaiting_triage",
        "oldest_waiting_days",
        "median_wait_days",
        "p90_wait_days",
        "sample_size",
        "arrivals_4w",
        "left_4w",
        "growing",
    }
    assert first["experience"] == {
        "responses": 0,
        "repeated_story_percent": None,
        "kept_informed_mean": None,
        "overall_mean": None,
    }

    def names(query: str) -> list[str]:
        response = api.get(f"/api/v1/services/?{query}")
        assert response.status_code == 200, response.content
        return [row["name"] for row in response.json()["results"]]

    assert names("accepting=false") == ["Supportive housing"]
    assert names("accepting=true") == ["Adult counselling"]
    assert names("sector=housing") == ["Supportive housing"]
    assert names(f"organization={counselling.organization_id}") == ["Adult counselling"]
    for bad, field in [
        ("accepting=maybe", "accepting"),
        ("sector=astrology", "sector"),
        ("organization=abc", "organization"),
        ("organization=999999", "organization"),
    ]:
        response = api.get(f"/api/v1/services/?{bad}")
        assert response.status_code == 400 and field in response.json(), bad


def test_unknown_or_malformed_service_is_404(api_as, dr_lee):
    api = api_as(dr_lee)
    for service_id in (uuid.uuid4(), "not-a-uuid"):
        assert api.get(f"/api/v1/services/{service_id}/").status_code == 404
        assert api.get(f"/api/v1/services/{service_id}/wait-history/").status_code == 404


def test_create_service_by_role(mh_centre, mh_admin, intake_kim, dr_lee, sysadmin, api_as):
    body = {"name": "Group therapy", "eligibility": "Adults"}
    assert api_as(intake_kim).post("/api/v1/services/", body, format="json").status_code == 403
    # Another organization's admin: 403 whether or not the body is valid.
    practice_admin = ProviderFactory(organization=dr_lee.organization, role="org_admin")
    for other in ({**body, "organization": mh_centre.pk}, {"organization": mh_centre.pk}):
        response = api_as(practice_admin).post("/api/v1/services/", other, format="json")
        assert response.status_code == 403
    assert not Service.objects.exists()

    response = api_as(mh_admin).post("/api/v1/services/", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["organization"]["id"] == mh_centre.pk
    assert created["accepting_referrals"] is True
    assert created["wait"]["waiting"] == 0 and created["wait"]["median_wait_days"] is None

    again = api_as(mh_admin).post("/api/v1/services/", {"name": "GROUP THERAPY"}, format="json")
    assert again.status_code == 400 and "name" in again.json()
    long_name = {"name": "x" * 101}
    assert "name" in api_as(mh_admin).post("/api/v1/services/", long_name, format="json").json()

    # A system admin names the organization.
    response = api_as(sysadmin).post("/api/v1/services/", {"name": "Crisis line"}, format="json")
    assert response.status_code == 400 and "organization" in response.json()
    response = api_as(sysadmin).post(
        "/api/v1/services/",
        {"name": "Crisis line", "organization": mh_centre.pk, "accepting_referrals": False},
        format="json",
    )
    assert response.status_code == 201 and response.json()["accepting_referrals"] is False
    assert Service.objects.filter(organization=mh_centre).count() == 2


def test_patch_service_by_role(counselling, mh_admin, intake_kim, dr_lee, housing, api_as):
    path = f"/api/v1/services/{counselling.pk}/"
    # Intake workers open and close intake, nothing else.
    response = api_as(intake_kim).patch(path, {"accepting_referrals": False}, format="json")
    assert response.status_code == 200 and response.json()["accepting_referrals"] is False
    assert api_as(intake_kim).patch(path, {"name": "X"}, format="json").status_code == 403
    bad = api_as(intake_kim).patch(path, {"accepting_referrals": "maybe"}, format="json")
    assert bad.status_code == 400 and "accepting_referrals" in bad.json()
    # Anyone else: 403, even the other organization's admin.
    other_admin = ProviderFactory(organization=housing, role="org_admin")
    for who in (dr_lee, other_admin):
        response = api_as(who).patch(path, {"accepting_referrals": True}, format="json")
        assert response.status_code == 403
    # The admin changes any field but the organization.
    response = api_as(mh_admin).patch(
        path, {"name": "Adult counselling (CBT)", "accepting_referrals": True}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Adult counselling (CBT)"
    moved = api_as(mh_admin).patch(path, {"organization": housing.pk}, format="json")
    assert moved.status_code == 400 and "organization" in moved.json()
    counselling.refresh_from_db()
    assert (counselling.organization_id, counselling.accepting_referrals) == (
        intake_kim.organization_id,
        True,
    )


def test_wait_history_weeks(counselling, dr_lee, api_as):
    api = api_as(dr_lee)
    path = f"/api/v1/services/{counselling.pk}/wait-history/"
    weeks = api.get(path).json()
    assert len(weeks) == 26
    starts = [datetime.date.fromisoformat(week["week_start"]) for week in weeks]
    assert all(day.weekday() == 0 for day in starts)
    assert starts == sorted(starts)
    today = timezone.now().astimezone(datetime.UTC).date()
    assert starts[-1] <= today < starts[-1] + datetime.timedelta(days=7)
    assert len(api.get(f"{path}?weeks=104").json()) == 104
    assert len(api.get(f"{path}?weeks=1").json()) == 1
    for bad in ("0", "105", "abc", "", "-1", "2.5"):
        response = api.get(f"{path}?weeks={bad}")
        assert response.status_code == 400 and "weeks" in response.json(), bad


# --- referrals to a service ----------------------------------------------------------------


def test_refer_to_a_service(ana, dr_lee, counselling, api_as):
    api = api_as(dr_lee)
    response = api.post(
        "/api/v1/referrals/",
        {
            "client": str(ana.pk),
            "service": str(counselling.pk),
            "reason": "CBT",
            "urgency": "urgent",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["service"] == {"id": str(counselling.pk), "name": "Adult counselling"}
    assert body["to_organization"] == counselling.organization_id
    # Without a service, service is null; ?service= filters.
    plain = api.post(
        "/api/v1/referrals/",
        {
            "client": str(ana.pk),
            "to_organization": counselling.organization_id,
            "reason": "Anything",
            "urgency": "routine",
        },
        format="json",
    ).json()
    assert plain["service"] is None
    listed = api.get(f"/api/v1/referrals/?service={counselling.pk}").json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    assert listed["count"] == 1
    for bad in (uuid.uuid4(), "nope"):
        response = api.get(f"/api/v1/referrals/?service={bad}")
        assert response.status_code == 400 and "service" in response.json()


def test_a_services_referral_list_counts_both_sides_with_the_filters(
    ana, dr_lee, intake_kim, counselling, api_as
):
    """`?service=` with a count added up side by side: the receiving
    organization counts every referral to its service, a referring one its own,
    with the status filter too; every count equals the rows listed."""
    other = Service.objects.create(organization=counselling.organization, name="Group therapy")
    for n in range(3):
        referral_services.refer_client(
            provider=dr_lee, client=ana, service=counselling, reason=f"CBT {n}", urgency="routine"
        )
    referral_services.refer_client(
        provider=dr_lee, client=ana, service=other, reason="Group", urgency="routine"
    )
    first = Referral.objects.filter(service=counselling).order_by("created_at").first()
    referral_services.accept_referral(provider=intake_kim, referral=first)
    for who, query, expected in [
        (intake_kim, "", 3),
        (intake_kim, "&status=accepted", 1),
        (intake_kim, "&direction=incoming", 3),
        (intake_kim, "&direction=outgoing", 0),
        (dr_lee, "", 3),
        (dr_lee, "&status=sent", 2),
        (dr_lee, "&direction=outgoing", 3),
        (dr_lee, "&direction=incoming", 0),
    ]:
        body = api_as(who).get(f"/api/v1/referrals/?service={counselling.pk}{query}").json()
        assert body["count"] == len(body["results"]) == expected, (who, query)


def test_referral_to_a_service_errors_in_order(ana, dr_lee, counselling, housing, outsider, api_as):
    api = api_as(dr_lee)
    before = (
        Referral.objects.count(),
        OutboxEvent.objects.count(),
        ConsentDirective.objects.count(),
    )
    base = {"client": str(ana.pk), "reason": "CBT", "urgency": "routine"}

    def post(body, who=api):
        return who.post("/api/v1/referrals/", body, format="json")

    mismatch = post({**base, "service": str(counselling.pk), "to_organization": housing.pk})
    assert mismatch.status_code == 400 and "service" in mismatch.json()
    neither = post(base)
    assert neither.status_code == 400 and "to_organization" in neither.json()
    own = Service.objects.create(organization=dr_lee.organization, name="Our own clinic")
    assert "service" in post({**base, "service": str(own.pk)}).json()
    assert "service" in post({**base, "service": "not-a-uuid"}).json()

    counselling.accepting_referrals = False
    counselling.save()
    closed = {**base, "service": str(counselling.pk), "share_categories": ["mental_health"]}
    response = post(closed)
    assert response.status_code == 409 and "not accepting" in response.json()["detail"]
    # 400 before 409, and 404 (client off the caller's care teams) before both.
    assert post({**closed, "reason": ""}).status_code == 400
    assert post({**closed, "urgency": "whenever"}).status_code == 400
    assert post(closed, who=api_as(outsider)).status_code == 404
    after = (
        Referral.objects.count(),
        OutboxEvent.objects.count(),
        ConsentDirective.objects.count(),
    )
    assert after == before


def test_closing_a_service_touches_no_referral_already_sent(ana, dr_lee, counselling, mh_admin):
    sent = referral_services.refer_client(
        provider=dr_lee, client=ana, service=counselling, reason="CBT", urgency="routine"
    )
    record_services.update_service(actor=mh_admin, service=counselling, accepting_referrals=False)
    sent.refresh_from_db()
    assert (sent.status, sent.service_id, sent.stopped_waiting_at) == ("sent", counselling.pk, None)
    assert selectors.service_wait(counselling).waiting == 1


# --- the moment a referral stops waiting ---------------------------------------------------


def test_first_schedule_marks_the_stop_and_rescheduling_does_not_move_it(
    ana, dr_lee, intake_kim, counselling
):
    referral_ = referral_services.refer_client(
        provider=dr_lee, client=ana, service=counselling, reason="CBT", urgency="routine"
    )
    referral_services.accept_referral(provider=intake_kim, referral=referral_)
    referral_.refresh_from_db()
    assert referral_.stopped_waiting_at is None  # accepted is still waiting
    before = timezone.now()
    referral_services.schedule_referral(
        provider=intake_kim, referral=referral_, appointment_at=timezone.now() + 20 * DAY
    )
    referral_.refresh_from_db()
    first = referral_.stopped_waiting_at
    assert before <= first <= timezone.now()
    referral_services.schedule_referral(
        provider=intake_kim, referral=referral_, appointment_at=timezone.now() + 30 * DAY
    )
    referral_services.complete_referral(
        provider=intake_kim,
        referral=referral_,
        report={"title": "Intake", "body": "", "category": "mental_health"},
    )
    referral_.refresh_from_db()
    assert referral_.stopped_waiting_at == first
    wait = selectors.service_wait(counselling)
    assert (wait.left_4w, wait.waiting) == (1, 0)  # left once, not twice


@pytest.mark.parametrize("ending", ["decline", "cancel", "complete"])
def test_decline_cancel_and_complete_mark_the_stop(ending, ana, dr_lee, intake_kim, counselling):
    referral_ = referral_services.refer_client(
        provider=dr_lee, client=ana, service=counselling, reason="CBT", urgency="routine"
    )
    if ending == "decline":
        referral_services.decline_referral(provider=intake_kim, referral=referral_, reason="Full")
        stamp = "declined_at"
    elif ending == "cancel":
        referral_services.cancel_referral(provider=dr_lee, referral=referral_, reason="Moved")
        stamp = "cancelled_at"
    else:
        referral_services.accept_referral(provider=intake_kim, referral=referral_)
        referral_services.complete_referral(
            provider=intake_kim,
            referral=referral_,
            report={"title": "Intake", "body": "", "category": "mental_health"},
        )
        stamp = "completed_at"
    referral_.refresh_from_db()
    assert referral_.stopped_waiting_at == getattr(referral_, stamp)


def test_the_database_refuses_a_waiting_referral_marked_stopped(ana, dr_lee, counselling):
    from django.db import IntegrityError, transaction

    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        history(
            [Row(now, "sent", stopped_waiting_at=now)], counselling, client=ana, referrer=dr_lee
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        history([Row(now, "declined")], counselling, client=ana, referrer=dr_lee)
    with pytest.raises(IntegrityError), transaction.atomic():
        history(
            [Row(now, "declined", stopped_waiting_at=now - DAY)],
            counselling,
            client=ana,
            referrer=dr_lee,
        )


def test_service_names_are_unique_per_organization_in_the_database(counselling, housing):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Service.objects.create(organization=counselling.organization, name="ADULT COUNSELLING")
    assert Service.objects.create(organization=housing, name="Adult counselling")


def test_client_list_is_unaffected(dr_lee, api_as):
    # A service is no client: the service list writes no access event.
    from core.models import AccessEvent

    ClientFactory(registered_by=dr_lee)
    before = AccessEvent.objects.count()
    api_as(dr_lee).get("/api/v1/services/")
    assert AccessEvent.objects.count() == before


def test_windows_include_their_start_and_nothing_before(ana, dr_lee, counselling):
    """28 and 180 days back, to the minute: just inside counts, just outside does not."""
    now = timezone.now()
    inside, outside = datetime.timedelta(minutes=-1), datetime.timedelta(minutes=1)

    def ago(days: int, nudge: datetime.timedelta) -> datetime.datetime:
        return now - days * DAY + nudge

    rows = [
        Row(ago(28, inside), "sent"),
        Row(ago(28, outside), "sent"),
    ]
    # Departures of referrals sent long ago, and within the sample's window.
    for sent in (now - 400 * DAY, now - 100 * DAY):
        rows += [
            Row(sent, "declined", stopped_waiting_at=ago(28, inside)),
            Row(sent, "declined", stopped_waiting_at=ago(28, outside)),
        ]
    for nudge in (inside, outside):
        sent = ago(180, nudge)
        rows += [
            Row(sent, "completed", completed_at=sent + 10 * DAY, stopped_waiting_at=sent + DAY)
            for _ in range(6)
        ]
    history(rows, counselling, client=ana, referrer=dr_lee)
    wait = selectors.service_wait(counselling, now)
    assert (wait.arrivals_4w, wait.left_4w, wait.sample_size) == (1, 2, 6)
    assert wait.as_dict() == hand_wait(rows, now)
