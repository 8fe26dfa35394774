"""REST API v1 of the records app: identity, organizations, providers, clients,
care teams and entries. Serializers validate input; services do the writes."""

from typing import Any

from django.contrib.auth.validators import UnicodeUsernameValidator
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.lookups import access_care_team_member, access_entry
from access.rest import ClientScopedView, EntryReadingView, require_organization
from capacity.rest import WaitSerializer
from capacity.selectors import organization_waits
from consent.selectors import entries_and_counts, search_clients
from core.audit import Action, record_access
from core.errors import InvalidInput, NotAllowed
from core.permissions import may_add_providers, may_create_organizations, may_join_care_teams
from core.rest import (
    PAGE_PARAMETERS,
    BoundedDateTimeField,
    OrganizationRef,
    Pagination,
    ProviderRef,
    Text,
    check_input,
    json_object,
    page_schema,
    utc_text,
)
from core.vocabulary import (
    BODY_LIMIT,
    NAME_LIMIT,
    REASON_LIMIT,
    TITLE_LIMIT,
    Category,
    EntryKind,
    Role,
    Sector,
)
from portal.selectors import has_portal_account
from records import services
from records.models import CareTeamMembership, Client, Entry, Organization, Provider
from records.selectors import active_care_team

# --- serializers -------------------------------------------------------------------------


class OrganizationSerializer(serializers.ModelSerializer):
    name = Text(max_length=NAME_LIMIT)
    sector = serializers.ChoiceField(choices=Sector.choices)

    class Meta:
        model = Organization
        fields = ["id", "name", "sector"]


class OrganizationWithWaitSerializer(OrganizationSerializer):
    """An organization with the wait over every referral to it (with or without
    a service), computed for the whole page at once (`waits` in the context)."""

    wait = serializers.SerializerMethodField()

    class Meta(OrganizationSerializer.Meta):
        fields = [*OrganizationSerializer.Meta.fields, "wait"]

    @extend_schema_field(WaitSerializer)
    def get_wait(self, organization: Organization) -> dict:
        return self.context["waits"][organization.pk].as_dict()


class MeSerializer(serializers.ModelSerializer):
    organization = OrganizationRef(allow_null=True)

    class Meta:
        model = Provider
        fields = ["id", "username", "full_name", "organization", "role", "is_superuser"]


class ProviderSerializer(serializers.ModelSerializer):
    username = Text(max_length=NAME_LIMIT, validators=[UnicodeUsernameValidator()])
    password = Text(write_only=True, max_length=128, style={"input_type": "password"})
    full_name = Text(max_length=NAME_LIMIT)
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = Provider
        fields = ["id", "username", "password", "full_name", "organization", "role"]

    def validate(self, attrs: dict) -> dict:
        check_input(
            services.check_new_account,
            username=attrs["username"],
            password=attrs["password"],
            full_name=attrs["full_name"],
        )
        return attrs


class ClientSerializer(serializers.ModelSerializer):
    given_name = Text(max_length=NAME_LIMIT)
    family_name = Text(max_length=NAME_LIMIT)
    birth_date = serializers.DateField()
    health_card_number = Text(max_length=32, required=False, allow_blank=True, default="")
    phone = Text(max_length=32, required=False, allow_blank=True, default="")
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

    def validate(self, attrs: dict) -> dict:
        check_input(
            services.check_demographics,
            given_name=attrs["given_name"],
            family_name=attrs["family_name"],
            birth_date=attrs["birth_date"],
            health_card_number=attrs.get("health_card_number", ""),
        )
        return attrs


class ClientPatchSerializer(serializers.Serializer):
    """The fields a PATCH may change; the rules are `services.update_demographics`'s."""

    given_name = Text(max_length=NAME_LIMIT, required=False)
    family_name = Text(max_length=NAME_LIMIT, required=False)
    birth_date = serializers.DateField(required=False)
    health_card_number = Text(max_length=32, required=False, allow_blank=True)
    phone = Text(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)


class CareTeamMemberSerializer(serializers.ModelSerializer):
    provider = serializers.SerializerMethodField()
    organization = OrganizationRef()

    class Meta:
        model = CareTeamMembership
        fields = ["provider", "organization", "since", "began"]

    def get_provider(self, membership: CareTeamMembership) -> dict:
        provider = membership.provider
        return {"id": provider.pk, "full_name": provider.display_name, "role": provider.role}


class CareTeamAddSerializer(serializers.Serializer):
    provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.filter(is_active=True))

    def validate_provider(self, provider: Provider) -> Provider:
        # An account of no organization (a system admin) is not "of your own
        # organization": the view's 403 says so. A provider's role is input here.
        if provider.organization_id is not None:
            check_input(services.check_may_join_care_team, provider=provider)
        return provider


# What a page of entries reads of each entry, as plain values (`write_entry`):
# what EntrySerializer shows, and no more of the related rows (a provider row
# is seventeen columns, the password hash among them). Plain values, not model
# instances: building an entry, its author, its organization and its
# retractor for each of fifty rows took ~2 ms of a timeline's page
# (docs/performance.md, "Province scale", change 30).
ENTRY_ROW_COLUMNS = (
    "id",
    "category",
    "kind",
    "title",
    "body",
    "data",
    "occurred_at",
    "created_at",
    "author_id",
    "author__full_name",
    "author__username",
    "organization_id",
    "organization__name",
    "organization__sector",
    "amends_id",
    "superseded_at",
    "retracted_at",
    "retracted_by_id",
    "retracted_by__full_name",
    "retracted_by__username",
    "retract_reason",
)


def entry_values(entry: Entry) -> dict:
    """An entry read as a model instance, as a page reads it (ENTRY_ROW_COLUMNS)."""
    author, organization = entry.author, entry.organization
    retractor = entry.retracted_by if entry.retracted_by_id is not None else None
    return {
        "id": entry.pk,
        "category": entry.category,
        "kind": entry.kind,
        "title": entry.title,
        "body": entry.body,
        "data": entry.data,
        "occurred_at": entry.occurred_at,
        "created_at": entry.created_at,
        "author_id": author.pk,
        "author__full_name": author.full_name,
        "author__username": author.username,
        "organization_id": organization.pk,
        "organization__name": organization.name,
        "organization__sector": organization.sector,
        "amends_id": entry.amends_id,
        "superseded_at": entry.superseded_at,
        "retracted_at": entry.retracted_at,
        "retracted_by_id": entry.retracted_by_id,
        "retracted_by__full_name": retractor.full_name if retractor else None,
        "retracted_by__username": retractor.username if retractor else None,
        "retract_reason": entry.retract_reason,
    }


def newer_version_of(entry_id: Any) -> str | None:
    """The id of the version that amended this one (asked of amended originals only)."""
    newer = Entry.objects.filter(amends_id=entry_id).values_list("pk", flat=True).first()
    return str(newer) if newer else None


def write_entry(row: dict) -> dict:
    """An entry as the API writes it, from its row (ENTRY_ROW_COLUMNS), each
    value as EntrySerializer's declared field writes it: DRF's walk over the
    fields cost a page of fifty about 3 ms, and building the fields themselves
    a fixed half millisecond per read (docs/performance.md, "Province scale").
    A test holds this to DRF's own walk (tests/test_province_scale.py)."""
    # A tombstone: who withdrew it, when and why; nothing of what it said.
    withdrawn = row["retracted_at"] is not None
    return {
        "id": str(row["id"]),
        "category": row["category"],
        "kind": row["kind"],
        "title": "" if withdrawn else row["title"],
        "body": "" if withdrawn else row["body"],
        "occurred_at": utc_text(row["occurred_at"]),
        "created_at": utc_text(row["created_at"]),
        # As Provider.display_name: the full name, else the username.
        "author": {
            "id": row["author_id"],
            "full_name": row["author__full_name"] or row["author__username"],
        },
        "organization": {
            "id": row["organization_id"],
            "name": row["organization__name"],
            "sector": row["organization__sector"],
        },
        "data": {} if withdrawn else row["data"],
        "amends": None if row["amends_id"] is None else str(row["amends_id"]),
        "amended_by": None if row["superseded_at"] is None else newer_version_of(row["id"]),
        "retracted": (
            {
                "at": utc_text(row["retracted_at"]),
                "by": {
                    "id": row["retracted_by_id"],
                    "full_name": row["retracted_by__full_name"] or row["retracted_by__username"],
                },
                "reason": row["retract_reason"],
            }
            if withdrawn
            else None
        ),
    }


class EntrySerializer(serializers.ModelSerializer):
    category = serializers.ChoiceField(choices=Category.choices)
    kind = serializers.ChoiceField(choices=EntryKind.choices)
    title = Text(max_length=TITLE_LIMIT)
    body = Text(max_length=BODY_LIMIT, allow_blank=True, required=False, default="")
    occurred_at = BoundedDateTimeField(required=False)
    data = serializers.JSONField(required=False, default=dict)
    author = ProviderRef(read_only=True)
    organization = OrganizationRef(read_only=True)
    amends = serializers.UUIDField(source="amends_id", read_only=True, allow_null=True)
    amended_by = serializers.SerializerMethodField()
    retracted = serializers.SerializerMethodField()

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
            "amends",
            "amended_by",
            "retracted",
        ]
        read_only_fields = ["id", "created_at", "author", "organization"]

    def validate_data(self, value: Any) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise serializers.ValidationError('Give a JSON object, e.g. {"phq9": 17}.')
        if _contains_nul(value):
            # PostgreSQL's jsonb cannot store U+0000; refuse it on every database
            # alike (half of a surrogate pair: core.parsers.JSONParser).
            raise serializers.ValidationError("Text in data may not contain NUL characters.")
        return value

    def validate_occurred_at(self, value: Any) -> Any:
        try:
            services.check_occurred_at(occurred_at=value)
        except InvalidInput as error:
            raise serializers.ValidationError(error.fields["occurred_at"]) from None
        return value

    def get_amended_by(self, entry: Entry) -> str | None:
        """The newer version's id, on an amended original (only those ask the database)."""
        return None if entry.superseded_at is None else newer_version_of(entry.pk)

    def get_retracted(self, entry: Entry) -> dict | None:
        if entry.retracted_at is None:
            return None
        return {
            "at": utc_text(entry.retracted_at),
            "by": {"id": entry.retracted_by_id, "full_name": entry.retracted_by.display_name},
            "reason": entry.retract_reason,
        }

    def to_representation(self, entry: Entry) -> dict:
        """The entry written straight out (`write_entry`); the declared fields
        above stay the schema and the input."""
        return write_entry(entry_values(entry))


class EntryRowSerializer(serializers.BaseSerializer):
    """An entry of a timeline's page, written from its plain row
    (ENTRY_ROW_COLUMNS) as EntrySerializer writes the entry."""

    def to_representation(self, row: dict) -> dict:
        return write_entry(row)


class EntryAmendSerializer(serializers.Serializer):
    title = Text(max_length=TITLE_LIMIT)
    body = Text(max_length=BODY_LIMIT, allow_blank=True, required=False)
    reason = Text(max_length=REASON_LIMIT, allow_blank=True, required=False)


class EntryRetractSerializer(serializers.Serializer):
    reason = Text(max_length=REASON_LIMIT)


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

    pagination_class = Pagination

    @extend_schema(responses=OrganizationWithWaitSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(Organization.objects.order_by("name"), request, self)
        waits = organization_waits(page)
        return paginator.get_paginated_response(
            OrganizationWithWaitSerializer(page, many=True, context={"waits": waits}).data
        )

    @extend_schema(request=OrganizationSerializer, responses={201: OrganizationSerializer})
    def post(self, request: Request) -> Response:
        if not may_create_organizations(request.user):
            raise NotAllowed("Only system admins may create organizations.")
        serializer = OrganizationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = services.create_organization(**serializer.validated_data)
        return Response(OrganizationSerializer(organization).data, status=status.HTTP_201_CREATED)


class ProviderCreateView(APIView):
    @extend_schema(request=ProviderSerializer, responses={201: ProviderSerializer})
    def post(self, request: Request) -> Response:
        user = request.user
        if not may_add_providers(user):
            raise NotAllowed("Only system admins and organization admins may add providers.")
        own_only = "Organization admins may add providers to their own organization only."
        if isinstance(request.data, dict):
            # 403 before 400: another organization's admin learns nothing from validation.
            requested = request.data.get("organization")
            if requested is not None and not may_add_providers(user, requested):
                raise NotAllowed(own_only)
        serializer = ProviderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = serializer.validated_data["organization"]
        if not may_add_providers(user, organization.pk):
            raise NotAllowed(own_only)
        provider = services.create_provider(**serializer.validated_data)
        return Response(ProviderSerializer(provider).data, status=status.HTTP_201_CREATED)


class ClientListView(APIView):
    pagination_class = Pagination

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q",
                str,
                description="Part of a name, a health card number or a birth date (YYYY-MM-DD); "
                "at most 200 characters.",
            )
        ],
        responses=ClientSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = request.query_params.get("q", "")
        if len(query) > 200:
            raise exceptions.ValidationError(
                {"q": ["Ensure this field has no more than 200 characters."]}
            )
        if "\x00" in query:
            # PostgreSQL refuses NUL in a query; answer alike on every database.
            raise exceptions.ValidationError({"q": ["Null characters are not allowed."]})
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(search_clients(request.user, query), request, self)
        record_access(request.user, page, Action.CLIENT_SEARCH if query else Action.CLIENT_LIST)
        return paginator.get_paginated_response(ClientSerializer(page, many=True).data)

    @extend_schema(
        request=ClientSerializer, responses={200: ClientSerializer, 201: ClientSerializer}
    )
    def post(self, request: Request) -> Response:
        require_organization(request.user)
        if not may_join_care_teams(request.user):
            raise NotAllowed(
                "Organization admins and privacy officers do not register or match clients: "
                "either puts you on the care team."
            )
        serializer = ClientSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        registration = services.register_client(provider=request.user, **serializer.validated_data)
        data = ClientSerializer(registration.client).data
        data["matched"] = registration.matched
        return Response(
            data, status=status.HTTP_200_OK if registration.matched else status.HTTP_201_CREATED
        )


class ClientDetailSerializer(ClientSerializer):
    """One client, with whether they have opened their portal account (not
    what they did there: that is theirs, docs/portal.md)."""

    portal_account = serializers.SerializerMethodField()

    class Meta(ClientSerializer.Meta):
        fields = [*ClientSerializer.Meta.fields, "portal_account"]

    def get_portal_account(self, client: Client) -> bool:
        return has_portal_account(client)


class ClientDetailView(ClientScopedView):
    @extend_schema(responses=ClientDetailSerializer)
    def get(self, request: Request, client_id: str) -> Response:
        record_access(request.user, self.client, Action.CLIENT_READ)
        return Response(ClientDetailSerializer(self.client).data)

    @extend_schema(request=ClientPatchSerializer, responses=ClientSerializer)
    def patch(self, request: Request, client_id: str) -> Response:
        require_organization(request.user)
        serializer = ClientPatchSerializer(data=json_object(request))
        serializer.is_valid(raise_exception=True)
        client = services.update_demographics(
            actor=request.user, client=self.client, **serializer.validated_data
        )
        return Response(ClientSerializer(client).data)


class CareTeamView(ClientScopedView):
    @extend_schema(responses=CareTeamMemberSerializer(many=True))
    def get(self, request: Request, client_id: str) -> Response:
        record_access(request.user, self.client, Action.CARE_TEAM_READ)
        return Response(CareTeamMemberSerializer(active_care_team(self.client), many=True).data)

    @extend_schema(request=CareTeamAddSerializer, responses={201: CareTeamMemberSerializer})
    def post(self, request: Request, client_id: str) -> Response:
        serializer = CareTeamAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        provider = serializer.validated_data["provider"]
        if provider.organization_id != request.user.organization_id:
            raise NotAllowed(
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
        membership = access_care_team_member(self.client, provider_id)
        # Themself, or a colleague of the organization they are on the case for
        # (the service's rule: 403 otherwise).
        services.leave_care_team(
            actor=request.user, client=self.client, provider=membership.provider
        )
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


class EntryListView(EntryReadingView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "category",
                str,
                enum=Category.values,
                many=True,
                explode=True,
                description="Only these categories (repeat for several).",
            ),
            *PAGE_PARAMETERS,
        ],
        responses=page_schema(
            "EntryPage", EntrySerializer(many=True), withheld_count=serializers.IntegerField()
        ),
    )
    def get(self, request: Request, client_id: str) -> Response:
        categories = parse_category_filter(request)
        entries, visible, withheld = entries_and_counts(request.user, self.client)
        if categories is not None:
            entries = entries.filter(category__in=categories)
            visible = None  # the page counts its own filter
        response, _ = self.paginate(
            entries.values(*ENTRY_ROW_COLUMNS),
            EntryRowSerializer,
            count=visible,
            withheld_count=withheld,
        )
        record_access(request.user, self.client, Action.ENTRY_LIST)
        return response

    @extend_schema(request=EntrySerializer, responses={201: EntrySerializer})
    def post(self, request: Request, client_id: str) -> Response:
        serializer = EntrySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = services.add_entry(
            provider=request.user, client=self.client, **serializer.validated_data
        )
        return Response(EntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class EntryDetailView(EntryReadingView):
    @extend_schema(operation_id="v1_clients_entries_read", responses=EntrySerializer)
    def get(self, request: Request, client_id: str, entry_id: str) -> Response:
        entry = access_entry(request.user, self.client, entry_id)
        record_access(request.user, self.client, Action.ENTRY_READ)
        return Response(EntrySerializer(entry).data)


class EntryAmendView(EntryReadingView):
    """A new version of an entry, by its own organization (the original is kept)."""

    @extend_schema(request=EntryAmendSerializer, responses={201: EntrySerializer})
    def post(self, request: Request, client_id: str, entry_id: str) -> Response:
        entry = access_entry(request.user, self.client, entry_id)
        services.check_may_change_entry(request.user, entry, "amend")  # 403 before 400
        serializer = EntryAmendSerializer(data=json_object(request))
        serializer.is_valid(raise_exception=True)
        amendment = services.amend_entry(
            provider=request.user, entry=entry, **serializer.validated_data
        )
        amendment = access_entry(request.user, self.client, amendment.pk)
        return Response(EntrySerializer(amendment).data, status=status.HTTP_201_CREATED)


class EntryRetractView(EntryReadingView):
    """Withdraw an entry written in error: a tombstone stays for its readers."""

    @extend_schema(request=EntryRetractSerializer, responses=EntrySerializer)
    def post(self, request: Request, client_id: str, entry_id: str) -> Response:
        entry = access_entry(request.user, self.client, entry_id)
        services.check_may_change_entry(request.user, entry, "retract")  # 403 before 400
        serializer = EntryRetractSerializer(data=json_object(request))
        serializer.is_valid(raise_exception=True)
        entry = services.retract_entry(
            provider=request.user, entry=entry, reason=serializer.validated_data["reason"]
        )
        entry = access_entry(request.user, self.client, entry.pk)
        return Response(EntrySerializer(entry).data)
