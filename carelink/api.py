"""Shared API plumbing: pagination, errors, and the client gate every
client-scoped endpoint goes through before anything else."""

from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from carelink.ids import parse_uuid
from consent.selectors import visible_clients
from consent.services import TransitionNotAllowed
from records.models import Client, Provider


class Pagination(PageNumberPagination):
    page_size = 50
    # 100 rows of access events stay within one INSERT on every SQLite Django
    # supports (999 parameters before Django 6), so a list is one bulk insert.
    max_page_size = 100
    page_size_query_param = "page_size"

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list | None:
        """A page that is not a whole number from 1 is invalid input (400, naming
        `page`); a page past the end is DRF's 404."""
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw not in self.last_page_strings:
            if not (raw.isascii() and raw.isdecimal() and 1 <= int(raw) <= 10**9):
                raise exceptions.ValidationError(
                    {self.page_query_param: ["A page is a whole number from 1."]}
                )
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: Any, **extra: Any) -> Response:
        return Response(
            {
                "count": self.page.paginator.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                **extra,
                "results": data,
            }
        )


class BoundedDateTimeField(serializers.DateTimeField):
    """A timestamp that also fits once converted to UTC, as the database stores it.

    DRF accepts e.g. 9999-12-31T23:59:59 local time, whose conversion overflows
    (a 500 at save, or inside DRF itself); here it is a 400 like any bad date."""

    def to_internal_value(self, value: Any) -> datetime:
        try:
            parsed = super().to_internal_value(value)
            parsed.astimezone(UTC)
        except OverflowError:
            self.fail("overflow")
        return parsed


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This change is not allowed in the current state."
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, plus our domain errors: a disallowed transition is 409,
    a model validation error 400, a lost race on a unique constraint 409."""
    if isinstance(exc, TransitionNotAllowed):
        exc = Conflict(str(exc))
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    elif isinstance(exc, IntegrityError):
        exc = Conflict("This change conflicts with the current state; reload and try again.")
    elif isinstance(exc, RecursionError) and _raised_by_a_parser(exc):
        # json raises RecursionError, not ValueError, on very deeply nested input,
        # and DRF's parsers turn only ValueError into a 400.
        exc = exceptions.ParseError("JSON parse error - the body is nested too deeply.")
    return drf_exception_handler(exc, context)


def _raised_by_a_parser(exc: BaseException) -> bool:
    trace = exc.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename.endswith("rest_framework/parsers.py"):
            return True
        trace = trace.tb_next
    return False


NO_CLIENT = "No client found."


def resolve_client(provider: Provider, client_id: Any) -> Client:
    """Rule 1 as a lookup: a client off the caller's care teams does not exist for them."""
    client = visible_clients(provider).filter(pk=parse_uuid(client_id, NO_CLIENT)).first()
    if client is None:
        raise Http404(NO_CLIENT)
    return client


class ClientScopedView(APIView):
    """Base for every endpoint under /clients/{client_id}/.

    `initial()` authenticates, then resolves the client through the consent gate
    before any handler runs, so a view cannot forget the check: an unknown id and
    a client off the care team both answer 404 (rule 1), before 403 and 400.
    """

    permission_classes = [IsAuthenticated]
    client: Client
    # Views that superusers may also use for any client (the access log).
    allow_superuser = False

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.allow_superuser and request.user.is_superuser:
            client = Client.objects.filter(
                pk=parse_uuid(kwargs.get("client_id"), NO_CLIENT)
            ).first()
            if client is None:
                raise Http404(NO_CLIENT)
            self.client = client
        else:
            self.client = resolve_client(request.user, kwargs.get("client_id"))

    def paginate(
        self, queryset: Any, serializer_class: type, **extra: Any
    ) -> tuple[Response, list]:
        """One page of `queryset`, serialized; also the page's rows (to audit them)."""
        paginator = Pagination()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        data = serializer_class(page, many=True, context={"request": self.request}).data
        return paginator.get_paginated_response(data, **extra), page


def require_organization(provider: Provider) -> None:
    """Writes under a client are for providers of organizations, never system admins."""
    if provider.organization_id is None:
        raise exceptions.PermissionDenied("Only providers of an organization may do this.")
