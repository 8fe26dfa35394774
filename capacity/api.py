"""REST API of services and their waits (docs/capacity.md).

Any signed-in account reads services and their figures (a service's wait is
about its queue, not about any client). Organization admins create and edit
their organization's services; its intake workers open and close intake.
The writes are `records.services`' (services are an organization's programs);
the figures are `capacity.selectors`'.
"""

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from capacity import selectors
from capacity.rest import ExperienceSerializer, WaitSerializer
from capacity.selectors import access_service
from core.errors import NotAllowed
from core.ids import parse_int_id
from core.permissions import may_manage_services
from core.rest import OrganizationRef, Pagination, Text, choice_filter, json_object
from core.vocabulary import NAME_LIMIT, REASON_LIMIT, Sector
from records import services as record_services
from records.models import Organization, Service

# --- serializers -------------------------------------------------------------------------


class ServiceSerializer(serializers.ModelSerializer):
    """A service with its figures, which the view computes for a whole page at
    once and hands over in the context (`waits`, `experiences`, by id)."""

    organization = OrganizationRef()
    wait = serializers.SerializerMethodField()
    experience = serializers.SerializerMethodField()

    class Meta:
        model = Service
        fields = [
            "id",
            "organization",
            "name",
            "description",
            "eligibility",
            "accepting_referrals",
            "wait",
            "experience",
        ]

    @extend_schema_field(WaitSerializer)
    def get_wait(self, service: Service) -> dict:
        return self.context["waits"][service.pk].as_dict()

    @extend_schema_field(ExperienceSerializer)
    def get_experience(self, service: Service) -> dict:
        return self.context["experiences"][service.pk].as_dict()


class ServiceInputSerializer(serializers.Serializer):
    name = Text(max_length=NAME_LIMIT)
    description = Text(max_length=REASON_LIMIT, allow_blank=True, required=False, default="")
    eligibility = Text(max_length=REASON_LIMIT, allow_blank=True, required=False, default="")
    accepting_referrals = serializers.BooleanField(required=False, default=True)
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False
    )


class ServicePatchSerializer(serializers.Serializer):
    name = Text(max_length=NAME_LIMIT, required=False)
    description = Text(max_length=REASON_LIMIT, allow_blank=True, required=False)
    eligibility = Text(max_length=REASON_LIMIT, allow_blank=True, required=False)
    accepting_referrals = serializers.BooleanField(required=False)


class WeekSerializer(serializers.Serializer):
    week_start = serializers.DateField()
    arrivals = serializers.IntegerField()
    left = serializers.IntegerField()
    waiting_at_end = serializers.IntegerField()
    median_wait_days = serializers.IntegerField(allow_null=True)


# --- helpers -------------------------------------------------------------------------------


def serialize_services(services: list[Service], **context: Any) -> list[dict]:
    """Services with their waits and experience: two queries for the whole list."""
    return ServiceSerializer(
        services,
        many=True,
        context={
            "waits": selectors.service_waits(services),
            "experiences": selectors.service_experiences(services),
            **context,
        },
    ).data


def _organization_filter(request: Request) -> int | None:
    if "organization" not in request.query_params:
        return None
    unknown = exceptions.ValidationError({"organization": ["No organization has this id."]})
    try:
        organization_id = parse_int_id(request.query_params["organization"])
    except Http404:
        raise unknown from None
    if not Organization.objects.filter(pk=organization_id).exists():
        raise unknown
    return organization_id


# --- views -------------------------------------------------------------------------------


class ServiceListView(APIView):
    pagination_class = Pagination

    @extend_schema(
        parameters=[
            OpenApiParameter("organization", int),
            OpenApiParameter("sector", str, enum=Sector.values),
            OpenApiParameter("accepting", str, enum=["true", "false"]),
        ],
        responses=ServiceSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        organization_id = _organization_filter(request)
        sector = choice_filter(request, "sector", Sector.values)
        accepting = choice_filter(request, "accepting", ["true", "false"])
        services = Service.objects.select_related("organization").order_by(
            "organization__name", "name", "id"
        )
        if organization_id is not None:
            services = services.filter(organization_id=organization_id)
        if sector is not None:
            services = services.filter(organization__sector=sector)
        if accepting is not None:
            services = services.filter(accepting_referrals=accepting == "true")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(services, request, self)
        return paginator.get_paginated_response(serialize_services(page))

    @extend_schema(request=ServiceInputSerializer, responses={201: ServiceSerializer})
    def post(self, request: Request) -> Response:
        user = request.user
        data = json_object(request)
        # 403 before 400: who may add a service to which organization comes first.
        requested = data.get("organization", getattr(user, "organization_id", None))
        if not may_manage_services(user, requested):
            raise NotAllowed("Only the organization's admins may add its services.")
        serializer = ServiceInputSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        organization = fields.pop("organization", None) or user.organization
        if organization is None:
            raise exceptions.ValidationError(
                {"organization": ["Name the organization the service belongs to."]}
            )
        service = record_services.create_service(actor=user, organization=organization, **fields)
        return Response(serialize_services([service])[0], status=status.HTTP_201_CREATED)


class ServiceDetailView(APIView):
    @extend_schema(responses=ServiceSerializer)
    def get(self, request: Request, service_id: str) -> Response:
        return Response(serialize_services([access_service(service_id)])[0])

    @extend_schema(request=ServicePatchSerializer, responses=ServiceSerializer)
    def patch(self, request: Request, service_id: str) -> Response:
        service = access_service(service_id)
        data = json_object(request)
        # 403 before 400: the role decides which fields may be named at all.
        record_services.check_service_change(actor=request.user, service=service, fields=set(data))
        serializer = ServicePatchSerializer(data=data, partial=True)
        serializer.is_valid(raise_exception=True)
        service = record_services.update_service(
            actor=request.user, service=service, **serializer.validated_data
        )
        return Response(serialize_services([service])[0])


class WaitHistoryView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("weeks", int, description="1–104, default 26")],
        responses=WeekSerializer(many=True),
    )
    def get(self, request: Request, service_id: str) -> Response:
        service = access_service(service_id)
        weeks = history_weeks(request.query_params.get("weeks"))
        return Response([week.as_dict() for week in selectors.wait_history(service, weeks)])


def history_weeks(raw: str | None) -> int:
    """`?weeks=` is a whole number from 1 to 104 (default 26), else a 400 naming it."""
    if raw is None:
        return selectors.HISTORY_WEEKS
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= selectors.MAX_HISTORY_WEEKS:
        raise exceptions.ValidationError(
            {"weeks": [f"A whole number of weeks from 1 to {selectors.MAX_HISTORY_WEEKS}."]}
        )
    return int(raw)
