"""An outside record system reads CareLink with `fhirclient` (the SMART on
FHIR Python client), over real HTTP to a live server: the capability
statement first, then a search by health card number, the Patient, and
$everything — each parsed by fhirclient's own R4 models, which refuse
anything that is not FHIR."""

import pytest
import requests
from fhirclient import client as fhir_client
from fhirclient.models.bundle import Bundle
from fhirclient.models.patient import Patient
from fhirclient.server import FHIRNotFoundException, FHIRUnauthorizedException

from consent.services import record_consent
from measures.services import record_assessment
from records.services import create_entry
from referrals.services import refer_client

HEALTH_CARD = "https://carelink.example.org/fhir/sid/health-card-number"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def outside_system(live_server, ana, dr_lee, intake_kim, emp_jo):
    record_consent(
        provider=dr_lee,
        client=ana,
        effect="permit",
        grantee_sector="mental_health",
        categories=["general_health", "mental_health"],
    )
    create_entry(client=ana, author=dr_lee, category="general_health", kind="note", title="Visit")
    create_entry(
        client=ana,
        author=emp_jo,
        category="employment",
        kind="care_plan",
        title="Return-to-work plan",
        body="Bookkeeping, part time.",
    )
    record_assessment(provider=dr_lee, client=ana, instrument="gad7", answers=[1, 2, 1, 0, 1, 2, 1])
    refer_client(
        provider=dr_lee,
        client=ana,
        to_organization=intake_kim.organization,
        reason="CBT.",
        urgency="routine",
    )
    token = requests.post(
        f"{live_server.url}/api/v1/auth/token/",
        json={"username": "intake_kim", "password": PASSWORD},
        timeout=10,
    ).json()["token"]
    smart = fhir_client.FHIRClient(
        settings={"app_id": "family-practice-emr", "api_base": f"{live_server.url}/fhir/R4/"}
    )
    smart.server.session.headers["Authorization"] = f"Token {token}"
    return smart


def test_an_outside_system_reads_the_record(outside_system, ana):
    smart = outside_system
    smart.prepare()  # reads /metadata
    capability = smart.server.capabilityStatement
    assert capability.fhirVersion == "4.0.1"
    assert [r.type for r in capability.rest[0].resource][0] == "Patient"

    found = Patient.where(struct={"identifier": f"{HEALTH_CARD}|1234567890"}).perform_resources(
        smart.server
    )
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
        "Observation",
        "Patient",
        "ServiceRequest",
    ]
    assert all(entry.fullUrl for entry in bundle.entry)
    assert [label.code for label in bundle.meta.security] == ["REDACTED"]
    (observation,) = [e.resource for e in bundle.entry if e.resource.resource_type == "Observation"]
    assert (observation.code.coding[0].code, observation.valueInteger) == ("70274-6", 8)
    (document,) = [
        e.resource for e in bundle.entry if e.resource.resource_type == "DocumentReference"
    ]
    assert document.content[0].attachment.title == "Visit"


def test_an_outside_system_hears_404_and_401(outside_system, ana, outsider, live_server):
    import uuid

    smart = outside_system
    smart.prepare()
    with pytest.raises(FHIRNotFoundException):
        Patient.read(str(uuid.uuid4()), smart.server)
    smart.server.session.headers["Authorization"] = "Token not-a-token"
    with pytest.raises(FHIRUnauthorizedException):
        Patient.read(str(ana.pk), smart.server)
