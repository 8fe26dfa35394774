"""The measurement-based-care registry exactly as the contract defines it:
baseline and latest over the caller's visible assessments, weeks in care,
change percent (halves away from zero), the status and its precedence, the
order, the filter, the summary, the audit — and a query count that does not
grow with the number of clients (docs/measures.md)."""

import datetime
import uuid

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from consent.services import grant_emergency_access, record_consent
from core.models import AccessEvent
from measures import services
from measures.instruments import GAD7, PHQ9
from measures.models import Assessment
from measures.selectors import change_percent, registry, weeks_between
from records.models import CareTeamMembership, Client, ClientGroupObjectPermission, Entry
from records.services import add_to_care_team, create_entry
from tests.factories import ClientFactory, OrganizationFactory, ProviderFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
TICK = datetime.timedelta(microseconds=1)
REGISTRY = "/api/v1/registry/"


def answers_for(score: int, items: int = 9) -> list[int]:
    answers = []
    for _ in range(items):
        answers.append(min(3, score))
        score -= answers[-1]
    return answers


def measure(provider, client, *series, instrument=PHQ9):
    """Record (when, score) pairs through the service."""
    for when, score in series:
        services.record_assessment(
            provider=provider,
            client=client,
            instrument=instrument.code,
            answers=answers_for(score, len(instrument.items)),
            administered_at=when,
        )


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def clinic(db):
    centre = OrganizationFactory(name="Centre", sector="mental_health")
    return {
        "centre": centre,
        "osei": ProviderFactory(username="osei", organization=centre),
        "rivera": ProviderFactory(username="rivera", organization=centre, role="care_coordinator"),
    }


def client_of(clinic, name: str) -> Client:
    return ClientFactory(given_name=name, family_name="Test", registered_by=clinic["osei"])


def status_of(clinic, client, now, instrument=PHQ9) -> str:
    page = registry(clinic["osei"], instrument, now=now)
    return next(row.status for row in page.rows if row.client_id == client.pk)


# --- figures ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "latest", "expected"),
    [
        (8, 3, -63),  # -62.5: halves away from zero
        (8, 13, 63),  # +62.5
        (8, 5, -38),  # -37.5
        (3, 2, -33),
        (3, 1, -67),
        (20, 20, 0),
        (16, 12, -25),
        (7, 0, -100),
        (0, 5, None),
        (0, 0, None),
    ],
)
def test_change_percent_rounds_halves_away_from_zero(baseline, latest, expected):
    assert change_percent(baseline, latest) == expected


def test_weeks_in_care_are_whole_weeks_of_7_x_24_hours(now):
    assert weeks_between(now - 14 * DAY, now) == 2
    assert weeks_between(now - 14 * DAY + TICK, now) == 1
    assert weeks_between(now - 6 * DAY, now) == 0


def test_baseline_latest_count_weeks_and_change(clinic, now):
    ana = client_of(clinic, "Ana")
    measure(clinic["osei"], ana, (now - 50 * DAY, 16), (now - 30 * DAY, 13), (now - 9 * DAY, 10))
    [row] = registry(clinic["osei"], PHQ9, now=now).rows
    assert (row.baseline_score, row.latest_score, row.count) == (16, 10, 3)
    assert row.baseline_at == now - 50 * DAY and row.latest_at == now - 9 * DAY
    assert row.weeks_in_care == 7
    assert row.change_percent == -38  # -37.5
    assert row.status == "in_treatment"


# --- status and its precedence ------------------------------------------------------------


def test_remission_needs_two_assessments_and_a_latest_below_5(clinic, now):
    two = client_of(clinic, "Two")
    measure(clinic["osei"], two, (now - 20 * DAY, 12), (now - 2 * DAY, 4))
    one = client_of(clinic, "One")
    measure(clinic["osei"], one, (now - 2 * DAY, 4))
    five = client_of(clinic, "Five")
    measure(clinic["osei"], five, (now - 20 * DAY, 9), (now - 2 * DAY, 5))
    assert status_of(clinic, two, now) == "remission"
    assert status_of(clinic, one, now) == "in_treatment"
    assert status_of(clinic, five, now) == "in_treatment"  # 5 is not below 5, nor ≤ 9 / 2


def test_response_is_latest_at_most_half_the_baseline(clinic, now):
    half = client_of(clinic, "Half")
    measure(clinic["osei"], half, (now - 20 * DAY, 11), (now - 2 * DAY, 5))
    above = client_of(clinic, "Above")
    measure(clinic["osei"], above, (now - 20 * DAY, 11), (now - 2 * DAY, 6))
    exact = client_of(clinic, "Exact")
    measure(clinic["osei"], exact, (now - 20 * DAY, 12), (now - 2 * DAY, 6))
    assert status_of(clinic, half, now) == "response"
    assert status_of(clinic, above, now) == "in_treatment"
    assert status_of(clinic, exact, now) == "response"


def test_no_follow_up_is_more_than_28_days_since_the_latest(clinic, now):
    on_the_day = client_of(clinic, "OnTheDay")
    measure(clinic["osei"], on_the_day, (now - 28 * DAY, 12))
    past = client_of(clinic, "Past")
    measure(clinic["osei"], past, (now - 28 * DAY - TICK, 12))
    assert status_of(clinic, on_the_day, now) == "in_treatment"
    assert status_of(clinic, past, now) == "no_follow_up"


def test_not_improving_is_a_latest_at_least_56_days_after_baseline(clinic, now):
    exactly = client_of(clinic, "Exactly")
    measure(clinic["osei"], exactly, (now - 70 * DAY, 12), (now - 14 * DAY, 11))
    beyond = client_of(clinic, "Beyond")
    measure(clinic["osei"], beyond, (now - 80 * DAY, 12), (now - 14 * DAY, 11))
    short = client_of(clinic, "Short")
    measure(clinic["osei"], short, (now - 70 * DAY, 12), (now - 14 * DAY - TICK, 11))
    assert status_of(clinic, exactly, now) == "not_improving"
    assert status_of(clinic, beyond, now) == "not_improving"
    assert status_of(clinic, short, now) == "in_treatment"


def test_the_first_status_that_applies_wins(clinic, now):
    # remission before response (latest 4 is also at most half of 20)
    both = client_of(clinic, "Both")
    measure(clinic["osei"], both, (now - 90 * DAY, 20), (now - 60 * DAY, 4))
    # response before no follow-up (the latest is 60 days old)
    responded = client_of(clinic, "Responded")
    measure(clinic["osei"], responded, (now - 90 * DAY, 20), (now - 60 * DAY, 9))
    # no follow-up before not improving (latest 60 days after baseline, and 30 old)
    lost = client_of(clinic, "Lost")
    measure(clinic["osei"], lost, (now - 90 * DAY, 20), (now - 30 * DAY, 19))
    assert status_of(clinic, both, now) == "remission"
    assert status_of(clinic, responded, now) == "response"
    assert status_of(clinic, lost, now) == "no_follow_up"


def test_gad7_has_its_own_registry(clinic, now):
    leo = client_of(clinic, "Leo")
    measure(clinic["osei"], leo, (now - 20 * DAY, 15), (now - 3 * DAY, 7), instrument=GAD7)
    measure(clinic["osei"], leo, (now - 3 * DAY, 20))
    [gad] = registry(clinic["osei"], GAD7, now=now).rows
    [phq] = registry(clinic["osei"], PHQ9, now=now).rows
    assert (gad.baseline_score, gad.latest_score, gad.status) == (15, 7, "response")
    assert (phq.count, phq.status) == (1, "in_treatment")


# --- consent shapes every figure ----------------------------------------------------------


def test_hidden_assessments_shape_no_figure(clinic, now):
    """The hospital's first, severe PHQ-9 is not shared with the centre: for the
    centre the baseline is its own first one, and the count leaves it out."""
    hospital = OrganizationFactory(name="Hospital", sector="hospital")
    dr_h = ProviderFactory(organization=hospital)
    ana = client_of(clinic, "Ana")
    add_to_care_team(ana, dr_h)
    measure(dr_h, ana, (now - 80 * DAY, 27))
    measure(clinic["osei"], ana, (now - 40 * DAY, 14), (now - 5 * DAY, 12))
    [row] = registry(clinic["osei"], PHQ9, now=now).rows
    assert (row.baseline_score, row.count, row.baseline_at) == (14, 2, now - 40 * DAY)
    assert row.status == "in_treatment"
    # Once shared, the hospital's is her baseline: a response. (Consent is read
    # at the registry's `now`, so from here on the registry's clock is the real one.)
    record_consent(
        provider=clinic["osei"],
        client=ana,
        effect="permit",
        categories=["mental_health"],
        grantee_organization=clinic["centre"],
    )
    [row] = registry(clinic["osei"], PHQ9).rows
    assert (row.baseline_score, row.count, row.status) == (27, 3, "response")
    # The hospital sees only its own: one severe score.
    [theirs] = registry(dr_h, PHQ9).rows
    assert (theirs.baseline_score, theirs.count) == (27, 1)


def test_a_client_with_only_hidden_assessments_is_not_listed(clinic, now):
    hospital = OrganizationFactory(name="Hospital", sector="hospital")
    dr_h = ProviderFactory(organization=hospital)
    marcus = client_of(clinic, "Marcus")
    add_to_care_team(marcus, dr_h)
    measure(dr_h, marcus, (now - 10 * DAY, 20))
    assert registry(clinic["osei"], PHQ9, now=now).rows == []
    assert registry(clinic["osei"], PHQ9, now=now).summary == dict.fromkeys(
        ["not_improving", "no_follow_up", "in_treatment", "response", "remission"], 0
    )


def test_clients_off_the_caseload_are_not_listed(clinic, now):
    """Rule 1: an organization that left the care team loses the client's rows."""
    other = OrganizationFactory(name="Other", sector="mental_health")
    dr_o = ProviderFactory(organization=other)
    ana = client_of(clinic, "Ana")
    measure(clinic["osei"], ana, (now - 10 * DAY, 20))
    assert registry(dr_o, PHQ9, now=now).rows == []
    add_to_care_team(ana, dr_o)
    record_consent(
        provider=clinic["osei"],
        client=ana,
        effect="permit",
        categories=["mental_health"],
        grantee_sector="mental_health",
    )
    assert len(registry(dr_o, PHQ9).rows) == 1
    from records.services import leave_care_team

    leave_care_team(actor=dr_o, client=ana, provider=dr_o)
    assert registry(dr_o, PHQ9).rows == []


def test_emergency_access_widens_its_holders_registry_only(clinic, now):
    work = OrganizationFactory(name="Work", sector="employment")
    jo = ProviderFactory(organization=work)
    colleague = ProviderFactory(organization=work)
    ana = client_of(clinic, "Ana")
    add_to_care_team(ana, jo)
    measure(clinic["osei"], ana, (now - 10 * DAY, 20))
    grant_emergency_access(provider=jo, client=ana, reason="Client in crisis at the office.")
    assert len(registry(jo, PHQ9).rows) == 1
    assert registry(colleague, PHQ9).rows == []


def test_only_recorded_assessments_count(clinic, now):
    ana = client_of(clinic, "Ana")
    create_entry(
        client=ana,
        author=clinic["osei"],
        category="mental_health",
        kind="assessment",
        title="PHQ-9 on paper",
        data={"instrument": "phq9", "score": 20},
    )
    assert registry(clinic["osei"], PHQ9, now=now).rows == []


# --- the API ------------------------------------------------------------------------------


@pytest.fixture
def caseload(clinic, now):
    """Ten clients, two of each status, made with dated series."""
    series = {
        "not_improving": [[(70, 16), (40, 15), (5, 15)], [(65, 18), (3, 17)]],
        "no_follow_up": [[(45, 14)], [(90, 20), (35, 16)]],
        "in_treatment": [[(20, 15), (6, 12)], [(4, 13)]],
        "response": [[(60, 20), (30, 14), (8, 9)], [(40, 16), (2, 8)]],
        "remission": [[(70, 12), (10, 4)], [(80, 22), (40, 11), (1, 3)]],
    }
    made = {}
    for status, clients in series.items():
        for n, points in enumerate(clients):
            client = client_of(clinic, f"{status}{n}")
            measure(clinic["osei"], client, *[(now - days * DAY, score) for days, score in points])
            made[client.pk] = (status, now - points[-1][0] * DAY)
    return made


def test_rows_in_review_order_with_the_summary(clinic, caseload, api_as):
    body = api_as(clinic["rivera"]).get(REGISTRY + "?instrument=phq9").json()
    assert body["summary"] == {
        "not_improving": 2,
        "no_follow_up": 2,
        "in_treatment": 2,
        "response": 2,
        "remission": 2,
    }
    assert body["count"] == 10
    statuses = [row["status"] for row in body["results"]]
    assert statuses == [s for s in body["summary"] for _ in range(2)]
    # Within a status, the oldest latest first.
    for status in body["summary"]:
        dates = [r["latest"]["administered_at"] for r in body["results"] if r["status"] == status]
        expected = sorted(
            (at for s, at in caseload.values() if s == status),
        )
        assert [datetime.datetime.fromisoformat(d) for d in dates] == expected
    row = body["results"][0]
    assert set(row) == {
        "client",
        "baseline",
        "latest",
        "count",
        "weeks_in_care",
        "change_percent",
        "status",
    }
    assert set(row["client"]) == {"id", "given_name", "family_name"}
    assert set(row["baseline"]) == {"score", "administered_at"}
    # Every row's status is its own, and its figures are those of its client's series.
    for row in body["results"]:
        assert caseload[uuid.UUID(row["client"]["id"])][0] == row["status"]


def test_status_filter_keeps_the_whole_summary(clinic, caseload, api_as):
    body = api_as(clinic["osei"]).get(REGISTRY + "?instrument=phq9&status=response").json()
    assert body["count"] == 2
    assert {row["status"] for row in body["results"]} == {"response"}
    assert sum(body["summary"].values()) == 10
    empty = api_as(clinic["osei"]).get(REGISTRY + "?instrument=gad7&status=response").json()
    assert empty["count"] == 0 and empty["results"] == []
    assert set(empty["summary"].values()) == {0} and len(empty["summary"]) == 5


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "instrument"),
        ("?instrument=", "instrument"),
        ("?instrument=phq15", "instrument"),
        ("?instrument=phq9&status=", "status"),
        ("?instrument=phq9&status=improving", "status"),
        ("?instrument=phq9&page=abc", "page"),
        ("?instrument=phq9&page=0", "page"),
    ],
)
def test_bad_filters_are_a_400_naming_them(query, field, clinic, caseload, api_as):
    before = AccessEvent.objects.count()
    response = api_as(clinic["osei"]).get(REGISTRY + query)
    assert response.status_code == 400
    assert field in response.json()
    assert AccessEvent.objects.count() == before


def test_pages_and_links(clinic, caseload, api_as):
    api = api_as(clinic["osei"])
    first = api.get(REGISTRY + "?instrument=phq9&page_size=4").json()
    assert first["count"] == 10 and len(first["results"]) == 4
    assert "page=2" in first["next"] and first["previous"] is None
    second = api.get(first["next"]).json()
    last = api.get(REGISTRY + "?instrument=phq9&page_size=4&page=last").json()
    assert len(last["results"]) == 2 and last["next"] is None
    ids = [r["client"]["id"] for page in (first, second, last) for r in page["results"]]
    assert len(set(ids)) == 10
    assert api.get(REGISTRY + "?instrument=phq9&page_size=4&page=4").status_code == 404


def test_one_access_event_per_client_returned(clinic, caseload, api_as):
    before = set(AccessEvent.objects.values_list("pk", flat=True))
    body = api_as(clinic["rivera"]).get(REGISTRY + "?instrument=phq9&page_size=3").json()
    events = AccessEvent.objects.exclude(pk__in=before)
    assert events.count() == 3
    assert {str(e.client_id) for e in events} == {r["client"]["id"] for r in body["results"]}
    assert {(e.action, e.actor_id, e.channel) for e in events} == {
        ("registry.read", clinic["rivera"].pk, "api")
    }


def test_only_providers_who_read_the_record_may_read_it(clinic, caseload, sysadmin, api_as):
    from rest_framework.test import APIClient

    assert APIClient().get(REGISTRY + "?instrument=phq9").status_code == 401
    # 403 before 400: a system admin learns nothing from validation either.
    assert api_as(sysadmin).get(REGISTRY + "?instrument=phq15").status_code == 403
    assert api_as(sysadmin).get(REGISTRY + "?instrument=phq9").status_code == 403


# --- queries do not grow with the number of clients ---------------------------------------


def bulk_caseload(provider, n: int, now) -> None:
    """n clients on the provider's organization's caseload with three PHQ-9s each,
    written in bulk as the services would leave them."""
    clients = Client.objects.bulk_create(
        Client(
            given_name=f"Given{i}",
            family_name=f"Family{i:04d}",
            birth_date=datetime.date(1980, 1, 1),
        )
        for i in range(n)
    )
    CareTeamMembership.objects.bulk_create(
        CareTeamMembership(client=c, provider=provider, organization_id=provider.organization_id)
        for c in clients
    )
    permission = Permission.objects.get(codename="access_client")
    ClientGroupObjectPermission.objects.bulk_create(
        ClientGroupObjectPermission(
            content_object=c, group=provider.organization.group, permission=permission
        )
        for c in clients
    )
    entries, assessments = [], []
    for i, c in enumerate(clients):
        for k, (days, score) in enumerate([(70, 18), (40, 14 - i % 5), (10 - i % 9, 12 - i % 11)]):
            at = now - days * DAY
            entry = Entry(
                client=c,
                category="mental_health",
                kind="assessment",
                title=f"PHQ-9 {k}",
                occurred_at=at,
                created_at=at,
                author=provider,
                organization_id=provider.organization_id,
            )
            entries.append(entry)
            assessments.append(
                Assessment(
                    entry=entry,
                    instrument="phq9",
                    answers=answers_for(score),
                    score=score,
                    severity=PHQ9.band_of(score).severity,
                    administered_at=at,
                )
            )
    Entry.objects.bulk_create(entries)
    Assessment.objects.bulk_create(assessments)


# The page with its summary, the emergency check for the audit, the audit's one INSERT.
REGISTRY_QUERIES = 3
EMPTY_REGISTRY_QUERIES = 2


@pytest.mark.parametrize("n", [5, 80])
def test_registry_queries_do_not_grow(n, clinic, now, api_as, django_assert_num_queries):
    bulk_caseload(clinic["osei"], n, now)
    api = api_as(clinic["rivera"])
    assert api.get(REGISTRY + "?instrument=phq9").status_code == 200  # warm caches
    with django_assert_num_queries(REGISTRY_QUERIES):
        body = api.get(REGISTRY + "?instrument=phq9").json()
    assert body["count"] == n and len(body["results"]) == min(n, 50)
    assert sum(body["summary"].values()) == n
    # An empty page: the page, then the summary alone; nobody to audit.
    with django_assert_num_queries(EMPTY_REGISTRY_QUERIES):
        empty = api.get(REGISTRY + "?instrument=gad7").json()
    assert empty["results"] == []
