"""What the FHIR tests share: validating a resource with the R4B models of
`fhir.resources`, checking its coded values against their FHIR R4 value sets
(the parser checks structure, not codes), and reading every text a response
carries — attachments decoded — to prove something is not in it."""

import base64
import json
from collections.abc import Iterator
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

FHIR_JSON = "application/fhir+json"

# The R4 value sets of every coded element the API writes (required bindings).
VALUE_SETS: dict[tuple[str, str], set[str]] = {
    ("Bundle", "type"): {
        "document",
        "message",
        "transaction",
        "transaction-response",
        "batch",
        "batch-response",
        "history",
        "searchset",
        "collection",
    },
    ("Patient", "gender"): {"male", "female", "other", "unknown"},
    ("CareTeam", "status"): {"proposed", "active", "suspended", "inactive", "entered-in-error"},
    ("Observation", "status"): {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    },
    ("DocumentReference", "status"): {"current", "superseded", "entered-in-error"},
    ("DocumentReference", "docStatus"): {"preliminary", "final", "amended", "entered-in-error"},
    ("Consent", "status"): {
        "draft",
        "proposed",
        "active",
        "rejected",
        "inactive",
        "entered-in-error",
    },
    ("ServiceRequest", "status"): {
        "draft",
        "active",
        "on-hold",
        "revoked",
        "completed",
        "entered-in-error",
        "unknown",
    },
    ("ServiceRequest", "intent"): {
        "proposal",
        "plan",
        "directive",
        "order",
        "original-order",
        "reflex-order",
        "filler-order",
        "instance-order",
        "option",
    },
    ("ServiceRequest", "priority"): {"routine", "urgent", "asap", "stat"},
    ("CapabilityStatement", "status"): {"draft", "active", "retired", "unknown"},
    ("CapabilityStatement", "kind"): {"instance", "capability", "requirements"},
}
SEARCH_MODES = {"match", "include", "outcome"}
PROVISION_TYPES = {"deny", "permit"}
ISSUE_SEVERITIES = {"fatal", "error", "warning", "information"}


def validate(resource: dict) -> Any:
    """Parse with the R4B model of its type (a Bundle parses its entries too)
    and check every coded status, intent, gender and Bundle type."""
    model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    for each in walk_resources(resource):
        check_codes(each)
    return model


def walk_resources(resource: dict) -> Iterator[dict]:
    yield resource
    for entry in resource.get("entry", []) if resource["resourceType"] == "Bundle" else []:
        assert entry.get("fullUrl"), entry
        assert entry.get("search", {}).get("mode", "match") in SEARCH_MODES
        yield from walk_resources(entry["resource"])


def check_codes(resource: dict) -> None:
    kind = resource["resourceType"]
    for (resource_type, element), allowed in VALUE_SETS.items():
        if resource_type == kind and element in resource:
            assert resource[element] in allowed, (kind, element, resource[element])
    if kind == "Consent":
        assert resource["provision"]["type"] in PROVISION_TYPES
    if kind == "OperationOutcome":
        assert all(issue["severity"] in ISSUE_SEVERITIES for issue in resource["issue"])


def texts(value: Any) -> Iterator[str]:
    """Every string in a JSON value, and every attachment's data decoded."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            if key == "data" and isinstance(inner, str):
                yield base64.b64decode(inner).decode("utf-8")
            yield from texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from texts(inner)
    elif isinstance(value, str):
        yield value


def carries(document: dict, needle: str) -> bool:
    """Whether `needle` is anywhere in the document: in any field, in any
    decoded attachment, or in the serialized JSON itself."""
    return needle in json.dumps(document, ensure_ascii=False) or any(
        needle in text for text in texts(document)
    )


def resources_of(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def is_redacted(bundle: dict) -> bool:
    return any(
        label.get("code") == "REDACTED"
        and label.get("system") == "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
        for label in bundle.get("meta", {}).get("security", [])
    )
