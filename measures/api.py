"""REST API v1 of the measures app: a client's assessments, the instruments,
and the organization's registry (docs/measures.md). Serializers translate;
`measures.services` decides; reads come from `measures.selectors`, which stand
on the consent engine."""

from typing import Any

from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.rest import ClientScopedView
from consent.selectors import entry_visibility_q
from core.audit import Action, record_access
from core.errors import NotAllowed
from core.permissions import may_read_entries
from core.rest import (
    PAGE_PARAMETERS,
    BoundedDateTimeField,
    OrganizationRef,
    Pagination,
    ProviderRef,
    Text,
    UTCDateTimeField,
    check_input,
    choice_filter,
    page_schema,
)
from measures import services
from measures.instruments import INSTRUMENTS, Instrument, instrument_codes, instrument_named
from measures.models import Assessment, RegistryStatus
from measures.selectors import (
    STATUS_ORDER,
    RegistryRows,
    access_assessment,
    assessment_withheld_count,
    registry,
    visible_assessments,
)
from records.models import Client

NOT_FOR_YOUR_ROLE = "Your role does not read assessments or the registry."


def require_entry_reader(user: Any) -> None:
    """403 for accounts whose role does not read the record (after the gate's 404)."""
    if not may_read_entries(user):
        raise NotAllowed(NOT_FOR_YOUR_ROLE)


def instrument_filter(request: Request, *, required: bool) -> Instrument | None:
    """`?instrument=` names an instrument: unknown (or empty) is a 400 naming it,
    never an empty list."""
    if required and "instrument" not in request.query_params:
        raise exceptions.ValidationError(
            {
                "instrument": [
                    f"This parameter is required. Use one of: {', '.join(instrument_codes())}."
                ]
            }
        )
    return instrument_named(choice_filter(request, "instrument", instrument_codes()))


# --- serializers -------------------------------------------------------------------------


class AssessmentInputSerializer(serializers.Serializer):
    instrument = serializers.ChoiceField(choices=instrument_codes())
    # Checked by the service's rule (count and range, integers only): DRF's
    # IntegerField would take "2" and 2.0 as answers.
    answers = serializers.JSONField()
    administered_at = BoundedDateTimeField(required=False, allow_null=True)

    def validate(self, attrs: dict) -> dict:
        check_input(
            services.check_assessment,
            instrument=attrs["instrument"],
            answers=attrs["answers"],
            administered_at=attrs.get("administered_at"),
        )
        return attrs


class AssessmentSerializer(serializers.ModelSerializer):
    author = ProviderRef(source="entry.author")
    organization = OrganizationRef(source="entry.organization")
    entry = serializers.UUIDField(source="entry_id")
    answers = serializers.ListField(child=serializers.IntegerField())
    safety_alert = serializers.SerializerMethodField(
        help_text="Whether the instrument's safety item (PHQ-9 item 9) was answered above 0."
    )

    class Meta:
        model = Assessment
        fields = [
            "id",
            "instrument",
            "answers",
            "score",
            "severity",
            "administered_at",
            "author",
            "organization",
            "entry",
            "safety_alert",
        ]

    def get_safety_alert(self, assessment: Assessment) -> bool:
        instrument = instrument_named(assessment.instrument)
        return bool(instrument and instrument.raises_safety_alert(assessment.answers))


class ScoredAtSerializer(serializers.Serializer):
    score = serializers.IntegerField()
    administered_at = UTCDateTimeField()


class RegistryClientSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="client_id")
    given_name = Text()
    family_name = Text()


# One field instance formats every row's timestamps (a nested serializer per row
# would build its fields anew each time: measurable on a 50-row page).
_TIMESTAMP = UTCDateTimeField()


class RegistryRowSerializer(serializers.Serializer):
    client = serializers.SerializerMethodField()
    baseline = serializers.SerializerMethodField()
    latest = serializers.SerializerMethodField()
    count = serializers.IntegerField()
    weeks_in_care = serializers.IntegerField()
    change_percent = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=RegistryStatus.choices)

    @extend_schema_field(RegistryClientSerializer)
    def get_client(self, row: Any) -> dict:
        return {
            "id": str(row.client_id),
            "given_name": row.given_name,
            "family_name": row.family_name,
        }

    @extend_schema_field(ScoredAtSerializer)
    def get_baseline(self, row: Any) -> dict:
        return {
            "score": row.baseline_score,
            "administered_at": _TIMESTAMP.to_representation(row.baseline_at),
        }

    @extend_schema_field(ScoredAtSerializer)
    def get_latest(self, row: Any) -> dict:
        return {
            "score": row.latest_score,
            "administered_at": _TIMESTAMP.to_representation(row.latest_at),
        }


class InstrumentSerializer(serializers.Serializer):
    """A declaration, as outside systems need it to put the questions and read
    the scores."""

    code = Text()
    name = Text()
    title = Text()
    question = Text()
    loinc = Text(source="loinc_total")
    loinc_panel = Text()
    max_score = serializers.IntegerField()
    safety_item = serializers.IntegerField(allow_null=True)
    items = serializers.SerializerMethodField()
    answers = serializers.SerializerMethodField()
    bands = serializers.SerializerMethodField()
    copyright = Text()

    def get_items(self, instrument: Instrument) -> list[dict]:
        return [
            {"number": number, "text": item.text, "loinc": item.loinc}
            for number, item in enumerate(instrument.items, start=1)
        ]

    def get_answers(self, instrument: Instrument) -> list[dict]:
        return [
            {"value": answer.value, "label": answer.label, "loinc": answer.loinc}
            for answer in instrument.answers
        ]

    def get_bands(self, instrument: Instrument) -> list[dict]:
        return [
            {"severity": band.severity, "label": band.label, "low": band.low, "high": band.high}
            for band in instrument.bands
        ]


# --- views -------------------------------------------------------------------------------


class AssessmentListView(ClientScopedView):
    @extend_schema(
        parameters=[
            OpenApiParameter("instrument", str, enum=instrument_codes()),
            *PAGE_PARAMETERS,
        ],
        responses=page_schema(
            "AssessmentPage",
            AssessmentSerializer(many=True),
            withheld_count=serializers.IntegerField(),
        ),
    )
    def get(self, request: Request, client_id: str) -> Response:
        require_entry_reader(request.user)
        instrument = instrument_filter(request, required=False)
        # Rules 2–4 decided once, for the page and its withheld count.
        visibility = entry_visibility_q(request.user, client=self.client)
        assessments = visible_assessments(
            request.user, self.client, instrument.code if instrument else None, visibility
        )
        withheld = assessment_withheld_count(request.user, self.client, visibility)
        response, _ = self.paginate(assessments, AssessmentSerializer, withheld_count=withheld)
        record_access(request.user, self.client, Action.ASSESSMENT_LIST)
        return response

    @extend_schema(request=AssessmentInputSerializer, responses={201: AssessmentSerializer})
    def post(self, request: Request, client_id: str) -> Response:
        require_entry_reader(request.user)
        serializer = AssessmentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assessment = services.record_assessment(
            provider=request.user, client=self.client, **serializer.validated_data
        )
        return Response(AssessmentSerializer(assessment).data, status=status.HTTP_201_CREATED)


class AssessmentDetailView(ClientScopedView):
    @extend_schema(operation_id="v1_clients_assessments_read", responses=AssessmentSerializer)
    def get(self, request: Request, client_id: str, assessment_id: str) -> Response:
        require_entry_reader(request.user)
        assessment = access_assessment(request.user, self.client, assessment_id)
        record_access(request.user, self.client, Action.ASSESSMENT_READ)
        return Response(AssessmentSerializer(assessment).data)


class InstrumentListView(APIView):
    """The instruments CareLink scores (no client content: any signed-in account)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=InstrumentSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(InstrumentSerializer(list(INSTRUMENTS.values()), many=True).data)


def _requested_offset(request: Request, page_size: int) -> int | None:
    """Where the requested page starts, to fetch it before the paginator checks
    it; None for `?page=last`. Anything that is not a page number starts at 0
    here and is the paginator's 400."""
    raw = request.query_params.get("page")
    if raw in Pagination.last_page_strings:
        return None
    if raw is not None and raw.isascii() and raw.isdecimal() and 1 <= int(raw) <= 10**9:
        return (int(raw) - 1) * page_size
    return 0


class RegistryView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("instrument", str, enum=instrument_codes(), required=True),
            OpenApiParameter("status", str, enum=[each.value for each in STATUS_ORDER]),
            *PAGE_PARAMETERS,
        ],
        responses=page_schema(
            "RegistryPage",
            RegistryRowSerializer(many=True),
            summary=inline_serializer(
                "RegistrySummary",
                {each.value: serializers.IntegerField() for each in STATUS_ORDER},
            ),
        ),
    )
    def get(self, request: Request) -> Response:
        require_entry_reader(request.user)
        instrument = instrument_filter(request, required=True)
        wanted = choice_filter(request, "status", [each.value for each in STATUS_ORDER])
        pagination = Pagination()
        size = pagination.get_page_size(request)
        offset = _requested_offset(request, size)
        if offset is None:  # ?page=last: the total first, then that page
            total = registry(request.user, instrument, status=wanted, limit=0).total
            offset = max(0, (total - 1) // size) * size
        page = registry(request.user, instrument, status=wanted, offset=offset, limit=size)
        rows = pagination.paginate_queryset(RegistryRows(page, offset), request, self)
        record_access(
            request.user, [Client(pk=row.client_id) for row in rows], Action.REGISTRY_READ
        )
        return pagination.get_paginated_response(
            RegistryRowSerializer(rows, many=True).data, summary=page.summary
        )
