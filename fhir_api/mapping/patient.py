"""Patient: the client's demographics (rule 1 decided whether the caller gets them)."""

from fhir_api.codes import HEALTH_CARD_SYSTEM, V2_IDENTIFIER_TYPE, coding
from fhir_api.mapping.references import fhir_date
from records.models import Client


def patient(client: Client) -> dict:
    resource: dict = {
        "resourceType": "Patient",
        "id": str(client.pk),
        "active": True,
        "name": [
            {
                "use": "official",
                "text": f"{client.given_name} {client.family_name}",
                "family": client.family_name,
                "given": [client.given_name],
            }
        ],
        "birthDate": fhir_date(client.birth_date),
    }
    if client.health_card_number:
        resource["identifier"] = [
            {
                "use": "official",
                "type": {
                    # JHN: a jurisdictional health number (Canada).
                    "coding": [coding(V2_IDENTIFIER_TYPE, "JHN", "Jurisdictional health number")],
                    "text": "Health card number",
                },
                "system": HEALTH_CARD_SYSTEM,
                "value": client.health_card_number,
            }
        ]
    telecom = []
    if client.phone:
        telecom.append({"system": "phone", "value": client.phone})
    if client.email:
        telecom.append({"system": "email", "value": client.email})
    if telecom:
        resource["telecom"] = telecom
    return resource
