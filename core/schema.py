"""The OpenAPI schema tells every status an operation can answer, not only its
success (docs/schema.md).

drf-spectacular describes what each view declares; the error statuses follow
from rules that hold for the whole API, so they are added here once rather than
repeated on some sixty operations. An operation can answer

- 401 and 403: it needs a signed-in caller (403: the role, organization or kind
  of account may not do this);
- 404: its path names something (missing and not yours alike), or it is
  paginated (a page past the end), or its view says a body's id can be unknown;
- 400: it takes a body or query parameters;
- 409: it writes (a state that does not allow it now, or a concurrent write
  that got there first);
- 413 and 415: it takes a body (over 2.5 MB; not JSON).

Every error body is JSON: `{"detail": "..."}` or the bad fields, each with its
messages. A view that declares a status itself (the token endpoint's 429)
keeps its own description.
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import AllowAny

_ERROR = ResolvedComponent(
    name="Error",
    type=ResolvedComponent.SCHEMA,
    object="Error",
    schema={
        "type": "object",
        "description": (
            'Why the request was refused: `{"detail": "..."}`, or each bad field with '
            "its messages (nested for nested input)."
        ),
        "properties": {
            "detail": {
                "oneOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"type": "string"}},
                ]
            }
        },
        "additionalProperties": True,
    },
)

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_DESCRIPTIONS = {
    "400": "Invalid input: each bad field named with its messages, or a detail.",
    "401": "No credentials, or credentials that are not (or no longer) valid.",
    "403": "Signed in, but this account's role, organization or kind may not do this.",
    "404": "Nothing by this id that the caller may see (missing and not yours alike).",
    "409": "Not allowed in the current state, or another write got there first.",
    "413": "The body is over 2.5 MB.",
    "415": "The body is not JSON.",
}


class CareLinkAutoSchema(AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for status in self._error_statuses(operation):
            responses.setdefault(status, self._error_response(status))
        return operation

    def _error_statuses(self, operation: dict) -> list[str]:
        parameters = operation.get("parameters", [])
        where = {parameter["in"] for parameter in parameters}
        has_body = "requestBody" in operation
        statuses = []
        if self._needs_a_caller():
            statuses += ["401", "403"]
        paginated = any(p["in"] == "query" and p["name"] == "page" for p in parameters)
        if "path" in where or paginated or getattr(self.view, "body_names_visible_rows", False):
            statuses.append("404")
        if has_body or "query" in where:
            statuses.append("400")
        if self.method in _WRITES:
            statuses.append("409")
        if has_body:
            statuses += ["413", "415"]
        return statuses

    def _needs_a_caller(self) -> bool:
        return not any(isinstance(each, AllowAny) for each in self.view.get_permissions())

    def _error_response(self, status: str) -> dict:
        self.registry.register_on_missing(_ERROR)
        return {
            "description": _DESCRIPTIONS[status],
            "content": {"application/json": {"schema": _ERROR.ref}},
        }
