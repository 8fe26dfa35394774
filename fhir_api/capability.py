"""The CapabilityStatement: exactly what this server does, and nothing more
(docs/fhir.md)."""

from fhir_api.codes import CAPABILITY_KIND, CAPABILITY_STATUS, FHIR_VERSION, HEALTH_CARD_SYSTEM

RELEASE_DATE = "2026-12-04"

SECURITY = (
    "Every interaction but this statement needs authentication: "
    "`Authorization: Token <token>` with a token from POST /api/v1/auth/token/, or a "
    "signed-in session. The same consent rules and audit as the REST API apply: a "
    "client not on the caller's care teams answers 404, as an unknown id does; client "
    "(portal) accounts are refused (403)."
)

EVERYTHING = (
    "The Patient, its CareTeam, one Observation per assessment (PHQ-9, GAD-7) and one "
    "DocumentReference per other entry the caller may see, one Consent per directive "
    "(revoked and expired ones inactive) and one ServiceRequest per referral of the "
    "caller's organization. Withheld entries appear in no form; when the client has an "
    "entry the caller does not receive, Bundle.meta.security carries REDACTED "
    "(v3-ObservationValue). No parameters."
)

# Resources that appear only inside Patient/$everything: no interaction of their own.
ONLY_IN_EVERYTHING = ["CareTeam", "Consent", "DocumentReference", "Observation", "ServiceRequest"]


def capability_statement(base_url: str) -> dict:
    return {
        "resourceType": "CapabilityStatement",
        "status": CAPABILITY_STATUS,
        "date": RELEASE_DATE,
        "publisher": "CareLink",
        "kind": CAPABILITY_KIND,
        "software": {"name": "CareLink"},
        "implementation": {
            "description": "CareLink FHIR R4 read API",
            "url": base_url,
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Read-only. JSON only (application/fhir+json).",
                "security": {"cors": False, "description": SECURITY},
                "resource": [
                    {
                        "type": "Patient",
                        "interaction": [
                            {"code": "read"},
                            {
                                "code": "search-type",
                                "documentation": "Over the caller's clients only.",
                            },
                        ],
                        "searchParam": [
                            {
                                "name": "identifier",
                                "type": "token",
                                "documentation": (
                                    f"system|value or value: the health card number "
                                    f"({HEALTH_CARD_SYSTEM}), with or without dashes and spaces."
                                ),
                            },
                            {
                                "name": "family",
                                "type": "string",
                                "documentation": "Starts with, case-insensitive.",
                            },
                            {
                                "name": "birthdate",
                                "type": "date",
                                "documentation": "YYYY, YYYY-MM or YYYY-MM-DD; prefix eq only.",
                            },
                            {
                                "name": "_count",
                                "type": "number",
                                "documentation": "Page size, 1–100 (default 50).",
                            },
                        ],
                        "operation": [
                            {
                                "name": "everything",
                                "definition": (
                                    "http://hl7.org/fhir/OperationDefinition/Patient-everything"
                                ),
                                "documentation": EVERYTHING,
                            }
                        ],
                    },
                    *(
                        {"type": name, "documentation": "Only inside Patient/$everything."}
                        for name in ONLY_IN_EVERYTHING
                    ),
                ],
            }
        ],
    }
