"""REST API v1 of the records app: identity, organizations, providers, clients,
care teams and entries. Serializers validate input; services do the writes."""

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carelink.api import (
    BoundedDateTimeField,
    ClientScopedView,
    Pagination,
    require_organization,
)
from carelink.ids import parse_int_id, parse_uuid
from consent.selectors import withheld_count
from consent.services import record_access
from records import services
from records.models import (
    CareTeamMembership,
    Category,
    Client,
    Entry,
    EntryKind,
    Organization,
    Provider,
    Role,
    Sector,
    normalize_health_card,
)
from records.selectors import active_care_team, entries_for, search_clients

# --- serializers -------------------------------------------------------------------------


class OrganizationSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=100)
    sector = serializers.ChoiceField(choices=Sector.choices)

    class Meta:
        model = Organization
        fields = ["id", "name", "sector"]

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if Organization.objects.filter(name__iexact=value).exists():
            raise serializers.ValidationError("An organization with this name already exists.")
        return value


class OrganizationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "sector"]


class MeSerializer(serializers.ModelSerializer):
    organization = OrganizationRefSerializer(allow_null=True)

    class Meta:
        model = Provider
        fields = ["id", "username", "full_name", "organization", "role", "is_superuser"]


class ProviderSerializer(serializers.ModelSerializer):
    username = serializers.CharField(max_length=100, validators=[UnicodeUsernameValidator()])
    password = serializers.CharField(
        write_only=True, max_length=128, style={"input_type": "password"}
    )
    full_name = serializers.CharField(max_length=100)
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = Provider
        fields = ["id", "username", "password", "full_name", "organization", "role"]

    def validate_username(self, value: str) -> str:
        if Provider.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError("This username is taken.")
        return value

    def validate(self, attrs: dict) -> dict:
        candidate = Provider(username=attrs["username"], full_name=attrs["full_name"])
        try:
            validate_password(attrs["password"], candidate)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"password": error.messages}) from None
        return attrs


class ProviderRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Provider
        fields = ["id", "full_name"]


class ClientSerializer(serializers.ModelSerializer):
    given_name = serializers.CharField(max_length=100)
    family_name = serializers.CharField(max_length=100)
    birth_date = serializers.DateField()
    health_card_number = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default=""
    )
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")

    class Meta:
        model = Client
        fields = [
            "id",
            "given_name",
            "family_name",
            "birth_date",
            "health_card_number",
            "phone",
            "email",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]

    def validate_given_name(self, value: str) -> str:
        return _not_blank(value)

    def validate_family_name(self, value: str) -> str:
        return _not_blank(value)

    def validate_birth_date(self, value):
        if value > timezone.localdate():
            raise serializers.ValidationError("Birth date cannot be in the future.")
        return value

    def validate_health_card_number(self, value: str) -> str:
        if value.strip() and not normalize_health_card(value):
            raise serializers.ValidationError("Enter a health card number with letters or digits.")
        return value.strip()


def _not_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise serializers.ValidationError("This field may not be blank.")
    return value


class CareTeamMemberSerializer(serializers.ModelSerializer):
    provider = serializers.SerializerMethodField()
    organization = OrganizationRefSerializer()

    class Meta:
        model = CareTeamMembership
        fields = ["provider", "organization", "since"]

    def get_provider(self, membership: CareTeamMembership) -> dict:
        provider = membership.provider
        return {"id": provider.pk, "full_name": provider.display_name, "role": provider.role}


class CareTeamAddSerializer(serializers.Serializer):
    provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.filter(is_active=True))


class EntrySerializer(serializers.ModelSerializer):
    category = serializers.ChoiceField(choices=Category.choices)
    kind = serializers.ChoiceField(choices=EntryKind.choices)
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=20_000, allow_blank=True, required=False, default="")
    occurred_at = BoundedDateTimeField(required=False)
    data = serializers.JSONField(required=False, default=dict)
    author = ProviderRefSerializer(read_only=True)
    organization = OrganizationRefSerializer(read_only=True)

    class Meta:
        model = Entry
        fields = [
            "id",
            "category",
            "kind",
            "title",
            "body",
            "occurred_at",
            "created_at",
            "author",
            "organization",
            "data",
        ]
        read_only_fields = ["id", "created_at", "author", "organization"]

    def validate_title(self, value: str) -> str:
        return _not_blank(value)

    def validate_data(self, value: Any) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise serializers.ValidationError('Give a JSON object, e.g. {"phq9": 17}.')
        if _contains_nul(value):
            # PostgreSQL's jsonb cannot store U+0000; refuse it on every database alike.
            raise serializers.ValidationError("Text in data may not contain NUL characters.")
        return value


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False


# --- views -------------------------------------------------------------------------------


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class OrganizationListView(APIView):
    """All organizations (any provider may read them, to refer); superusers create."""

    @extend_schema(responses=OrganizationSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(Organization.objects.order_by("name"), request, self)
        return paginator.get_paginated_response(OrganizationSerializer(page, many=True).data)

    @extend_schema(request=OrganizationSerializer, responses={201: OrganizationSerializer})
    def post(self, request: Request) -> Response:
        if not request.user.is_superuser:
            raise exceptions.PermissionDenied("Only system admins may create organizations.")
        serializer = OrganizationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = services.create_organization(**serializer.validated_data)
        return Response(OrganizationSerializer(organization).data, status=status.HTTP_201_CREATED)


class ProviderCreateView(APIView):
    @extend_schema(request=ProviderSerializer, responses={201: ProviderSerializer})
    def post(self, request: Request) -> Response:
        user = request.user
        if not (user.is_superuser or user.role == Role.ORG_ADMIN):
            raise exceptions.PermissionDenied(
                "Only system admins and organization admins may add providers."
            )
        if not user.is_superuser and isinstance(request.data, dict):
            # 403 before 400: another organization's admin learns nothing from validation.
            requested = request.data.get("organization")
            if requested is not None and str(requested) != str(user.organization_id):
                raise exceptions.PermissionDenied(
                    "Organization admins may add providers to their own organization only."
                )
        serializer = ProviderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = serializer.validated_data["organization"]
        if not user.is_superuser and organization.pk != user.organization_id:
            raise exceptions.PermissionDenied(
                "Organization admins may add providers to their own organization only."
            )
        provider = services.create_provider(**serializer.validated_data)
        return Response(ProviderSerializer(provider).data, status=status.HTTP_201_CREATED)


class ClientListView(APIView):
    @extend_schema(responses=ClientSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = request.query_params.get("q", "")
        if len(query) > 200:
            raise exceptions.ValidationError(
                {"q": ["Ensure this field has no more than 200 characters."]}
            )
        if "\x00" in query:
            # PostgreSQL refuses NUL in a query; answer alike on every database.
            raise exceptions.ValidationError({"q": ["Null characters are not allowed."]})
        paginator = Pagination()
        page = paginator.paginate_queryset(search_clients(request.user, query), request, self)
        record_access(request.user, page, "client.search" if query else "client.list")
        return paginator.get_paginated_response(ClientSerializer(page, many=True).data)

    @extend_schema(
        request=ClientSerializer, responses={200: ClientSerializer, 201: ClientSerializer}
    )
    def post(self, request: Request) -> Response:
        require_organization(request.user)
        serializer = ClientSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        registration = services.register_client(provider=request.user, **serializer.validated_data)
        data = ClientSerializer(registration.client).data
        data["matched"] = registration.matched
        return Response(
            data, status=status.HTTP_200_OK if registration.matched else status.HTTP_201_CREATED
        )


class ClientDetailView(ClientScopedView):
    @extend_schema(responses=ClientSerializer)
    def get(self, request: Request, client_id: str) -> Response:
        record_access(request.user, self.client, "client.read")
        return Response(ClientSerializer(self.client).data)


class CareTeamView(ClientScopedView):
    @extend_schema(responses=CareTeamMemberSerializer(many=True))
    def get(self, request: Request, client_id: str) -> Response:
        record_access(request.user, self.client, "care_team.read")
        return Response(CareTeamMemberSerializer(active_care_team(self.client), many=True).data)

    @extend_schema(request=CareTeamAddSerializer, responses={201: CareTeamMemberSerializer})
    def post(self, request: Request, client_id: str) -> Response:
        serializer = CareTeamAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        provider = serializer.validated_data["provider"]
        if provider.organization_id != request.user.organization_id:
            raise exceptions.PermissionDenied(
                "You may add providers of your own organization only; another organization "
                "joins through a referral it accepts."
            )
        membership = services.join_care_team(
            actor=request.user, client=self.client, provider=provider
        )
        return Response(CareTeamMemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class CareTeamMemberView(ClientScopedView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, client_id: str, provider_id: str) -> Response:
        membership = get_object_or_404(
            active_care_team(self.client), provider_id=parse_int_id(provider_id)
        )
        provider = membership.provider
        # Themself, or a colleague of the organization they are on the case for.
        if (
            provider.pk != request.user.pk
            and membership.organization_id != request.user.organization_id
        ):
            raise exceptions.PermissionDenied(
                "Only the provider or a colleague of the same organization may remove them."
            )
        services.leave_care_team(actor=request.user, client=self.client, provider=provider)
        return Response(status=status.HTTP_204_NO_CONTENT)


def parse_category_filter(request: Request) -> list[str] | None:
    """`?category=` must name categories (repeat it for several): an unknown value
    is a 400, not an empty list, and is never silently dropped."""
    if "category" not in request.query_params:
        return None
    values = request.query_params.getlist("category")
    unknown = [value for value in values if value not in Category.values]
    if unknown:
        raise exceptions.ValidationError(
            {
                "category": [
                    f'"{value}" is not a category. Use one of: {", ".join(Category.values)}.'
                    for value in unknown
                ]
            }
        )
    return values


class EntryListView(ClientScopedView):
    @extend_schema(
        responses=inline_serializer(
            "EntryPage",
            {
                "count": serializers.IntegerField(),
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "withheld_count": serializers.IntegerField(),
                "results": EntrySerializer(many=True),
            },
        )
    )
    def get(self, request: Request, client_id: str) -> Response:
        categories = parse_category_filter(request)
        entries = entries_for(request.user, self.client)
        if categories is not None:
            entries = entries.filter(category__in=categories)
        withheld = withheld_count(request.user, self.client)
        response, _ = self.paginate(entries, EntrySerializer, withheld_count=withheld)
        record_access(request.user, self.client, "entry.list")
        return response

    @extend_schema(request=EntrySerializer, responses={201: EntrySerializer})
    def post(self, request: Request, client_id: str) -> Response:
        serializer = EntrySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = services.add_entry(
            provider=request.user, client=self.client, **serializer.validated_data
        )
        return Response(EntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class EntryDetailView(ClientScopedView):
    @extend_schema(operation_id="v1_clients_entries_read", responses=EntrySerializer)
    def get(self, request: Request, client_id: str, entry_id: str) -> Response:
        entry = get_object_or_404(entries_for(request.user, self.client), pk=parse_uuid(entry_id))
        record_access(request.user, self.client, "entry.read")
        return Response(EntrySerializer(entry).data)


__all__ = ["IsAuthenticated"]
