"""An outside record system reads CareLink with `fhirclient` (the SMART on
FHIR Python client), over real HTTP to a live server: the capability
statement first, then a search by health card number, the Patient, and
$everything — each parsed by fhirclient's own R4 models, which refuse
anything that is not FHIR."""

# ruff: noqa: F811 - `record` is a pytest fixture imported from tests.test_fhir_api

import pytest
import requests
from fhirclient import client as fhir_client
from fhirclient.models.bundle import Bundle
from fhirclient.models.patient import Patient
from fhirclient.server import FHIRNotFoundException, FHIRUnauthorizedException

from tests.test_fhir_api import record  # noqa: F401 - a fixture

HEALTH_CARD = "https://carelink.example.org/fhir/sid/health-card-number"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def outside_system(live_server, record):
    token = requests.post(
        f"{live_server.url}/api/v1/auth/token/",
        json={"username": "intake_kim", "password": PASSWORD},
        timeout=10,
    ).json()["token"]
    smart = fhir_client.FHIRClient(
        settings={"app_id": "family-practice-emr", "api_base": f"{live_server.url}/fhir/R4/"}
    )
    smart.server.session.headers["Authorization"] = f"Token {token}"
    yield smart
    # No kept-alive connection outlives the test (the server thread would
    # answer on it after the database was handed back).
    smart.server.session.close()


def test_an_outside_system_reads_the_record(outside_system, ana):
    smart = outside_system
    smart.prepare()  # reads /metadata
    capability = smart.server.capabilityStatement
    assert capability.fhirVersion == "4.0.1"
    assert [r.type for r in capability.rest[0].resource][0] == "Patient"

    search = Patient.where(struct={"identifier": f"{HEALTH_CARD}|1234567890"})
    found = list(search.perform_resources_iter(smart.server))
    assert [patient.id for patient in found] == [str(ana.pk)]

    patient = Patient.read(str(ana.pk), smart.server)
    assert (patient.name[0].family, patient.birthDate.isostring) == ("Silva", "1990-05-17")
    assert patient.identifier[0].system == HEALTH_CARD

    bundle = Bundle(smart.server.request_json(f"Patient/{ana.pk}/$everything"))
    kinds = sorted(entry.resource.resource_type for entry in bundle.entry)
    assert kinds == [
        "CareTeam",
        "Consent",
        "DocumentReference",
        "DocumentReference",
        "Observation",
        "Patient",
        "ServiceRequest",
    ]
    assert all(entry.fullUrl for entry in bundle.entry)
    assert [label.code for label in bundle.meta.security] == ["REDACTED"]
    (observation,) = [e.resource for e in bundle.entry if e.resource.resource_type == "Observation"]
    assert (observation.code.coding[0].code, observation.valueInteger) == ("44261-6", 11)
    documents = [
        e.resource for e in bundle.entry if e.resource.resource_type == "DocumentReference"
    ]
    # The employment plan is withheld from the mental-health centre.
    assert sorted(d.content[0].attachment.title for d in documents) == [
        "Follow-up visit",
        "Intake call",
    ]


def test_an_outside_system_hears_404_and_401(outside_system, ana, outsider, live_server):
    import uuid

    smart = outside_system
    smart.prepare()
    with pytest.raises(FHIRNotFoundException):
        Patient.read(str(uuid.uuid4()), smart.server)
    smart.server.session.headers["Authorization"] = "Token not-a-token"
    with pytest.raises(FHIRUnauthorizedException):
        Patient.read(str(ana.pk), smart.server)
