"""REST API v1 of the consent app: directives, policies, emergency access, access log."""

from datetime import date, datetime, time
from typing import Any

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.lookups import access_directive
from access.rest import ClientScopedView
from consent import services
from consent.models import ConsentPolicy, Effect, EmergencyAccess
from consent.rest import DirectiveSerializer
from consent.selectors import access_log_rows, directives_of, live_policies
from consent.services import POLICY_RULE_LIMIT
from core.audit import Action, record_access
from core.errors import NotAllowed
from core.ids import parse_int_id
from core.permissions import may_edit_policies, may_read_access_log
from core.rest import (
    BoundedDateTimeField,
    Pagination,
    Text,
    UTCDateTimeField,
    check_input,
    utc_text,
)
from core.vocabulary import NAME_LIMIT, REASON_LIMIT, Category, Sector
from records.models import Organization

NO_POLICY = "No consent policy found."

# --- fields and serializers ---------------------------------------------------------------


class DateOrDateTimeField(BoundedDateTimeField):
    """Accepts a timestamp, or a plain date meaning the start of that day locally."""

    def to_internal_value(self, value: Any) -> datetime:
        if isinstance(value, str) and len(value) == 10:
            try:
                day = date.fromisoformat(value)
            except ValueError:
                self.fail("invalid", format="YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][+HH:MM]")
            # Naive: the parent makes it aware in the current (the clinic's) time zone.
            value = datetime.combine(day, time.min)
        return super().to_internal_value(value)


class CategoriesField(serializers.ListField):
    child = serializers.ChoiceField(choices=Category.choices)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_empty=False, max_length=len(Category.values), **kwargs)


class GranteeMixin(serializers.Serializer):
    grantee_organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False, allow_null=True
    )
    grantee_sector = serializers.ChoiceField(
        choices=Sector.choices, required=False, allow_blank=True, allow_null=True
    )

    def validate(self, attrs: dict) -> dict:
        organization = attrs.get("grantee_organization")
        sector = attrs.get("grantee_sector") or ""
        check_input(
            services.check_one_grantee, grantee_organization=organization, grantee_sector=sector
        )
        attrs["grantee_sector"] = sector
        attrs["grantee_organization"] = organization
        return attrs


class DirectiveInputSerializer(GranteeMixin):
    effect = serializers.ChoiceField(choices=Effect.choices)
    categories = CategoriesField()
    valid_from = DateOrDateTimeField(required=False, allow_null=True)
    expires_at = DateOrDateTimeField(required=False, allow_null=True)
    note = Text(max_length=REASON_LIMIT, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        valid_from = attrs.get("valid_from") or timezone.now()
        expires_at = attrs.get("expires_at")
        if expires_at is not None and expires_at <= valid_from:
            raise serializers.ValidationError({"expires_at": ["Must be after valid_from."]})
        return attrs


class PolicyApplySerializer(serializers.Serializer):
    policy = serializers.PrimaryKeyRelatedField(
        queryset=ConsentPolicy.objects.filter(archived_at__isnull=True)
    )


class PolicyRuleSerializer(GranteeMixin):
    effect = serializers.ChoiceField(choices=Effect.choices)
    categories = CategoriesField()


class ConsentPolicySerializer(serializers.ModelSerializer):
    name = Text(max_length=NAME_LIMIT)
    description = Text(max_length=REASON_LIMIT, required=False, allow_blank=True, default="")
    rules = PolicyRuleSerializer(many=True, allow_empty=False, max_length=POLICY_RULE_LIMIT)

    class Meta:
        model = ConsentPolicy
        fields = ["id", "name", "description", "rules"]

    def to_representation(self, policy: ConsentPolicy) -> dict:
        return {
            "id": policy.pk,
            "name": policy.name,
            "description": policy.description,
            "rules": [
                {
                    "effect": rule.effect,
                    "grantee_organization": rule.grantee_organization_id,
                    "grantee_sector": rule.grantee_sector or None,
                    "categories": rule.categories,
                }
                for rule in policy.rules.all()
            ],
        }


class EmergencyAccessSerializer(serializers.ModelSerializer):
    reason = Text(max_length=REASON_LIMIT)

    class Meta:
        model = EmergencyAccess
        fields = ["id", "client", "provider", "organization", "reason", "granted_at", "expires_at"]
        read_only_fields = ["id", "client", "provider", "organization", "granted_at", "expires_at"]


class AccessEventSerializer(serializers.Serializer):
    """One access event, written from a row of `access_log_rows` (plain values,
    not model instances: a page of fifty is the access log's whole cost after
    its SQL). The fields say what the API answers; `to_representation` writes
    them straight from the row."""

    id = serializers.UUIDField()
    at = UTCDateTimeField()
    provider = inline_serializer(
        "AccessEventProvider",
        {
            # The client themself (through the portal) is named, with no id.
            "id": serializers.IntegerField(allow_null=True),
            "full_name": serializers.CharField(),
        },
    )
    organization = inline_serializer(
        "AccessEventOrganization",
        {"id": serializers.IntegerField(), "name": serializers.CharField()},
        allow_null=True,
    )
    action = serializers.CharField()
    channel = serializers.CharField()
    emergency = serializers.BooleanField()
    by_client = serializers.BooleanField()

    def to_representation(self, row: dict) -> dict:
        organization_id = row["organization_id"]
        return {
            "id": str(row["id"]),
            "at": utc_text(row["at"]),
            "provider": {
                "id": None if row["by_client"] else row["actor_id"],
                # As Provider.display_name: the full name, else the username.
                "full_name": row["actor__full_name"] or row["actor__username"],
            },
            "organization": (
                None
                if organization_id is None
                else {"id": organization_id, "name": row["organization__name"]}
            ),
            "action": row["action"],
            "channel": row["channel"],
            "emergency": row["emergency"],
            "by_client": row["by_client"],
        }


# --- views ----------------------------------------------------------------------------------


class ConsentListView(ClientScopedView):
    pagination_class = Pagination

    @extend_schema(responses=DirectiveSerializer(many=True))
    def get(self, request: Request, client_id: str) -> Response:
        response, _ = self.paginate(directives_of(self.client), DirectiveSerializer)
        record_access(request.user, self.client, Action.CONSENT_LIST)
        return response

    @extend_schema(request=DirectiveInputSerializer, responses={201: DirectiveSerializer})
    def post(self, request: Request, client_id: str) -> Response:
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"detail": "Send a JSON object."})
        if "policy" in request.data:
            directive_fields = set(DirectiveInputSerializer().fields) & set(request.data)
            if directive_fields:
                raise exceptions.ValidationError(
                    {"policy": ["Send either a policy or a directive, not both."]}
                )
            serializer = PolicyApplySerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            directives = services.apply_consent_policy(
                provider=request.user,
                client=self.client,
                policy=serializer.validated_data["policy"],
            )
            data = DirectiveSerializer(
                directives_of(self.client).filter(pk__in=[d.pk for d in directives]), many=True
            ).data
            return Response({"directives": data}, status=status.HTTP_201_CREATED)
        serializer = DirectiveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        directive = services.record_consent(
            provider=request.user, client=self.client, **serializer.validated_data
        )
        return Response(
            DirectiveSerializer(directives_of(self.client).get(pk=directive.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class ConsentRevokeView(APIView):
    @extend_schema(request=None, responses=DirectiveSerializer)
    def post(self, request: Request, consent_id: str) -> Response:
        # A directive of a client off the caller's care teams does not exist for them:
        # the same 404, word for word, as an unknown id.
        directive = access_directive(request.user, consent_id)
        services.revoke_consent(provider=request.user, directive=directive)
        return Response(
            DirectiveSerializer(directives_of(directive.client_id).get(pk=directive.pk)).data
        )


class MayEditPoliciesOrReadOnly(BasePermission):
    message = "Only privacy officers and system admins may change consent policies."

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS or may_edit_policies(request.user)


class ConsentPolicyListView(APIView):
    pagination_class = Pagination

    permission_classes = [IsAuthenticated, MayEditPoliciesOrReadOnly]

    @extend_schema(responses=ConsentPolicySerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(live_policies(), request, self)
        return paginator.get_paginated_response(ConsentPolicySerializer(page, many=True).data)

    @extend_schema(request=ConsentPolicySerializer, responses={201: ConsentPolicySerializer})
    def post(self, request: Request) -> Response:
        serializer = ConsentPolicySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        policy = services.save_consent_policy(**serializer.validated_data)
        return Response(ConsentPolicySerializer(policy).data, status=status.HTTP_201_CREATED)


class ConsentPolicyDetailView(APIView):
    permission_classes = [IsAuthenticated, MayEditPoliciesOrReadOnly]

    def get_policy(self, policy_id: str) -> ConsentPolicy:
        policy = live_policies().filter(pk=parse_int_id(policy_id, NO_POLICY)).first()
        if policy is None:
            raise Http404(NO_POLICY)
        return policy

    @extend_schema(responses=ConsentPolicySerializer)
    def get(self, request: Request, policy_id: str) -> Response:
        return Response(ConsentPolicySerializer(self.get_policy(policy_id)).data)

    def _save(self, request: Request, policy_id: str, partial: bool) -> Response:
        policy = self.get_policy(policy_id)
        data = request.data
        if partial:
            if not isinstance(data, dict):
                raise exceptions.ValidationError({"detail": "Send a JSON object."})
            # A PATCH replaces the fields it names and the result is validated whole:
            # under DRF's partial=True the required fields of each nested rule would be
            # skipped, letting a rule without an effect or categories through.
            data = {**ConsentPolicySerializer(policy).data, **data}
        serializer = ConsentPolicySerializer(policy, data=data)
        serializer.is_valid(raise_exception=True)
        policy = services.save_consent_policy(policy=policy, **serializer.validated_data)
        return Response(ConsentPolicySerializer(live_policies().get(pk=policy.pk)).data)

    @extend_schema(request=ConsentPolicySerializer, responses=ConsentPolicySerializer)
    def put(self, request: Request, policy_id: str) -> Response:
        return self._save(request, policy_id, partial=False)

    @extend_schema(request=ConsentPolicySerializer, responses=ConsentPolicySerializer)
    def patch(self, request: Request, policy_id: str) -> Response:
        return self._save(request, policy_id, partial=True)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, policy_id: str) -> Response:
        services.archive_consent_policy(self.get_policy(policy_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmergencyAccessView(ClientScopedView):
    @extend_schema(request=EmergencyAccessSerializer, responses={201: EmergencyAccessSerializer})
    def post(self, request: Request, client_id: str) -> Response:
        services.require_may_break_the_glass(request.user)  # 403 before 400
        serializer = EmergencyAccessSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        grant = services.grant_emergency_access(
            provider=request.user, client=self.client, reason=serializer.validated_data["reason"]
        )
        return Response(EmergencyAccessSerializer(grant).data, status=status.HTTP_201_CREATED)


class AccessLogView(ClientScopedView):
    pagination_class = Pagination

    for_audit = True

    @extend_schema(responses=AccessEventSerializer(many=True))
    def get(self, request: Request, client_id: str) -> Response:
        if not may_read_access_log(request.user):
            raise NotAllowed("Only privacy officers and system admins may read the access log.")
        # Counted on the events alone (KeysFirst): a count of the rows would
        # join the names in, over the whole log.
        response, _ = self.paginate(access_log_rows(self.client), AccessEventSerializer)
        record_access(request.user, self.client, Action.ACCESS_LOG_READ)
        return response
