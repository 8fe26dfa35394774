"""The FHIR R4 read API (docs/fhir.md): metadata, Patient read, search and
$everything; errors as OperationOutcome with the REST API's status codes;
minimum necessary; the audit (channel fhir, one event per request, one per
client a search returns, in one insert); queries that do not grow."""

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from consent.services import record_consent
from core.models import AccessEvent
from measures.services import record_assessment
from records.models import Provider
from records.services import amend_entry, create_entry, retract_entry
from referrals.services import refer_client
from tests.factories import ClientFactory, ProviderFactory
from tests.fhir_support import (
    FHIR_JSON,
    carries,
    is_redacted,
    resources_of,
    validate,
)
from tests.test_query_counts import add_clients, add_entries

HEALTH_CARD = "https://carelink.example.org/fhir/sid/health-card-number"
PLAN_BODY = "Ana wants to return to part-time bookkeeping; interview practice weekly."


@pytest.fixture
def record(ana, dr_lee, intake_kim, emp_jo):
    """Ana's record: a permit for the mental-health sector (general and mental
    health), the employment plan she keeps to the employment service."""
    record_consent(
        provider=dr_lee,
        client=ana,
        effect="permit",
        grantee_sector="mental_health",
        categories=["general_health", "mental_health"],
    )
    entries = {
        "visit": create_entry(
            client=ana,
            author=dr_lee,
            category="general_health",
            kind="note",
            title="Follow-up visit",
            body="Sleeping better.",
        ),
        "plan": create_entry(
            client=ana,
            author=emp_jo,
            category="employment",
            kind="care_plan",
            title="Return-to-work plan",
            body=PLAN_BODY,
        ),
        "intake": create_entry(
            client=ana,
            author=intake_kim,
            category="mental_health",
            kind="note",
            title="Intake call",
            body="First CBT session booked.",
            data={"sessions": 12},
        ),
    }
    assessment = record_assessment(
        provider=dr_lee, client=ana, instrument="phq9", answers=[2, 2, 1, 1, 2, 1, 1, 0, 1]
    )
    referral = refer_client(
        provider=dr_lee,
        client=ana,
        to_organization=intake_kim.organization,
        reason="Needs CBT.",
        urgency="urgent",
    )
    return {**entries, "assessment": assessment, "referral": referral}


@pytest.fixture
def ana_account(ana):
    return Provider.objects.create_user(
        username="ana", password="correct horse battery staple", client=ana
    )


@pytest.fixture
def org_admin(mh_centre):
    return ProviderFactory(username="admin_mo", organization=mh_centre, role="org_admin")


def everything(api, client) -> dict:
    response = api.get(f"/fhir/R4/Patient/{client.pk}/$everything")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == FHIR_JSON
    return response.json()


def outcome(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(FHIR_JSON)
    body = response.json()
    validate(body)
    assert body["resourceType"] == "OperationOutcome"
    return body


# --- metadata ----------------------------------------------------------------------------


def test_metadata_needs_no_authentication_and_says_what_is_supported(db):
    response = APIClient().get("/fhir/R4/metadata")
    assert response.status_code == 200
    assert response["Content-Type"] == FHIR_JSON
    statement = response.json()
    validate(statement)
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["format"] == ["json"]
    assert statement["implementation"]["url"] == "http://testserver/fhir/R4/"
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    patient = resources.pop("Patient")
    assert [i["code"] for i in patient["interaction"]] == ["read", "search-type"]
    assert {p["name"] for p in patient["searchParam"]} == {
        "identifier",
        "family",
        "birthdate",
        "_count",
    }
    assert [o["name"] for o in patient["operation"]] == ["everything"]
    # The others only inside $everything: no interaction of their own.
    assert set(resources) == {
        "CareTeam",
        "Consent",
        "DocumentReference",
        "Observation",
        "ServiceRequest",
    }
    assert not any(r.get("interaction") for r in resources.values())


def test_metadata_answers_client_accounts_too(ana_account, api_as):
    assert api_as(ana_account).get("/fhir/R4/metadata").status_code == 200


def test_any_accept_header_gets_fhir_json(db):
    for accept in ("application/json", "*/*", "application/fhir+json", "text/html"):
        response = APIClient().get("/fhir/R4/metadata", HTTP_ACCEPT=accept)
        assert response.status_code == 200
        assert response["Content-Type"] == FHIR_JSON


# --- Patient read ------------------------------------------------------------------------


def test_patient_read(ana, intake_kim, api_as):
    before = set(AccessEvent.objects.values_list("pk", flat=True))
    response = api_as(intake_kim).get(f"/fhir/R4/Patient/{ana.pk}")
    assert response.status_code == 200
    assert response["Content-Type"] == FHIR_JSON
    patient = response.json()
    validate(patient)
    assert patient["id"] == str(ana.pk)
    assert patient["name"][0]["family"] == "Silva"
    assert patient["name"][0]["given"] == ["Ana"]
    assert patient["birthDate"] == ana.birth_date.isoformat()
    assert patient["identifier"] == [
        {
            "use": "official",
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                        "code": "JHN",
                        "display": "Jurisdictional health number",
                    }
                ],
                "text": "Health card number",
            },
            "system": HEALTH_CARD,
            "value": "1234-567-890",
        }
    ]
    new = AccessEvent.objects.exclude(pk__in=before)
    assert [(e.client_id, e.actor_id, e.action, e.channel) for e in new] == [
        (ana.pk, intake_kim.pk, "client.read", "fhir")
    ]


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/$everything"])
def test_off_the_care_team_is_404_like_an_unknown_id(suffix, ana, outsider, hospital_privacy):
    responses = []
    for caller, client_id in (
        (outsider, ana.pk),
        (hospital_privacy, ana.pk),
        (outsider, uuid.uuid4()),
        (outsider, "not-a-uuid"),
    ):
        api = APIClient()
        api.force_authenticate(caller)
        responses.append(api.get(f"/fhir/R4/Patient/{client_id}{suffix}"))
    bodies = [outcome(r, 404) for r in responses]
    assert len({r.content for r in responses}) == 1
    assert bodies[0]["issue"][0]["code"] == "not-found"
    assert not AccessEvent.objects.filter(channel="fhir").exists()


@pytest.mark.parametrize(
    "path", ["/fhir/R4/Patient/{id}", "/fhir/R4/Patient/{id}/$everything", "/fhir/R4/Patient"]
)
def test_without_credentials_is_401(path, ana):
    path = path.format(id=ana.pk)
    body = outcome(APIClient().get(path), 401)
    assert body["issue"][0]["code"] == "login"
    bad = APIClient(HTTP_AUTHORIZATION="Token not-a-real-token").get(path)
    assert outcome(bad, 401)["issue"][0]["code"] == "login"


@pytest.mark.parametrize(
    "path",
    [
        "/fhir/R4/Patient/{id}",
        "/fhir/R4/Patient/{id}/$everything",
        "/fhir/R4/Patient?family=Silva",
        "/fhir/R4/Patient?nonsense=1",
        "/fhir/R4/Patient/{other}",
    ],
)
def test_client_accounts_are_refused(path, ana, ana_account, api_as):
    path = path.format(id=ana.pk, other=uuid.uuid4())
    body = outcome(api_as(ana_account).get(path), 403)
    assert body["issue"][0]["code"] == "forbidden"
    assert not AccessEvent.objects.filter(channel="fhir").exists()


def test_client_accounts_are_refused_with_a_token_too(ana, ana_account):
    token = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "ana", "password": "correct horse battery staple"},
        format="json",
    )
    assert token.status_code == 200, token.content
    api = APIClient(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    outcome(api.get(f"/fhir/R4/Patient/{ana.pk}/$everything"), 403)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("family=Silva&name=Ana", "name"),
        ("family:exact=Silva", "family:exact"),
        ("birthdate=gt1990-01-01", "birthdate"),
        ("birthdate=1990-13-01", "birthdate"),
        ("birthdate=yesterday", "birthdate"),
        ("family=", "family"),
        ("family=,", "family"),
        ("family=Silva&family=Lee", "family"),
        ("identifier=" + HEALTH_CARD + "|", "identifier"),
        ("_count=0", "_count"),
        ("_count=1000", "_count"),
        ("page=0", "page"),
        ("_format=xml", "_format"),
    ],
)
def test_bad_search_parameters_are_400_naming_them(query, parameter, ana, intake_kim, api_as):
    body = outcome(api_as(intake_kim).get(f"/fhir/R4/Patient?{query}"), 400)
    assert body["issue"][0]["code"] == "invalid"
    assert [issue["expression"] for issue in body["issue"]] == [[parameter]]
    assert not AccessEvent.objects.filter(channel="fhir").exists()


def test_parameters_of_a_read_are_400_after_the_gate(ana, intake_kim, outsider, api_as):
    outcome(api_as(intake_kim).get(f"/fhir/R4/Patient/{ana.pk}/$everything?_since=2020"), 400)
    # Off the care team, the 404 comes first (it says nothing of the parameters).
    outcome(api_as(outsider).get(f"/fhir/R4/Patient/{ana.pk}/$everything?_since=2020"), 404)


def test_unknown_fhir_urls_and_methods_are_operation_outcomes(ana, intake_kim, api_as):
    body = outcome(APIClient().get("/fhir/R4/Observation/1"), 404)
    assert body["issue"][0]["code"] == "not-found"
    body = outcome(api_as(intake_kim).post(f"/fhir/R4/Patient/{ana.pk}", {}, format="json"), 405)
    assert body["issue"][0]["code"] == "not-supported"
    outcome(api_as(intake_kim).options(f"/fhir/R4/Patient/{ana.pk}"), 405)


# --- search ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        f"identifier={HEALTH_CARD}|1234-567-890",
        f"identifier={HEALTH_CARD}|1234567890",
        "identifier=1234 567 890",
        "identifier=nothing,1234567890",
        "family=silva",
        "family=SIL",
        "family=Lee,Silva",
        "family=Silva&birthdate=1990-05-17",
        "family=Silva&birthdate=eq1990-05",
        "birthdate=1990",
    ],
)
def test_search_finds_the_callers_client(query, ana, intake_kim, api_as):
    response = api_as(intake_kim).get(f"/fhir/R4/Patient?{query}")
    assert response.status_code == 200, response.content
    bundle = response.json()
    validate(bundle)
    assert bundle["type"] == "searchset"
    assert bundle["total"] == 1
    (entry,) = bundle["entry"]
    assert entry["fullUrl"] == f"http://testserver/fhir/R4/Patient/{ana.pk}"
    assert entry["resource"]["id"] == str(ana.pk)
    assert entry["search"]["mode"] == "match"


@pytest.mark.parametrize(
    "query",
    [
        "identifier=https://other.example/cards|1234567890",
        "identifier=|1234567890",
        "family=Silvas",
        "family=ilva",
        "family=Silva&birthdate=1990-05-18",
        "birthdate=1991",
    ],
)
def test_search_misses(query, ana, intake_kim, api_as):
    bundle = api_as(intake_kim).get(f"/fhir/R4/Patient?{query}").json()
    validate(bundle)
    assert (bundle["total"], bundle["entry"]) == (0, [])


def test_search_never_hints_at_a_client_the_caller_may_not_see(ana, outsider, api_as):
    for query in (
        f"identifier={HEALTH_CARD}|1234-567-890",
        "family=Silva",
        "birthdate=1990-05-17",
        "",
    ):
        response = api_as(outsider).get(f"/fhir/R4/Patient?{query}")
        assert response.status_code == 200
        bundle = response.json()
        assert (bundle["total"], bundle["entry"]) == (0, [])
        # The links echo the caller's own query; nothing else may name Ana.
        answer = {key: value for key, value in bundle.items() if key != "link"}
        assert not carries(answer, str(ana.pk)) and not carries(answer, "Silva")
    assert not AccessEvent.objects.filter(client=ana, actor=outsider).exists()


def test_search_audits_each_client_returned_in_one_insert(dr_lee, api_as):
    add_clients(dr_lee, 30)
    before = set(AccessEvent.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        response = api_as(dr_lee).get("/fhir/R4/Patient?family=Family000&_count=7")
    bundle = response.json()
    validate(bundle)
    assert bundle["total"] == 10
    returned = {e["resource"]["id"] for e in bundle["entry"]}
    assert len(returned) == 7
    inserts = [
        q for q in queries.captured_queries if re.match(r'INSERT INTO "core_accessevent"', q["sql"])
    ]
    assert len(inserts) == 1
    new = AccessEvent.objects.exclude(pk__in=before)
    assert sorted(str(e.client_id) for e in new) == sorted(returned)
    assert {(e.action, e.channel) for e in new} == {("client.search", "fhir")}
    links = {link["relation"]: link["url"] for link in bundle["link"]}
    assert set(links) == {"self", "next"}
    second = api_as(dr_lee).get(links["next"]).json()
    assert len(second["entry"]) == 3
    assert {link["relation"] for link in second["link"]} == {"self", "previous"}
    assert returned.isdisjoint({e["resource"]["id"] for e in second["entry"]})


def test_an_empty_search_records_nothing(ana, intake_kim, api_as):
    with CaptureQueriesContext(connection) as queries:
        assert api_as(intake_kim).get("/fhir/R4/Patient?family=Nobody").json()["total"] == 0
    assert not any("core_accessevent" in q["sql"] for q in queries.captured_queries)


# --- $everything -------------------------------------------------------------------------


def test_everything_holds_what_the_caller_may_see(record, ana, intake_kim, api_as):
    bundle = everything(api_as(intake_kim), ana)
    validate(bundle)
    assert bundle["type"] == "searchset"
    assert all(entry["fullUrl"] for entry in bundle["entry"])
    assert bundle["entry"][0]["fullUrl"] == f"http://testserver/fhir/R4/Patient/{ana.pk}"
    assert [e["fullUrl"] for e in bundle["entry"][1:]] == [
        f"urn:uuid:{e['resource']['id']}" for e in bundle["entry"][1:]
    ]
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("Patient") == 1 and kinds.count("CareTeam") == 1

    (observation,) = resources_of(bundle, "Observation")
    assert observation["id"] == str(record["assessment"].pk)
    assert observation["code"]["coding"] == [{"system": "http://loinc.org", "code": "44261-6"}]
    assert observation["valueInteger"] == 11
    assert [c["valueInteger"] for c in observation["component"]] == [2, 2, 1, 1, 2, 1, 1, 0, 1]
    assert observation["component"][8]["code"]["coding"][0]["code"] == "44260-8"

    documents = {d["id"]: d for d in resources_of(bundle, "DocumentReference")}
    assert set(documents) == {str(record["visit"].pk), str(record["intake"].pk)}
    intake = documents[str(record["intake"].pk)]
    assert carries(intake["content"][0], "First CBT session booked.")
    assert carries(intake["content"][1], '"sessions": 12')
    assert intake["category"][0]["coding"][0]["code"] == "mental_health"

    (care_team,) = resources_of(bundle, "CareTeam")
    members = {p["member"]["display"]: p["onBehalfOf"]["display"] for p in care_team["participant"]}
    assert members == {
        "Dr. Daniel Lee": "Riverside Family Practice",
        "Kim Park": "Eastside Community Mental Health",
        "Jo Martin": "WorkBridge Employment",
    }
    (consent,) = resources_of(bundle, "Consent")
    assert consent["status"] == "active"
    assert consent["provision"]["type"] == "permit"
    assert {label["code"] for label in consent["provision"]["securityLabel"]} == {
        "general_health",
        "mental_health",
    }
    (request,) = resources_of(bundle, "ServiceRequest")
    assert (request["status"], request["intent"], request["priority"]) == (
        "active",
        "order",
        "urgent",
    )
    assert request["performer"][0]["display"] == "Eastside Community Mental Health"
    # The employment plan is withheld: in no form, and the Bundle says so.
    assert is_redacted(bundle)
    assert not carries(bundle, "Return-to-work plan")
    assert not carries(bundle, PLAN_BODY)
    assert not carries(bundle, str(record["plan"].pk))


def test_everything_is_not_redacted_when_nothing_is_withheld(dr_lee, api_as):
    client = ClientFactory(registered_by=dr_lee)
    create_entry(client=client, author=dr_lee, category="housing", kind="note", title="Home")
    bundle = everything(api_as(dr_lee), client)
    validate(bundle)
    assert not is_redacted(bundle)
    assert "security" not in bundle["meta"]


def test_amended_and_retracted_entries_as_the_rest_api_shows_them(record, ana, dr_lee, api_as):
    newer = amend_entry(
        provider=dr_lee, entry=record["visit"], title="Follow-up visit (corrected)", reason="Date."
    )
    retracted = create_entry(
        client=ana, author=dr_lee, category="general_health", kind="note", title="Wrong record"
    )
    retract_entry(provider=dr_lee, entry=retracted, reason="Written in the wrong record.")
    bundle = everything(api_as(dr_lee), ana)
    validate(bundle)
    documents = {d["id"]: d for d in resources_of(bundle, "DocumentReference")}
    assert str(record["visit"].pk) not in documents
    assert documents[str(newer.pk)]["docStatus"] == "amended"
    assert documents[str(newer.pk)]["relatesTo"][0]["target"]["identifier"]["value"] == (
        f"urn:uuid:{record['visit'].pk}"
    )
    tombstone = documents[str(retracted.pk)]
    assert tombstone["status"] == "entered-in-error"
    assert not carries(tombstone, "Wrong record")


@pytest.mark.parametrize("role", ["privacy_officer", "org_admin"])
def test_roles_that_do_not_read_get_no_entries_labelled_redacted(
    role, record, ana, mh_centre, api_as
):
    """Minimum necessary: demographics, care team, consents and their
    organization's referrals; no entry in any form, the Bundle labelled REDACTED."""
    reader = ProviderFactory(organization=mh_centre, role=role)
    bundle = everything(api_as(reader), ana)
    validate(bundle)
    assert is_redacted(bundle)
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert kinds == {"Patient", "CareTeam", "Consent", "ServiceRequest"}
    for entry in ("visit", "plan", "intake"):
        assert not carries(bundle, record[entry].title)
        assert not carries(bundle, record[entry].body)
    assert not carries(bundle, "PHQ-9")


def test_roles_that_do_not_read_are_redacted_even_without_entries(dr_lee, family_practice, api_as):
    client = ClientFactory(registered_by=dr_lee)
    officer = ProviderFactory(organization=family_practice, role="privacy_officer")
    assert is_redacted(everything(api_as(officer), client))


def test_everything_records_one_event(record, ana, intake_kim, api_as):
    before = set(AccessEvent.objects.values_list("pk", flat=True))
    everything(api_as(intake_kim), ana)
    new = AccessEvent.objects.exclude(pk__in=before)
    assert [(e.client_id, e.actor_id, e.organization_id, e.action, e.channel) for e in new] == [
        (ana.pk, intake_kim.pk, intake_kim.organization_id, "record.export", "fhir")
    ]


def test_emergency_access_lifts_consent_and_marks_the_event(record, ana, emp_jo, api_as):
    from consent.services import grant_emergency_access

    grant_emergency_access(
        provider=emp_jo, client=ana, reason="Client in crisis at our front desk."
    )
    before = set(AccessEvent.objects.values_list("pk", flat=True))
    bundle = everything(api_as(emp_jo), ana)
    validate(bundle)
    assert not is_redacted(bundle)
    assert carries(bundle, "Sleeping better.")  # dr_lee's note, under no permit for emp_jo
    (event,) = AccessEvent.objects.exclude(pk__in=before)
    assert (event.action, event.channel, event.emergency) == ("record.export", "fhir", True)


def test_session_authentication_works(ana, intake_kim, client):
    client.force_login(intake_kim)
    response = client.get(f"/fhir/R4/Patient/{ana.pk}/$everything")
    assert response.status_code == 200
    assert response.json()["resourceType"] == "Bundle"


# --- queries -----------------------------------------------------------------------------

# Resolve the client (the gate also reads whether the caller is under
# emergency access, for the audit row); the client's directives covering the
# caller (rules 2 and 3, decided once for everything below); assessments;
# entries; withheld count; care team; directives and their categories;
# referrals; the audit INSERT.
EVERYTHING_QUERIES = 10


@pytest.mark.parametrize("n", [5, 500])
def test_everything_queries_do_not_grow(
    n, record, ana, dr_lee, emp_jo, api_as, django_assert_num_queries
):
    add_entries(ana, dr_lee, n)
    add_entries(ana, emp_jo, n)
    for _ in range(3):
        record_assessment(provider=dr_lee, client=ana, instrument="gad7", answers=[1] * 7)
    api = api_as(dr_lee)
    path = f"/fhir/R4/Patient/{ana.pk}/$everything"
    assert api.get(path).status_code == 200  # warm django-guardian's ContentType cache
    with django_assert_num_queries(EVERYTHING_QUERIES):
        response = api.get(path)
    bundle = response.json()
    assert len(resources_of(bundle, "Observation")) == 4
    # dr_lee's own entries, and emp_jo's employment entries under no permit.
    assert len(resources_of(bundle, "DocumentReference")) >= n


# Count and page of the search, the emergency check for the audit and its one INSERT.
SEARCH_QUERIES = 4


@pytest.mark.parametrize("n", [5, 500])
def test_search_queries_do_not_grow(n, dr_lee, api_as, django_assert_num_queries):
    add_clients(dr_lee, n)
    api = api_as(dr_lee)
    assert api.get("/fhir/R4/Patient?family=family").status_code == 200
    with django_assert_num_queries(SEARCH_QUERIES):
        bundle = api.get("/fhir/R4/Patient?family=family&birthdate=1980").json()
    assert bundle["total"] == n
    assert len(bundle["entry"]) == min(n, 50)
