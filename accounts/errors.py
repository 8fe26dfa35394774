"""Errors that the framework answers before (or instead of) a view: JSON under
the API, HTML pages elsewhere.

DRF answers JSON for everything its views reject. What Django itself rejects —
an unknown URL, a bad Host header, a CSRF failure, a suspicious request, a body
over the size limit, an account lockout by django-axes — would otherwise be an
HTML page even under /api/. These handlers give the API's `{"detail": ...}`
there, and under /fhir/ the FHIR error, an `OperationOutcome`
(`core.outcome`), with the same status code the page would have.
"""

import math
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import csrf, defaults

from core.outcome import outcome_response

# Paths whose clients are programs: /api/ and the FHIR endpoints.
FHIR_PREFIX = "/fhir/"
JSON_PREFIXES = ("/api/", FHIR_PREFIX)


def wants_json(request: HttpRequest) -> bool:
    return request.path_info.startswith(JSON_PREFIXES)


def json_error(status: int, detail: str, request: HttpRequest | None = None) -> JsonResponse:
    """`{"detail"}` under /api/; an OperationOutcome under /fhir/."""
    if request is not None and request.path_info.startswith(FHIR_PREFIX):
        return outcome_response(status, detail)
    return JsonResponse({"detail": detail}, status=status)


TOO_LARGE = "The request body is over the limit of {limit}."


def _limit_text() -> str:
    return f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024):g} MB"


def request_too_large(request: HttpRequest) -> HttpResponse:
    detail = TOO_LARGE.format(limit=_limit_text())
    if wants_json(request):
        return json_error(413, detail, request)
    return render(request, "accounts/too_large.html", {"detail": detail}, status=413)


class BodySizeLimitMiddleware:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused with 413 before anything
    reads it. Django itself would raise RequestDataTooBig only when a view reads
    the body, and answer a 400 page (DRF's parsers do not check the size at all)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return request_too_large(request)
        return self.get_response(request)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        return request_too_large(request)
    if wants_json(request):
        return json_error(400, "Bad request.", request)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        # Our own refusals say why (the portal's wall); anything else says no more.
        said = str(exception) if isinstance(exception, PermissionDenied) else ""
        return json_error(
            403, said or "You do not have permission to perform this action.", request
        )
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return json_error(404, "Not found.", request)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if wants_json(request):
        return json_error(500, "Server error.", request)
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if wants_json(request):
        return json_error(403, f"CSRF failed: {reason}" if reason else "CSRF failed.", request)
    return csrf.csrf_failure(request, reason=reason)


def account_locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """django-axes' per-(username, address) lockout, as JSON under the API."""
    cool_off = settings.AXES_COOLOFF_TIME
    seconds = math.ceil(cool_off.total_seconds()) if cool_off else None
    if wants_json(request):
        response: HttpResponse = json_error(
            429,
            "Too many failed sign-ins for this account from this address; try again later.",
            request,
        )
    else:
        username = (credentials or {}).get("username") or ""
        context = {"username": username, "cooloff_timedelta": cool_off}
        response = render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=429)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
