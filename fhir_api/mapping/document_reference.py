"""DocumentReference: every entry of the shared record that is not an
assessment, its text as an attachment.

An entry as the REST API shows it: the newest version (an amendment says
which entry it replaces), and a retracted entry as a tombstone — status
`entered-in-error`, who withdrew it and why, nothing of what it said.
"""

import json

from fhir_api.codes import (
    DOC_STATUS_AMENDED,
    DOC_STATUS_FINAL,
    DOCUMENT_CURRENT,
    DOCUMENT_ENTERED_IN_ERROR,
    category_coding,
    kind_concept,
)
from fhir_api.mapping.references import (
    base64_text,
    instant,
    organization_reference,
    patient_reference,
    provider_reference,
    urn_identifier,
)
from records.models import Client, Entry

TEXT = "text/plain; charset=utf-8"
JSON = "application/json"


def document_reference(client: Client, entry: Entry) -> dict:
    category = category_coding(entry.category)
    resource: dict = {
        "resourceType": "DocumentReference",
        "id": str(entry.pk),
        "masterIdentifier": urn_identifier(entry.pk),
        "status": DOCUMENT_CURRENT,
        "docStatus": DOC_STATUS_AMENDED if entry.amends_id else DOC_STATUS_FINAL,
        "type": kind_concept(entry.kind),
        "category": [{"coding": [category], "text": category["display"]}],
        "subject": patient_reference(client),
        "date": instant(entry.created_at),
        "author": [provider_reference(entry.author), organization_reference(entry.organization)],
        "custodian": organization_reference(entry.organization),
        # The consent category, as the Consent resources' provisions name it.
        "securityLabel": [{"coding": [category]}],
        "context": {"period": {"start": instant(entry.occurred_at)}},
    }
    if entry.amends_id:
        resource["relatesTo"] = [
            {"code": "replaces", "target": {"identifier": urn_identifier(entry.amends_id)}}
        ]
    if entry.retracted_at is not None:
        resource["status"] = DOCUMENT_ENTERED_IN_ERROR
        resource.pop("docStatus")
        by = entry.retracted_by.display_name if entry.retracted_by else "unknown"
        resource["description"] = (
            f"Retracted {instant(entry.retracted_at)} by {by}: {entry.retract_reason}"
        )
        resource["content"] = [{"attachment": {"contentType": TEXT}}]
        return resource
    resource["description"] = entry.title
    text: dict = {"contentType": TEXT, "title": entry.title, "creation": instant(entry.occurred_at)}
    if entry.body:
        text["data"] = base64_text(entry.body)
    resource["content"] = [{"attachment": text}]
    if entry.data:
        resource["content"].append(
            {
                "attachment": {
                    "contentType": JSON,
                    "title": "Structured data",
                    "data": base64_text(json.dumps(entry.data, ensure_ascii=False, sort_keys=True)),
                }
            }
        )
    return resource
