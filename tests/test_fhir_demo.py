"""The FHIR API on the demo (`make demo`): what docs/fhir.md's curl example
shows. The mental-health intake worker fetches Ana's $everything with a
token; it parses with the R4B models, holds exactly what the REST API shows
her, and the employment plan Ana keeps from the centre is in no field of it.
Every resource the API produces for every demo provider validates."""

# ruff: noqa: F811 - `demo` is a pytest fixture imported from tests.test_demo

import pytest
from fhir.resources.R4B.bundle import Bundle

from consent.selectors import visible_clients
from records.models import Client, Provider
from tests.fhir_support import FHIR_JSON, carries, is_redacted, resources_of, validate
from tests.test_demo import demo, token_client  # noqa: F401 - demo is a fixture
from tests.test_fhir_consent import entry_ids_of, rest_ids

pytestmark = pytest.mark.django_db

# Ana's return-to-work plan, written by the employment service: not shared with
# the mental-health centre (load_demo), and her alcohol-use note (substance use).
PRIVATE = [
    "Return-to-work plan",
    "Ana wants to return to part-time bookkeeping",
    "Alcohol use discussed",
    "Drinks 2–3 glasses of wine",
]


def test_intake_kim_reads_anas_everything_as_the_rest_api_shows_it(demo):
    from rest_framework.test import APIClient

    auth = token_client(demo, "intake_kim")
    ana = Client.objects.get(given_name="Ana", family_name="Silva")
    # As docs/fhir.md finds her: by health card number, written without dashes.
    found = demo.get(
        "/fhir/R4/Patient",
        {"identifier": "https://carelink.example.org/fhir/sid/health-card-number|4532281907"},
        **auth,
    ).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [str(ana.pk)]
    response = demo.get(f"/fhir/R4/Patient/{ana.pk}/$everything", **auth)
    assert response.status_code == 200
    assert response["Content-Type"] == FHIR_JSON
    Bundle.model_validate_json(response.content)  # as an outside system parses it
    bundle = response.json()
    validate(bundle)

    api = APIClient(**auth)
    base = f"/api/v1/clients/{ana.pk}"
    entries = rest_ids(api, f"{base}/entries/")
    assert entry_ids_of(bundle) == entries
    assert {o["id"] for o in resources_of(bundle, "Observation")} == rest_ids(
        api, f"{base}/assessments/"
    )
    assert {c["id"] for c in resources_of(bundle, "Consent")} == rest_ids(api, f"{base}/consents/")
    assert {s["id"] for s in resources_of(bundle, "ServiceRequest")} == rest_ids(
        api, "/api/v1/referrals/", ana.pk
    )
    rest_client = api.get(f"{base}/").json()
    (patient,) = resources_of(bundle, "Patient")
    assert (patient["name"][0]["family"], patient["name"][0]["given"], patient["birthDate"]) == (
        rest_client["family_name"],
        [rest_client["given_name"]],
        rest_client["birth_date"],
    )
    assert patient["identifier"][0]["value"] == rest_client["health_card_number"]
    (care_team,) = resources_of(bundle, "CareTeam")
    assert sorted(p["member"]["display"] for p in care_team["participant"]) == sorted(
        member["provider"]["full_name"] for member in api.get(f"{base}/care-team/").json()
    )
    # The PHQ-9 she may see is an Observation coded with LOINC.
    assert any(
        o["code"]["coding"][0]["code"] == "44261-6" for o in resources_of(bundle, "Observation")
    )
    # As docs/fhir.md says: 19 resources (5 Observations, 5 DocumentReferences, 6 Consents).
    kinds = [each["resource"]["resourceType"] for each in bundle["entry"]]
    assert len(kinds) == 19
    assert (kinds.count("DocumentReference"), kinds.count("Consent")) == (5, 6)
    assert len(resources_of(bundle, "Observation")) == 5
    # Two entries withheld from her: labelled, and in no field.
    assert api.get(f"{base}/entries/").json()["withheld_count"] == 2
    assert is_redacted(bundle)
    for text in PRIVATE:
        assert not carries(bundle, text), text


def test_every_demo_resource_validates(demo):
    """Every provider of the demo, every client they may see: Patient, search
    and $everything all parse with the R4B models and use FHIR's codes."""
    from rest_framework.test import APIClient

    seen = set()
    for provider in Provider.objects.filter(organization__isnull=False).order_by("username"):
        api = APIClient()
        api.force_authenticate(provider)
        clients = list(visible_clients(provider).order_by("family_name")[:25])
        for client in clients:
            bundle = api.get(f"/fhir/R4/Patient/{client.pk}/$everything").json()
            validate(bundle)
            seen.update(e["resource"]["resourceType"] for e in bundle["entry"])
        search = api.get("/fhir/R4/Patient?_count=100").json()
        validate(search)
        assert search["total"] == visible_clients(provider).count()
    validate(APIClient().get("/fhir/R4/metadata").json())
    assert seen == {
        "Patient",
        "CareTeam",
        "Observation",
        "DocumentReference",
        "Consent",
        "ServiceRequest",
    }
