"""What every resource writes alike: timestamps, ids, references to the
patient, to providers and to organizations."""

import base64
import uuid
from datetime import UTC, date, datetime
from typing import Any

from fhir_api.codes import ORGANIZATION_SYSTEM, PROVIDER_SYSTEM, URN_SYSTEM
from records.models import Client, Organization, Provider

# The CareTeam has no row of its own: its id is derived from the client's, the
# same on every read (UUID 5 in a namespace of ours).
_CARE_TEAM_NAMESPACE = uuid.UUID("6f1f6a52-4d0e-5b8e-9c34-5b1e0c7a2f10")


def instant(value: datetime) -> str:
    """A FHIR instant in UTC ("…Z"), as the REST API writes timestamps."""
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def fhir_date(value: date) -> str:
    return value.isoformat()


def urn(row_id: Any) -> str:
    return f"urn:uuid:{row_id}"


def urn_identifier(row_id: Any) -> dict:
    return {"system": URN_SYSTEM, "value": urn(row_id)}


def care_team_id(client: Client) -> str:
    return str(uuid.uuid5(_CARE_TEAM_NAMESPACE, str(client.pk)))


def patient_reference(client: Client) -> dict:
    return {"reference": f"Patient/{client.pk}", "display": f"{client}"}


def provider_reference(provider: Provider) -> dict:
    """A provider by our identifier (there is no Practitioner endpoint)."""
    return {
        "type": "Practitioner",
        "identifier": {"system": PROVIDER_SYSTEM, "value": str(provider.pk)},
        "display": provider.display_name,
    }


def organization_reference(organization: Organization) -> dict:
    return {
        "type": "Organization",
        "identifier": {"system": ORGANIZATION_SYSTEM, "value": str(organization.pk)},
        "display": organization.name,
    }


def base64_text(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")
