"""ServiceRequest: a referral the caller's organization is a party to —
status and intent mapped to FHIR's (CareLink's own status in an extension),
the service as the performer type, the receiving organization as the
performer."""

from fhir_api.codes import (
    REFERRAL_CODE,
    REFERRAL_INTENT,
    REFERRAL_PRIORITY,
    REFERRAL_STATUS,
    REFERRAL_STATUS_EXTENSION,
    SERVICE_SYSTEM,
    coding,
)
from fhir_api.mapping.references import (
    instant,
    organization_reference,
    patient_reference,
    urn_identifier,
)
from records.models import Client
from referrals.models import Referral


def service_request(client: Client, referral: Referral) -> dict:
    resource: dict = {
        "resourceType": "ServiceRequest",
        "id": str(referral.pk),
        "extension": [{"url": REFERRAL_STATUS_EXTENSION, "valueCode": referral.status}],
        "identifier": [urn_identifier(referral.pk)],
        "status": REFERRAL_STATUS[referral.status],
        "intent": REFERRAL_INTENT,
        "priority": REFERRAL_PRIORITY[referral.urgency],
        "code": REFERRAL_CODE,
        "subject": patient_reference(client),
        "authoredOn": instant(referral.created_at),
        "requester": organization_reference(referral.from_organization),
        "performer": [organization_reference(referral.to_organization)],
        "reasonCode": [{"text": referral.reason}],
    }
    if referral.service is not None:
        resource["performerType"] = {
            "coding": [coding(SERVICE_SYSTEM, str(referral.service.pk), referral.service.name)],
            "text": referral.service.name,
        }
    if referral.appointment_at is not None:
        resource["occurrenceDateTime"] = instant(referral.appointment_at)
    return resource
