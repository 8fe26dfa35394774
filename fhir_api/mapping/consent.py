"""Consent: one per directive of the client, revoked and expired ones
included (`inactive`): permit or deny, the grantee (an organization, or every
organization of a sector) as the actor, the categories as security labels,
the validity as the provision's period."""

from datetime import datetime

from consent.models import ConsentDirective
from fhir_api.codes import (
    CONSENT_ACTIVE,
    CONSENT_INACTIVE,
    CONSENT_SCOPE,
    POLICY_RULE,
    PROVISION_TYPE,
    SECTOR_SYSTEM,
    V3_ACT_CODE,
    V3_PARTICIPATION_TYPE,
    category_coding,
    coding,
    sector_label,
)
from fhir_api.mapping.references import (
    instant,
    organization_reference,
    patient_reference,
    urn_identifier,
)
from measures.instruments import LOINC
from records.models import Client


def grantee_reference(directive: ConsentDirective) -> dict:
    if directive.grantee_organization_id is not None:
        return organization_reference(directive.grantee_organization)
    sector = sector_label(directive.grantee_sector)
    return {
        "identifier": {"system": SECTOR_SYSTEM, "value": directive.grantee_sector},
        "display": f"Every organization of the {sector.lower()} sector",
    }


def consent_status(directive: ConsentDirective, now: datetime) -> str:
    """Revoked or expired: inactive. Otherwise active — also while it waits
    for its `valid_from`, which the provision's period states."""
    ended = directive.revoked_at is not None or (
        directive.expires_at is not None and directive.expires_at <= now
    )
    return CONSENT_INACTIVE if ended else CONSENT_ACTIVE


def consent(client: Client, directive: ConsentDirective, now: datetime) -> dict:
    period = {"start": instant(directive.valid_from)}
    # The provision stopped applying at the first of its expiry and its revocation.
    ends = [at for at in (directive.expires_at, directive.revoked_at) if at is not None]
    if ends:
        period["end"] = instant(min(ends))
    resource: dict = {
        "resourceType": "Consent",
        "id": str(directive.pk),
        "identifier": [urn_identifier(directive.pk)],
        "status": consent_status(directive, now),
        "scope": {"coding": [coding(CONSENT_SCOPE, "patient-privacy", "Privacy Consent")]},
        "category": [{"coding": [coding(LOINC, "59284-0", "Patient Consent")]}],
        "patient": patient_reference(client),
        "dateTime": instant(directive.recorded_at),
        # The client decides; the provider who recorded it witnessed it.
        "performer": [patient_reference(client)],
        "policyRule": {"coding": [coding(V3_ACT_CODE, POLICY_RULE[directive.effect])]},
        "provision": {
            "type": PROVISION_TYPE[directive.effect],
            "period": period,
            "actor": [
                {
                    "role": {
                        "coding": [coding(V3_PARTICIPATION_TYPE, "IRCP", "information recipient")]
                    },
                    "reference": grantee_reference(directive),
                }
            ],
            "securityLabel": [category_coding(category) for category in directive.categories],
        },
    }
    recorder = directive.recorded_by
    if recorder is not None and recorder.organization_id is not None:
        resource["organization"] = [organization_reference(recorder.organization)]
    return resource
