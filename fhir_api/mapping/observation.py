"""Observation: an assessment (PHQ-9, GAD-7) — the total score as
`valueInteger` under the instrument's LOINC code, each answer as a component
under its item's LOINC code (docs/measures.md, docs/fhir.md).

A retracted assessment is `entered-in-error` with no value: its entry is a
tombstone for its readers, so its score and answers are too.
"""

from fhir_api.codes import (
    OBSERVATION_CATEGORY,
    OBSERVATION_ENTERED_IN_ERROR,
    OBSERVATION_FINAL,
    SEVERITY_SYSTEM,
    category_coding,
    coding,
)
from fhir_api.mapping.references import (
    instant,
    organization_reference,
    patient_reference,
    provider_reference,
    urn_identifier,
)
from measures.instruments import INSTRUMENTS, LOINC
from measures.models import Assessment
from records.models import Client


def observation(client: Client, assessment: Assessment) -> dict:
    instrument = INSTRUMENTS[assessment.instrument]
    entry = assessment.entry
    name = f"{instrument.name} total score"
    resource: dict = {
        "resourceType": "Observation",
        "id": str(assessment.pk),
        # The entry of the shared record the assessment is (its id in the REST API).
        "identifier": [urn_identifier(entry.pk)],
        "status": OBSERVATION_FINAL,
        "category": [
            {"coding": [coding(OBSERVATION_CATEGORY, "survey", "Survey")]},
            {"coding": [category_coding(entry.category)]},
        ],
        "code": {"coding": [coding(LOINC, instrument.loinc_total)], "text": name},
        "subject": patient_reference(client),
        "effectiveDateTime": instant(assessment.administered_at),
        "issued": instant(entry.created_at),
        "performer": [provider_reference(entry.author), organization_reference(entry.organization)],
    }
    if entry.retracted_at is not None:
        resource["status"] = OBSERVATION_ENTERED_IN_ERROR
        return resource
    band = instrument.band_of(assessment.score)
    resource["valueInteger"] = assessment.score
    resource["interpretation"] = [
        {"coding": [coding(SEVERITY_SYSTEM, band.severity, band.label)], "text": band.label}
    ]
    if entry.body:
        resource["note"] = [{"text": entry.body}]
    components = []
    for item, answer in zip(instrument.items, assessment.answers, strict=True):
        code: dict = {"text": item.text}
        if item.loinc:
            code["coding"] = [coding(LOINC, item.loinc)]
        components.append({"code": code, "valueInteger": answer})
    resource["component"] = components
    return resource
