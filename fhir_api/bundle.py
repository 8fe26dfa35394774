"""Bundles: `Patient/{id}/$everything` and the Patient search, as searchsets
whose every entry has a `fullUrl`.

The Patient's fullUrl is where it is read (`{base}/Patient/{id}`); the other
resources are served only inside the Bundle, so theirs are `urn:uuid:` names
(every one of their ids is a UUID) rather than URLs that would answer 404.
"""

import uuid
from collections.abc import Callable, Iterable

from django.utils import timezone

from fhir_api.codes import BUNDLE_SEARCHSET, REDACTED, SEARCH_INCLUDE, SEARCH_MATCH
from fhir_api.mapping.care_team import care_team
from fhir_api.mapping.consent import consent
from fhir_api.mapping.document_reference import document_reference
from fhir_api.mapping.observation import observation
from fhir_api.mapping.patient import patient
from fhir_api.mapping.references import instant, urn
from fhir_api.mapping.service_request import service_request
from fhir_api.selectors import PatientRecord
from records.models import Client

# The URL of a Patient resource, given its client (the view knows the host).
PatientUrl = Callable[[Client], str]


def _entry(full_url: str, resource: dict, mode: str) -> dict:
    return {"fullUrl": full_url, "resource": resource, "search": {"mode": mode}}


def _bundle(entries: list[dict], links: list[dict], redacted: bool = False, **extra) -> dict:
    meta: dict = {"lastUpdated": instant(timezone.now())}
    if redacted:
        meta["security"] = [REDACTED]
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": meta,
        "type": BUNDLE_SEARCHSET,
        **extra,
        "link": links,
        "entry": entries,
    }


def everything_bundle(record: PatientRecord, self_url: str, patient_url: PatientUrl) -> dict:
    client = record.client
    included = [
        care_team(client, record.care_team),
        *(observation(client, assessment) for assessment in record.assessments),
        *(document_reference(client, entry) for entry in record.documents),
        *(consent(client, directive, record.at) for directive in record.directives),
        *(service_request(client, referral) for referral in record.referrals),
    ]
    entries = [_entry(patient_url(client), patient(client), SEARCH_MATCH)]
    entries += [_entry(urn(resource["id"]), resource, SEARCH_INCLUDE) for resource in included]
    return _bundle(
        entries, [{"relation": "self", "url": self_url}], redacted=record.redacted, total=1
    )


def search_bundle(
    clients: Iterable[Client], total: int, links: list[dict], patient_url: PatientUrl
) -> dict:
    entries = [_entry(patient_url(client), patient(client), SEARCH_MATCH) for client in clients]
    return _bundle(entries, links, total=total)
