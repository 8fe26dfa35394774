"""REST plumbing shared by every app's API: pagination, bounded timestamps, and
the one place that turns errors into responses (docs/architecture.md)."""

from datetime import UTC, datetime
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError, InvalidInput, TooManyAttempts


def _from_one(raw: str, at_most: int | None = None) -> bool:
    """A whole number from 1 (up to `at_most`), written in ASCII digits."""
    if not (raw.isascii() and raw.isdecimal()) or int(raw) < 1:
        return False
    return at_most is None or int(raw) <= at_most


class Pagination(PageNumberPagination):
    page_size = 50
    # 100 rows of access events stay within one INSERT on every SQLite Django
    # supports (999 parameters before Django 6), so a list is one bulk insert.
    max_page_size = 100
    page_size_query_param = "page_size"

    def paginate_queryset(
        self, queryset: Any, request: Request, view: Any = None, count: int | None = None
    ) -> list | None:
        """A page that is not a whole number from 1 is invalid input (400, naming
        `page`); a page past the end is DRF's 404. `count`: the queryset's exact
        count when the caller already has it (read with another figure in one
        query), so the page does not count again."""
        if count is not None:
            self.django_paginator_class = partial(_CountedPaginator, count=count)
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw not in self.last_page_strings and not _from_one(raw, 10**9):
            raise exceptions.ValidationError(
                {self.page_query_param: ["A page is a whole number from 1."]}
            )
        raw_size = request.query_params.get(self.page_size_query_param)
        if raw_size is not None and not _from_one(raw_size):
            raise exceptions.ValidationError(
                {self.page_size_query_param: ["A page size is a whole number from 1."]}
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


# The page's query parameters, for views that describe their page by hand
# (`page_schema`); views with `pagination_class` get them from drf-spectacular.
PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="A page number from 1."),
    OpenApiParameter("page_size", int, description="Rows per page, from 1 (at most 100)."),
]


def page_schema(name: str, results: serializers.Serializer, **extra: serializers.Field) -> Any:
    """The schema of a page that carries more than its rows (`withheld_count`,
    `summary`): the envelope of `Pagination`, the extra fields, the results."""
    return inline_serializer(
        name,
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            **extra,
            "results": results,
        },
    )


class _CountedPaginator(Paginator):
    """Django's paginator told the count it would otherwise ask the database."""

    def __init__(self, *args: Any, count: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.__dict__["count"] = count  # `count` is a cached property


def paginate(
    request: Request,
    view: Any,
    queryset: Any,
    serializer_class: type,
    count: int | None = None,
    **extra: Any,
) -> tuple[Response, list]:
    """One page of `queryset`, serialized; also the page's rows (to audit them).
    `count`: see `Pagination.paginate_queryset`."""
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, request, view=view, count=count)
    data = serializer_class(page, many=True, context={"request": request}).data
    return paginator.get_paginated_response(data, **extra), page


def json_object(request: Request) -> dict:
    if not isinstance(request.data, dict):
        raise exceptions.ValidationError({"detail": "Send a JSON object."})
    return request.data


def choice_filter(request: Request, name: str, choices: list[str]) -> str | None:
    """An unknown filter value is a 400 naming the parameter, never an empty list."""
    if name not in request.query_params:
        return None
    value = request.query_params[name]
    if value not in choices:
        raise exceptions.ValidationError(
            {name: [f'"{value}" is not valid here. Use one of: {", ".join(choices)}.']}
        )
    return value


def check_input(check: Any, **values: Any) -> None:
    """Run a domain rule (a service's `check_…` function) inside a serializer's
    validation, so its errors join the serializer's by field."""
    try:
        check(**values)
    except InvalidInput as error:
        raise serializers.ValidationError(error.fields) from None


class Text(serializers.CharField):
    """Text is a JSON string: DRF's own field also takes a number and writes it as
    text, which the schema (`type: string`) says is invalid input. Every text
    field a serializer reads is this one (`CoreConfig.ready` maps the model's)."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class UTCDateTimeField(serializers.DateTimeField):
    """A timestamp the API writes in UTC ("…Z"), whatever the clinic's time zone:
    an old date in the clinic's zone can carry an offset that is not a whole
    minute (local mean time before 1883), which no client parses. Input keeps
    DRF's reading (an offset-less value means the clinic's time). Every
    model timestamp is this field (`CoreConfig.ready`)."""

    def to_representation(self, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            text = value.astimezone(UTC).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return super().to_representation(value)


# A timestamp as every model timestamp field of the API writes it (UTC, "…Z"),
# for serializers that write their rows straight out.
utc_text = UTCDateTimeField().to_representation


class BoundedDateTimeField(UTCDateTimeField):
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


class OrganizationRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = Text()
    sector = Text()


class ProviderRef(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = Text(source="display_name")


class _Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, plus the application error: 400 by field, 403, 409, 429."""
    if isinstance(exc, InvalidInput):
        exc = exceptions.ValidationError(exc.fields)
    elif isinstance(exc, TooManyAttempts):
        exc = exceptions.Throttled(wait=exc.retry_after, detail=exc.message)
    elif isinstance(exc, ApplicationError):
        if exc.status_code == status.HTTP_403_FORBIDDEN:
            exc = exceptions.PermissionDenied(exc.message)
        elif exc.status_code == status.HTTP_409_CONFLICT:
            exc = _Conflict(exc.message)
        else:
            exc = exceptions.ValidationError({"detail": exc.message})
    elif isinstance(exc, DjangoValidationError):
        # A model field's own validator (the admin's path); services raise InvalidInput.
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
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
