"""CareTeam: who is on the client's case now, each with the organization they
are on it for."""

from collections.abc import Iterable

from core.vocabulary import Role
from fhir_api.codes import role_coding
from fhir_api.mapping.references import (
    care_team_id,
    instant,
    organization_reference,
    patient_reference,
    provider_reference,
)
from records.models import CareTeamMembership, Client


def care_team(client: Client, memberships: Iterable[CareTeamMembership]) -> dict:
    participants = []
    organizations: dict = {}
    for membership in memberships:
        provider = membership.provider
        participant: dict = {
            "member": provider_reference(provider),
            "onBehalfOf": organization_reference(membership.organization),
            "period": {"start": instant(membership.since)},
        }
        if provider.role:
            participant["role"] = [
                {"coding": [role_coding(provider.role)], "text": Role(provider.role).label}
            ]
        participants.append(participant)
        organizations.setdefault(membership.organization_id, membership.organization)
    resource: dict = {
        "resourceType": "CareTeam",
        "id": care_team_id(client),
        # http://hl7.org/fhir/care-team-status: the team as it stands now.
        "status": "active",
        "name": f"Care team of {client}",
        "subject": patient_reference(client),
    }
    if participants:
        resource["participant"] = participants
        resource["managingOrganization"] = [
            organization_reference(organization) for organization in organizations.values()
        ]
    return resource
