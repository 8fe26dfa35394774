"""Assessments (PHQ-9, GAD-7) through the API: scoring and severity exactly as
the contract lists them, validation that changes nothing, the entry each
assessment is, and consent governing it like any entry (docs/measures.md)."""

import datetime
import uuid

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from consent.services import grant_emergency_access, record_consent
from core.models import AccessEvent, OutboxEvent
from measures.instruments import GAD7, INSTRUMENTS, PHQ9, Answer, Band, Instrument, Item
from measures.models import Assessment
from records.models import Entry
from records.services import create_entry
from tests.factories import ProviderFactory

pytestmark = pytest.mark.django_db


def answers_summing_to(score: int, items: int) -> list[int]:
    """Answers of 3 first, then the remainder, then 0s: any score from 0 to the maximum."""
    answers = []
    for _ in range(items):
        answers.append(min(3, score))
        score -= answers[-1]
    assert score == 0
    return answers


def url(client) -> str:
    return f"/api/v1/clients/{client.pk}/assessments/"


def post(api, client, **body):
    return api.post(url(client), body, format="json")


def written() -> dict[str, int]:
    return {
        "entries": Entry.objects.count(),
        "assessments": Assessment.objects.count(),
        "events": OutboxEvent.objects.count(),
        "audit": AccessEvent.objects.count(),
    }


@pytest.fixture
def mental_health_shares(ana, dr_lee):
    """Ana shares mental-health entries with mental-health organizations (not employment)."""
    record_consent(
        provider=dr_lee,
        client=ana,
        effect="permit",
        categories=["mental_health"],
        grantee_sector="mental_health",
    )


# --- the declarations ------------------------------------------------------------------


def test_declarations_carry_the_published_items_and_codes():
    assert len(PHQ9.items) == 9 and len(GAD7.items) == 7
    assert PHQ9.max_score == 27 and GAD7.max_score == 21
    assert (PHQ9.loinc_total, GAD7.loinc_total) == ("44261-6", "70274-6")
    assert PHQ9.items[8].text.startswith("Thoughts that you would be better off dead")
    assert PHQ9.items[8].loinc == "44260-8" and GAD7.items[0].loinc == "69725-0"
    assert [a.label for a in PHQ9.answers] == [
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    ]
    assert PHQ9.safety_item == 9 and GAD7.safety_item is None


def test_a_declaration_with_a_gap_in_its_bands_is_refused():
    with pytest.raises(ValueError, match="without gaps"):
        Instrument(
            code="x",
            name="X",
            title="X",
            question="?",
            items=(Item("a"), Item("b")),
            answers=(Answer(0, "no"), Answer(1, "yes")),
            bands=(Band("low", "Low", 0, 0), Band("high", "High", 2, 2)),
            loinc_total="0-0",
        )


# --- scoring ---------------------------------------------------------------------------

PHQ9_BANDS = [
    (0, "minimal"),
    (4, "minimal"),
    (5, "mild"),
    (9, "mild"),
    (10, "moderate"),
    (14, "moderate"),
    (15, "moderately_severe"),
    (19, "moderately_severe"),
    (20, "severe"),
    (27, "severe"),
]
GAD7_BANDS = [
    (0, "minimal"),
    (4, "minimal"),
    (5, "mild"),
    (9, "mild"),
    (10, "moderate"),
    (14, "moderate"),
    (15, "severe"),
    (21, "severe"),
]


@pytest.mark.parametrize(
    ("instrument", "score", "severity"),
    [("phq9", s, sev) for s, sev in PHQ9_BANDS] + [("gad7", s, sev) for s, sev in GAD7_BANDS],
)
def test_score_is_the_sum_and_severity_its_band(instrument, score, severity, ana, dr_lee, api_as):
    answers = answers_summing_to(score, len(INSTRUMENTS[instrument].items))
    response = post(api_as(dr_lee), ana, instrument=instrument, answers=answers)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["score"], body["severity"]) == (score, severity)
    assert body["answers"] == answers


def test_an_assessment_is_an_entry_of_the_record(ana, dr_lee, api_as):
    administered = timezone.now() - datetime.timedelta(days=3)
    answers = [2, 2, 2, 2, 2, 2, 2, 2, 1]
    body = post(
        api_as(dr_lee),
        ana,
        instrument="phq9",
        answers=answers,
        administered_at=administered.isoformat(),
    ).json()
    assert set(body) >= {
        "id",
        "instrument",
        "answers",
        "score",
        "severity",
        "administered_at",
        "author",
        "organization",
        "entry",
    }
    assert body["author"] == {"id": dr_lee.pk, "full_name": "Dr. Daniel Lee"}
    assert body["organization"]["name"] == "Riverside Family Practice"
    entry = Entry.objects.get(pk=body["entry"])
    assert (entry.kind, entry.category) == ("assessment", "mental_health")
    assert entry.title == "PHQ-9: score 17 of 27, moderately severe"
    assert entry.data == {
        "instrument": "phq9",
        "answers": answers,
        "score": 17,
        "severity": "moderately_severe",
    }
    assert entry.occurred_at == administered
    assert "9. Thoughts that you would be better off dead" in entry.body
    assert Assessment.objects.get(pk=body["id"]).entry_id == entry.pk
    assert AccessEvent.objects.filter(client=ana, action="assessment.create").count() == 1
    # The entries API shows it as the entry it is.
    shown = api_as(dr_lee).get(f"/api/v1/clients/{ana.pk}/entries/{entry.pk}/").json()
    assert shown["data"]["score"] == 17 and shown["kind"] == "assessment"


def test_administered_at_defaults_to_now(ana, dr_lee, api_as):
    before = timezone.now()
    body = post(api_as(dr_lee), ana, instrument="gad7", answers=[0] * 7).json()
    stored = Assessment.objects.get(pk=body["id"]).administered_at
    assert before <= stored <= timezone.now()


# --- bad input changes nothing ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"instrument": "phq9", "answers": [1] * 8}, "answers"),
        ({"instrument": "phq9", "answers": [1] * 10}, "answers"),
        ({"instrument": "gad7", "answers": [1] * 9}, "answers"),
        ({"instrument": "phq9", "answers": [1] * 8 + [4]}, "answers"),
        ({"instrument": "phq9", "answers": [1] * 8 + [-1]}, "answers"),
        ({"instrument": "phq9", "answers": [1] * 8 + ["2"]}, "answers"),
        ({"instrument": "phq9", "answers": [1] * 8 + [1.5]}, "answers"),
        ({"instrument": "phq9", "answers": [1] * 8 + [True]}, "answers"),
        ({"instrument": "phq9", "answers": [1] * 8 + [None]}, "answers"),
        ({"instrument": "phq9", "answers": "1,1,1,1,1,1,1,1,1"}, "answers"),
        ({"instrument": "phq9", "answers": {"1": 1}}, "answers"),
        ({"instrument": "phq9", "answers": [1] * 100_000}, "answers"),
        ({"instrument": "phq9"}, "answers"),
        ({"instrument": "phq15", "answers": [1] * 9}, "instrument"),
        ({"answers": [1] * 9}, "instrument"),
        ({"instrument": "phq9", "answers": [1] * 9, "administered_at": "tomorrow"}, None),
        (
            {"instrument": "phq9", "answers": [1] * 9, "administered_at": "1899-12-31T23:59:59Z"},
            None,
        ),
        (
            {"instrument": "phq9", "answers": [1] * 9, "administered_at": "9999-12-31T23:59:59"},
            "administered_at",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(body, field, ana, dr_lee, api_as):
    field = field or "administered_at"
    before = written()
    response = api_as(dr_lee).post(url(ana), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert written() == before
    if field == "answers" and len(body.get("answers") or []) == 100_000:
        assert len(str(response.json())) < 500  # one message, not one per answer


def test_a_future_time_is_refused(ana, dr_lee, api_as):
    later = (timezone.now() + datetime.timedelta(minutes=5)).isoformat()
    before = written()
    response = post(api_as(dr_lee), ana, instrument="phq9", answers=[0] * 9, administered_at=later)
    assert response.status_code == 400
    assert response.json()["administered_at"] == ["An assessment cannot be in the future."]
    assert written() == before


def test_the_first_moment_of_1900_is_allowed(ana, dr_lee, api_as):
    response = post(
        api_as(dr_lee),
        ana,
        instrument="phq9",
        answers=[0] * 9,
        administered_at="1900-01-01T00:00:00Z",
    )
    assert response.status_code == 201, response.content


def test_malformed_json_is_a_400(ana, dr_lee, api_as):
    response = api_as(dr_lee).post(url(ana), "{not json", content_type="application/json")
    assert response.status_code == 400


def test_the_database_refuses_a_score_outside_its_instrument(ana, dr_lee):
    entry = create_entry(
        client=ana, author=dr_lee, category="mental_health", kind="assessment", title="x"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.objects.create(
            entry=entry,
            instrument="gad7",
            answers=[3] * 9,
            score=27,
            severity="severe",
            administered_at=timezone.now(),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.objects.create(
            entry=entry,
            instrument="phq9",
            answers=[1] * 9,
            score=9,
            severity="moderate",
            administered_at=timezone.now(),
        )


# --- the list, consent and the withheld count -----------------------------------------


def record(api, client, instrument, answers, days_ago):
    when = (timezone.now() - datetime.timedelta(days=days_ago)).isoformat()
    response = post(api, client, instrument=instrument, answers=answers, administered_at=when)
    assert response.status_code == 201, response.content
    return response.json()


def test_list_is_newest_first_filtered_and_counts_what_consent_hides(
    ana, dr_lee, intake_kim, emp_jo, mental_health_shares, api_as
):
    lee, kim = api_as(dr_lee), api_as(intake_kim)
    oldest = record(lee, ana, "phq9", [3] * 9, 30)
    middle = record(kim, ana, "gad7", [2] * 7, 20)
    newest = record(lee, ana, "phq9", [1] * 9, 10)
    # A plain entry of kind `assessment` is not an assessment: not listed, not counted.
    api_as(dr_lee).post(
        f"/api/v1/clients/{ana.pk}/entries/",
        {"category": "mental_health", "kind": "assessment", "title": "PHQ-9 on paper: 12"},
        format="json",
    )

    page = kim.get(url(ana)).json()
    assert [a["id"] for a in page["results"]] == [newest["id"], middle["id"], oldest["id"]]
    assert page["withheld_count"] == 0 and page["count"] == 3
    only = kim.get(url(ana) + "?instrument=gad7").json()
    assert [a["id"] for a in only["results"]] == [middle["id"]]

    # The family doctor does not see the centre's GAD-7 (no permit for primary care).
    lee_page = lee.get(url(ana)).json()
    assert [a["id"] for a in lee_page["results"]] == [newest["id"], oldest["id"]]
    assert lee_page["withheld_count"] == 1
    # Rule 5: the count is over all her assessments, whatever the filter says.
    assert lee.get(url(ana) + "?instrument=phq9").json()["withheld_count"] == 1
    assert lee.get(url(ana) + "?instrument=gad7").json() | {"results": None} == {
        "count": 0,
        "next": None,
        "previous": None,
        "withheld_count": 1,
        "results": None,
    }

    # Employment is denied mental health: nothing, and the count says so.
    jo_page = api_as(emp_jo).get(url(ana)).json()
    assert jo_page["results"] == [] and jo_page["withheld_count"] == 3
    assert "PHQ-9" not in str(jo_page) and "score" not in str(jo_page)
    assert AccessEvent.objects.filter(client=ana, action="assessment.list").count() == 6


def test_unknown_instrument_filter_is_a_400(ana, dr_lee, api_as):
    for value in ("phq15", ""):
        response = api_as(dr_lee).get(url(ana) + f"?instrument={value}")
        assert response.status_code == 400
        assert "instrument" in response.json()


def test_detail_is_404_when_consent_hides_it(ana, dr_lee, emp_jo, api_as):
    body = record(api_as(dr_lee), ana, "phq9", [1] * 9, 1)
    detail = f"{url(ana)}{body['id']}/"
    assert api_as(dr_lee).get(detail).json()["score"] == 9
    hidden = api_as(emp_jo).get(detail)
    unknown = api_as(emp_jo).get(f"{url(ana)}{uuid.uuid4()}/")
    malformed = api_as(emp_jo).get(f"{url(ana)}not-an-id/")
    assert [hidden.status_code, unknown.status_code, malformed.status_code] == [404, 404, 404]
    assert hidden.content == unknown.content == malformed.content


def test_emergency_access_shows_assessments_to_its_holder_only(ana, dr_lee, emp_jo, api_as):
    record(api_as(dr_lee), ana, "phq9", [2] * 9, 1)
    colleague = ProviderFactory(organization=emp_jo.organization)
    from records.services import add_to_care_team

    add_to_care_team(ana, colleague)
    grant_emergency_access(provider=emp_jo, client=ana, reason="Client in crisis at the office.")
    assert api_as(emp_jo).get(url(ana)).json()["count"] == 1
    assert api_as(colleague).get(url(ana)).json()["count"] == 0
    assert api_as(colleague).get(url(ana)).json()["withheld_count"] == 1


def test_revocation_bites_on_the_next_read(ana, dr_lee, intake_kim, api_as):
    directive = record_consent(
        provider=dr_lee,
        client=ana,
        effect="permit",
        categories=["mental_health"],
        grantee_sector="mental_health",
    )
    record(api_as(dr_lee), ana, "phq9", [2] * 9, 1)
    assert api_as(intake_kim).get(url(ana)).json()["count"] == 1
    from consent.services import revoke_consent

    revoke_consent(provider=dr_lee, directive=directive)
    after = api_as(intake_kim).get(url(ana)).json()
    assert after["count"] == 0 and after["withheld_count"] == 1


def test_instruments_are_described_for_outside_systems(dr_lee, api_as):
    body = api_as(dr_lee).get("/api/v1/instruments/").json()
    phq9 = next(each for each in body if each["code"] == "phq9")
    assert phq9["loinc"] == "44261-6" and phq9["max_score"] == 27
    assert phq9["items"][8] == {
        "number": 9,
        "text": "Thoughts that you would be better off dead or of hurting yourself in some way",
        "loinc": "44260-8",
    }
    assert [band["severity"] for band in phq9["bands"]] == [
        "minimal",
        "mild",
        "moderate",
        "moderately_severe",
        "severe",
    ]
