"""REST API v1 of the referrals app: referrals, a closed loop.

Views are thin: resolve what the caller may see through the selectors (404
otherwise), validate input, call one service, serialize.
"""

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.lookups import access_client, access_referral
from core.audit import Action, record_access
from core.errors import NotAllowed
from core.ids import parse_uuid
from core.rest import (
    Pagination,
    Text,
    check_input,
    choice_filter,
    json_object,
    utc_text,
)
from core.vocabulary import BODY_LIMIT, REASON_LIMIT, TITLE_LIMIT, Category
from records.models import Client, Organization, Provider, Service
from referrals import selectors, services
from referrals.models import Referral, ReferralStatus, Urgency
from referrals.transitions import ReferralAction, require_side

# --- serializers -------------------------------------------------------------------------


class ServiceRef(serializers.Serializer):
    id = serializers.UUIDField()
    name = Text()


# The referral's own columns a row shows under their own names: read by the
# list (REFERRAL_ROW_VALUES) and declared by ReferralSerializer, in its order.
REFERRAL_OWN_FIELDS = (
    "reason",
    "urgency",
    "status",
    "created_at",
    "accepted_at",
    "appointment_at",
    "completed_at",
    "declined_at",
    "decline_reason",
    "cancelled_at",
    "cancel_reason",
)

# What a row of the referral list reads, as plain values (`write_referral`):
# the referral's own columns and what the row shows of its client, its two
# organizations, its service and who referred (the client's name and birth
# date only: rule 1), and the referral that redirected it (an annotation of
# `selectors.visible_referrals`). Plain values, not model instances: building a
# referral and its six related rows for each of fifty took ~3.5 ms of the
# list's page (docs/performance.md, "Province scale", change 31).
REFERRAL_ROW_VALUES = (
    "id",
    "client_id",
    "client__given_name",
    "client__family_name",
    "client__birth_date",
    "from_organization_id",
    "from_organization__name",
    "to_organization_id",
    "to_organization__name",
    "service_id",
    "service__name",
    "referred_by_id",
    "referred_by__full_name",
    "referred_by__username",
    *REFERRAL_OWN_FIELDS,
    "report_entry_id",
    "consent_directive_id",
    "redirected_from_id",
    "redirected_to_pk",
)


def referral_values(referral: Referral) -> dict:
    """A referral read as a model instance, as a row of the list reads it
    (REFERRAL_ROW_VALUES); the redirect is looked up when it was not read with
    it, and only for a declined referral (the only kind redirected)."""
    client, referrer = referral.client, referral.referred_by
    return {
        "id": referral.pk,
        "client_id": client.pk,
        "client__given_name": client.given_name,
        "client__family_name": client.family_name,
        "client__birth_date": client.birth_date,
        "from_organization_id": referral.from_organization_id,
        "from_organization__name": referral.from_organization.name,
        "to_organization_id": referral.to_organization_id,
        "to_organization__name": referral.to_organization.name,
        "service_id": referral.service_id,
        "service__name": None if referral.service_id is None else referral.service.name,
        "referred_by_id": referral.referred_by_id,
        "referred_by__full_name": referrer.full_name,
        "referred_by__username": referrer.username,
        "reason": referral.reason,
        "urgency": referral.urgency,
        "status": referral.status,
        "created_at": referral.created_at,
        "accepted_at": referral.accepted_at,
        "appointment_at": referral.appointment_at,
        "completed_at": referral.completed_at,
        "declined_at": referral.declined_at,
        "decline_reason": referral.decline_reason,
        "cancelled_at": referral.cancelled_at,
        "cancel_reason": referral.cancel_reason,
        "report_entry_id": referral.report_entry_id,
        "consent_directive_id": referral.consent_directive_id,
        "redirected_from_id": referral.redirected_from_id,
        "redirected_to_pk": redirected_to(referral),
    }


def redirected_to(referral: Referral) -> Any:
    """The id of the referral that redirected this one, if any. Only a declined
    referral is redirected: no query for the others; the list reads it with
    the referral (`selectors.visible_referrals`), a detail read looks it up."""
    if referral.status != ReferralStatus.DECLINED:
        return None
    if hasattr(referral, "redirected_to_pk"):
        return referral.redirected_to_pk
    return Referral.objects.filter(redirected_from=referral).values_list("pk", flat=True).first()


def write_referral(row: dict, shared_categories: list[str]) -> dict:
    """A referral as the API writes it, from its row (REFERRAL_ROW_VALUES) and
    the categories its client agreed to share, each value as
    ReferralSerializer's declared field writes it: DRF's walk over
    twenty-four fields cost a page of fifty nearly 3 ms, more than its SQL
    (docs/performance.md, "Province scale"). A test holds this to DRF's own
    walk for referrals in every state (tests/test_province_scale.py)."""
    declined = row["status"] == ReferralStatus.DECLINED
    redirected_to = row["redirected_to_pk"] if declined else None
    return {
        "id": str(row["id"]),
        # Name and birth date only: before accepting, the receiving
        # organization is not on the care team and may not see the record.
        "client": {
            "id": str(row["client_id"]),
            "given_name": row["client__given_name"],
            "family_name": row["client__family_name"],
            "birth_date": row["client__birth_date"].isoformat(),
        },
        "from_organization": row["from_organization_id"],
        "from_organization_name": row["from_organization__name"],
        "to_organization": row["to_organization_id"],
        "to_organization_name": row["to_organization__name"],
        "service": (
            None
            if row["service_id"] is None
            else {"id": str(row["service_id"]), "name": row["service__name"]}
        ),
        # As Provider.display_name: the full name, else the username.
        "referred_by": {
            "id": row["referred_by_id"],
            "full_name": row["referred_by__full_name"] or row["referred_by__username"],
        },
        "reason": row["reason"],
        "urgency": row["urgency"],
        "status": row["status"],
        "created_at": utc_text(row["created_at"]),
        "accepted_at": utc_text(row["accepted_at"]),
        "appointment_at": utc_text(row["appointment_at"]),
        "completed_at": utc_text(row["completed_at"]),
        "declined_at": utc_text(row["declined_at"]),
        "decline_reason": row["decline_reason"],
        "cancelled_at": utc_text(row["cancelled_at"]),
        "cancel_reason": row["cancel_reason"],
        "report_entry": row["report_entry_id"],
        "wait_days": selectors.days_waited(
            row["created_at"], row["appointment_at"], row["completed_at"]
        ),
        "shared_categories": shared_categories,
        "redirected_from": (
            None if row["redirected_from_id"] is None else str(row["redirected_from_id"])
        ),
        "redirected_to": None if redirected_to is None else str(redirected_to),
    }


class ReferralSerializer(serializers.ModelSerializer):
    client = serializers.SerializerMethodField()
    service = ServiceRef(allow_null=True)
    from_organization_name = Text(source="from_organization.name")
    to_organization_name = Text(source="to_organization.name")
    referred_by = serializers.SerializerMethodField()
    wait_days = serializers.SerializerMethodField()
    shared_categories = serializers.SerializerMethodField()
    redirected_from = serializers.UUIDField(
        source="redirected_from_id", read_only=True, allow_null=True
    )
    redirected_to = serializers.SerializerMethodField()

    class Meta:
        model = Referral
        fields = [
            "id",
            "client",
            "from_organization",
            "from_organization_name",
            "to_organization",
            "to_organization_name",
            "service",
            "referred_by",
            *REFERRAL_OWN_FIELDS,
            "report_entry",
            "wait_days",
            "shared_categories",
            "redirected_from",
            "redirected_to",
        ]

    def to_representation(self, referral: Referral) -> dict:
        """The row written straight out (`write_referral`); the declared fields
        above stay the schema."""
        return write_referral(referral_values(referral), services.shared_categories(referral))

    def get_client(self, referral: Referral) -> dict:
        # Name and birth date only: before accepting, the receiving organization
        # is not on the care team and may not see the record (rule 1).
        client = referral.client
        return {
            "id": str(client.pk),
            "given_name": client.given_name,
            "family_name": client.family_name,
            "birth_date": client.birth_date.isoformat(),
        }

    def get_referred_by(self, referral: Referral) -> dict:
        return {"id": referral.referred_by_id, "full_name": referral.referred_by.display_name}

    def get_wait_days(self, referral: Referral) -> int | None:
        return selectors.wait_days(referral)

    def get_shared_categories(self, referral: Referral) -> list[str]:
        return services.shared_categories(referral)

    def get_redirected_to(self, referral: Referral) -> str | None:
        newer = redirected_to(referral)
        return str(newer) if newer else None


class ReferralCreateSerializer(serializers.Serializer):
    to_organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False
    )
    service = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.select_related("organization"),
        pk_field=serializers.UUIDField(),
        required=False,
    )
    reason = Text(max_length=REASON_LIMIT)
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    share_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=Category.choices),
        required=False,
        allow_empty=True,
        max_length=len(Category.values) * 2,
    )

    def validate(self, attrs: dict) -> dict:
        check_input(
            services.referral_destination,
            provider=self.context["provider"],
            to_organization=attrs.get("to_organization"),
            service=attrs.get("service"),
        )
        return attrs


class ReasonSerializer(serializers.Serializer):
    reason = Text(max_length=REASON_LIMIT)


class ScheduleSerializer(serializers.Serializer):
    appointment_at = serializers.DateTimeField()


class ReportSerializer(serializers.Serializer):
    title = Text(max_length=TITLE_LIMIT)
    body = Text(max_length=BODY_LIMIT, allow_blank=True, required=False, default="")
    category = serializers.ChoiceField(choices=Category.choices)


class CompleteSerializer(serializers.Serializer):
    report = ReportSerializer()


class RedirectSerializer(serializers.Serializer):
    to_organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False
    )
    service = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.select_related("organization"),
        pk_field=serializers.UUIDField(),
        required=False,
    )
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    note = Text(max_length=REASON_LIMIT, required=False, allow_blank=True)


# --- helpers -------------------------------------------------------------------------------


def _referral_response(referral: Referral, code: int = status.HTTP_200_OK) -> Response:
    return Response(ReferralSerializer(referral).data, status=code)


def _reload(provider: Provider, referral: Referral) -> Referral:
    return access_referral(provider, referral.pk)


def _service_filter(request: Request) -> Service:
    """`?service=` names a service; anything else is a 400, not an empty list."""
    unknown = exceptions.ValidationError({"service": ["No service has this id."]})
    try:
        service_id = parse_uuid(request.query_params["service"])
    except Http404:
        raise unknown from None
    service = Service.objects.filter(pk=service_id).first()
    if service is None:
        raise unknown
    return service


# --- views -------------------------------------------------------------------------------


class ReferralListView(APIView):
    pagination_class = Pagination
    # The body's client is looked up through the gate: 404 when not the caller's.
    body_names_visible_rows = True

    @extend_schema(
        parameters=[
            OpenApiParameter("direction", str, enum=["incoming", "outgoing"]),
            OpenApiParameter("status", str, enum=ReferralStatus.values),
            OpenApiParameter("service", str, description="a service's id"),
        ],
        responses=ReferralSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        direction = choice_filter(request, "direction", ["incoming", "outgoing"])
        state = choice_filter(request, "status", ReferralStatus.values)
        referrals = selectors.visible_referrals(request.user, direction)
        if state:
            referrals = referrals.filter(status=state)
        # Counted side by side (selectors.referral_count), without the joins
        # the page's rows need.
        service = _service_filter(request) if "service" in request.query_params else None
        if service is not None:
            referrals = referrals.filter(service=service)
        count = selectors.referral_count(request.user, direction, state, service)
        # Plain rows (REFERRAL_ROW_VALUES): no prefetch, the shared categories
        # are one query for the page instead.
        rows = referrals.prefetch_related(None).values(*REFERRAL_ROW_VALUES)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, self, count=count)
        shared = selectors.shared_categories_of(
            row["consent_directive_id"] for row in page if row["consent_directive_id"]
        )
        record_access(
            request.user, [Client(pk=row["client_id"]) for row in page], Action.REFERRAL_LIST
        )
        return paginator.get_paginated_response(
            [write_referral(row, shared.get(row["consent_directive_id"], [])) for row in page]
        )

    @extend_schema(request=ReferralCreateSerializer, responses={201: ReferralSerializer})
    def post(self, request: Request) -> Response:
        data = json_object(request)
        if not data.get("client"):
            raise exceptions.ValidationError({"client": ["This field is required."]})
        # The client is resolved through the gate first: off the caller's care
        # teams it does not exist (404), before any other validation (400).
        client = access_client(request.user, data["client"])
        serializer = ReferralCreateSerializer(data=data, context={"provider": request.user})
        serializer.is_valid(raise_exception=True)
        referral = services.refer_client(
            provider=request.user, client=client, **serializer.validated_data
        )
        return _referral_response(_reload(request.user, referral), status.HTTP_201_CREATED)


class ReferralDetailView(APIView):
    @extend_schema(responses=ReferralSerializer)
    def get(self, request: Request, referral_id: str) -> Response:
        referral = access_referral(request.user, referral_id)
        record_access(request.user, referral.client, Action.REFERRAL_READ)
        return _referral_response(referral)


class ReferralTransitionView(APIView):
    """Base of the transition endpoints: 404 unless the caller's organization is a
    party to the referral; 403 for the wrong side (the transition table's, checked
    before the input: 403 before 400); 409 for the wrong state (the service)."""

    input_serializer: type[serializers.Serializer] | None = None
    action: ReferralAction

    def transition(self, provider: Provider, referral: Referral, data: dict) -> Referral:
        raise NotImplementedError

    def post(self, request: Request, referral_id: str) -> Response:
        referral = access_referral(request.user, referral_id)
        require_side(request.user, referral, self.action)
        data: dict[str, Any] = {}
        if self.input_serializer is not None:
            serializer = self.input_serializer(data=json_object(request))
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        referral = self.transition(request.user, referral, data)
        return _referral_response(_reload(request.user, referral))


class AcceptReferralView(ReferralTransitionView):
    action = ReferralAction.ACCEPT

    @extend_schema(request=None, responses=ReferralSerializer)
    def post(self, request: Request, referral_id: str) -> Response:
        return super().post(request, referral_id)

    def transition(self, provider: Provider, referral: Referral, data: dict) -> Referral:
        return services.accept_referral(provider=provider, referral=referral)


class DeclineReferralView(ReferralTransitionView):
    action = ReferralAction.DECLINE
    input_serializer = ReasonSerializer

    @extend_schema(request=ReasonSerializer, responses=ReferralSerializer)
    def post(self, request: Request, referral_id: str) -> Response:
        return super().post(request, referral_id)

    def transition(self, provider: Provider, referral: Referral, data: dict) -> Referral:
        return services.decline_referral(provider=provider, referral=referral, **data)


class ScheduleReferralView(ReferralTransitionView):
    action = ReferralAction.SCHEDULE
    input_serializer = ScheduleSerializer

    @extend_schema(request=ScheduleSerializer, responses=ReferralSerializer)
    def post(self, request: Request, referral_id: str) -> Response:
        return super().post(request, referral_id)

    def transition(self, provider: Provider, referral: Referral, data: dict) -> Referral:
        return services.schedule_referral(provider=provider, referral=referral, **data)


class CompleteReferralView(ReferralTransitionView):
    action = ReferralAction.COMPLETE
    input_serializer = CompleteSerializer

    @extend_schema(request=CompleteSerializer, responses=ReferralSerializer)
    def post(self, request: Request, referral_id: str) -> Response:
        return super().post(request, referral_id)

    def transition(self, provider: Provider, referral: Referral, data: dict) -> Referral:
        return services.complete_referral(
            provider=provider, referral=referral, report=dict(data["report"])
        )


class CancelReferralView(ReferralTransitionView):
    action = ReferralAction.CANCEL
    input_serializer = ReasonSerializer

    @extend_schema(request=ReasonSerializer, responses=ReferralSerializer)
    def post(self, request: Request, referral_id: str) -> Response:
        return super().post(request, referral_id)

    def transition(self, provider: Provider, referral: Referral, data: dict) -> Referral:
        return services.cancel_referral(provider=provider, referral=referral, **data)


class RedirectReferralView(APIView):
    """After a decline, the referring organization sends the same referral (its
    reason and shared categories) to another organization or one of its
    services: 201 with the new one."""

    @extend_schema(request=RedirectSerializer, responses={201: ReferralSerializer})
    def post(self, request: Request, referral_id: str) -> Response:
        referral = access_referral(request.user, referral_id)
        if referral.from_organization_id != request.user.organization_id:  # 403 before 400
            raise NotAllowed("Only the referring organization may redirect this referral.")
        serializer = RedirectSerializer(data=json_object(request))
        serializer.is_valid(raise_exception=True)
        new = services.redirect_referral(
            provider=request.user, referral=referral, **serializer.validated_data
        )
        return _referral_response(_reload(request.user, new), status.HTTP_201_CREATED)
