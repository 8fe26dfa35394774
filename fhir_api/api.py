"""The FHIR R4 read API's views (docs/fhir.md). Thin, as every face: a view
authenticates, refuses client accounts, resolves the client through the gate,
asks one selector, audits once, and maps.

Errors are OperationOutcomes with the REST API's status codes and order:
401, then 404 (a client off the caller's care teams is an unknown id), then
403, then 400 (a bad search parameter, named in `expression`).
"""

import calendar
import re
from datetime import date
from typing import Any

from django.core.paginator import EmptyPage, Paginator
from django.urls import reverse
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.lookups import access_client
from core.audit import Action, record_access
from core.errors import InvalidInput, NotAllowed
from core.outcome import FHIR_JSON, operation_outcome
from core.permissions import is_client_account
from core.rest import exception_handler
from fhir_api.bundle import everything_bundle, search_bundle
from fhir_api.capability import capability_statement
from fhir_api.codes import HEALTH_CARD_SYSTEM
from fhir_api.mapping.patient import patient
from fhir_api.selectors import PatientSearch, patient_record, search_patients
from records.models import Client


class FhirJSONRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "json"


class AlwaysFhirJSON(BaseContentNegotiation):
    """JSON is the one format served (the CapabilityStatement says so): every
    Accept header gets it, rather than a 406 for `application/json` or `*/*`."""

    def select_parser(self, request: Request, parsers: list) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: list, format_suffix: Any = None):
        return renderers[0], renderers[0].media_type


def fhir_exception_handler(exc: Exception, context: dict) -> Response | None:
    """The API's handler (same statuses, same wording), its body made an
    OperationOutcome; the headers (WWW-Authenticate, Retry-After) stay."""
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and set(data) == {"detail"}:
        body = operation_outcome(response.status_code, str(data["detail"]))
    elif isinstance(data, dict):
        fields = {
            name: [str(m) for m in (messages if isinstance(messages, list) else [messages])]
            for name, messages in data.items()
        }
        body = operation_outcome(response.status_code, fields=fields)
    else:
        body = operation_outcome(response.status_code, "; ".join(map(str, data)))
    response.data = body
    return response


CLIENT_ACCOUNTS = "Client accounts do not use the FHIR API; the portal shows your record."


class FhirView(APIView):
    renderer_classes = [FhirJSONRenderer]
    parser_classes: list = []
    content_negotiation_class = AlwaysFhirJSON
    # Not part of the OpenAPI contract: the CapabilityStatement describes it.
    schema = None
    # Read only; OPTIONS too is a 405 (DRF's answer to it is no FHIR resource).
    http_method_names = ["get", "head"]
    # Every path but the metadata refuses client (portal) accounts.
    for_client_accounts = False

    def get_exception_handler(self) -> Any:
        return fhir_exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not self.for_client_accounts and is_client_account(request.user):
            raise NotAllowed(CLIENT_ACCOUNTS)

    def patient_url(self, client: Client) -> str:
        return self.request.build_absolute_uri(reverse("fhir-patient", args=[client.pk]))


def refuse_parameters(request: Request, allowed: set[str]) -> None:
    """A parameter this server does not handle is a 400 naming it, never
    silently ignored (a client would take an unfiltered answer for a filtered one)."""
    unknown = sorted(set(request.query_params) - allowed - {"_format"})
    errors = {name: [f"{name} is not supported here."] for name in unknown}
    form = request.query_params.get("_format")
    if form is not None and form not in ("json", "application/json", FHIR_JSON):
        errors["_format"] = ["Only JSON is served (json, application/fhir+json)."]
    if errors:
        raise InvalidInput(errors)


class MetadataView(FhirView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    for_client_accounts = True

    def get(self, request: Request) -> Response:
        refuse_parameters(request, {"mode"})
        base = request.build_absolute_uri(reverse("fhir-metadata")).removesuffix("metadata")
        return Response(capability_statement(base))


class PatientReadView(FhirView):
    def get(self, request: Request, client_id: str) -> Response:
        client = access_client(request.user, client_id)
        refuse_parameters(request, set())
        record_access(request.user, client, Action.CLIENT_READ)
        return Response(patient(client))


class PatientEverythingView(FhirView):
    def get(self, request: Request, client_id: str) -> Response:
        client = access_client(request.user, client_id)
        refuse_parameters(request, set())
        record = patient_record(request.user, client)
        record_access(request.user, client, Action.RECORD_EXPORT)
        return Response(everything_bundle(record, request.build_absolute_uri(), self.patient_url))


# --- search -----------------------------------------------------------------------------

SEARCH_PARAMETERS = {"identifier", "family", "birthdate", "_count", "page"}
_PARTIAL_DATE = re.compile(r"(?:eq)?(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def _one(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidInput({name: [f"Give {name} once (commas separate alternatives)."]})
    if not values[0].strip() or "\x00" in values[0] or len(values[0]) > 200:
        raise InvalidInput({name: [f"{name} needs a value, at most 200 characters."]})
    return values[0]


def _health_cards(text: str) -> list[str]:
    """`system|value` or `value`, comma-separated: the numbers of health cards
    in our system. Another system names none of ours (no match, no error)."""
    cards = []
    for token in text.split(","):
        system, bar, value = token.rpartition("|")
        if not value:
            raise InvalidInput({"identifier": ["Give a value: system|value or value."]})
        if bar and system != HEALTH_CARD_SYSTEM:
            continue
        cards.append(value)
    return cards


def _families(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise InvalidInput({"family": ["Give a family name (commas separate alternatives)."]})
    return names


def _birth_dates(text: str) -> tuple[date, date]:
    """A FHIR date search value: a day, a month or a year (its first and last
    day), with no prefix or `eq`."""
    match = _PARTIAL_DATE.fullmatch(text)
    try:
        if match is None:
            raise ValueError
        year, month, day = (int(part) if part else None for part in match.groups())
        if month is None:
            return date(year, 1, 1), date(year, 12, 31)
        if day is None:
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        return date(year, month, day), date(year, month, day)
    except ValueError:
        raise InvalidInput(
            {"birthdate": ["Give a date as YYYY-MM-DD, YYYY-MM or YYYY (prefix eq only)."]}
        ) from None


def _count(request: Request) -> int:
    text = _one(request, "_count")
    if text is None:
        return 50
    if not (text.isascii() and text.isdecimal() and 1 <= int(text) <= 100):
        raise InvalidInput({"_count": ["_count is a whole number from 1 to 100."]})
    return int(text)


def _page_number(request: Request) -> int:
    text = _one(request, "page")
    if text is None:
        return 1
    if not (text.isascii() and text.isdecimal() and 1 <= int(text) <= 10**9):
        raise InvalidInput({"page": ["A page is a whole number from 1."]})
    return int(text)


def parse_search(request: Request) -> PatientSearch:
    refuse_parameters(request, SEARCH_PARAMETERS)
    identifier = _one(request, "identifier")
    family = _one(request, "family")
    birthdate = _one(request, "birthdate")
    born = _birth_dates(birthdate) if birthdate is not None else (None, None)
    return PatientSearch(
        health_cards=_health_cards(identifier) if identifier is not None else None,
        families=_families(family) if family is not None else None,
        born_from=born[0],
        born_until=born[1],
    )


class PatientSearchView(FhirView):
    def get(self, request: Request) -> Response:
        search = parse_search(request)
        size = _count(request)
        number = _page_number(request)
        paginator = Paginator(search_patients(request.user, search), size)
        try:
            page = paginator.page(number)
        except EmptyPage:
            raise exceptions.NotFound("No such page.") from None
        clients = list(page.object_list)
        record_access(request.user, clients, Action.CLIENT_SEARCH)
        return Response(
            search_bundle(clients, paginator.count, self._links(page), self.patient_url)
        )

    def _links(self, page: Any) -> list[dict]:
        def at(number: int) -> str:
            query = self.request.query_params.copy()
            query["page"] = str(number)
            return self.request.build_absolute_uri(f"{self.request.path}?{query.urlencode()}")

        links = [{"relation": "self", "url": at(page.number)}]
        if page.has_next():
            links.append({"relation": "next", "url": at(page.next_page_number())})
        if page.has_previous():
            links.append({"relation": "previous", "url": at(page.previous_page_number())})
        return links
