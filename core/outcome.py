"""How the FHIR face says an error: an `OperationOutcome` (docs/fhir.md, "Errors").

On the ground floor because two faces answer errors under /fhir/: the FHIR
views themselves (`fhir_api.api`), and the handlers for what Django rejects
before any view runs (`accounts.errors`: unknown URLs, bad hosts, bodies over
the limit). Both build the body here, so a client reads one shape either way.
"""

from collections.abc import Mapping, Sequence

from django.http import JsonResponse

FHIR_JSON = "application/fhir+json"

# The issue type (http://hl7.org/fhir/issue-type, R4) that says what each
# status means; a status not listed is "processing".
ISSUE_TYPE = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    413: "too-long",
    415: "not-supported",
    429: "throttled",
    500: "exception",
}


def issue_type(status: int) -> str:
    return ISSUE_TYPE.get(status, "processing")


def operation_outcome(
    status: int,
    detail: str | None = None,
    fields: Mapping[str, Sequence[str]] | None = None,
) -> dict:
    """The body of an error: one issue with `detail`, or one issue per message
    of each field (the query parameter or element), named in `expression`."""
    code = issue_type(status)
    issues = []
    for field, messages in (fields or {}).items():
        for message in messages:
            issue = {"severity": "error", "code": code, "diagnostics": str(message)}
            if field != "detail":
                issue["expression"] = [field]
            issues.append(issue)
    if not issues:
        issues.append({"severity": "error", "code": code, "diagnostics": detail or "Error."})
    return {"resourceType": "OperationOutcome", "issue": issues}


def outcome_response(status: int, detail: str) -> JsonResponse:
    return JsonResponse(operation_outcome(status, detail), status=status, content_type=FHIR_JSON)
