"""REST API of the client portal (docs/portal.md): the invitation a provider
hands out, the activation that opens the account, and under /api/v1/portal/
what the client sees and decides.

Every portal endpoint but activation reads the account's own client
(`PortalView`): there is no client id in these paths to guess. The wall
(core.permissions) keeps providers out and clients in before any view runs.
The client's own reads are not access events; their writes are, recorded by
the services.
"""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.rest import ClientScopedView
from accounts.throttle import client_address
from consent.models import Effect
from consent.rest import DirectiveSerializer
from core.audit import action_label
from core.models import AccessEvent
from core.rest import BoundedDateTimeField, UTCDateTimeField, json_object, page_of, paginate
from core.vocabulary import NAME_LIMIT, Category, Sector
from portal import selectors, services
from portal.models import SCALE_HIGH, SCALE_LOW, ExperienceAnswer
from records.models import CareTeamMembership, Client, Organization
from referrals.models import Referral, ReferralStatus

# --- the invitation and activation --------------------------------------------------------


class InviteSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Shown once: only its hash is kept.")
    expires_at = UTCDateTimeField()


class PortalInviteView(ClientScopedView):
    """`POST /api/v1/clients/{id}/portal-invite/`: a one-time code for the
    client, from a provider of a care-team organization (404 otherwise)."""

    @extend_schema(request=None, responses={201: InviteSerializer})
    def post(self, request: Request, client_id: str) -> Response:
        invite, code = services.issue_portal_invite(provider=request.user, client=self.client)
        data = InviteSerializer({"code": code, "expires_at": invite.expires_at}).data
        return Response(data, status=status.HTTP_201_CREATED)


class ActivationSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64)
    birth_date = serializers.DateField()
    username = serializers.CharField(max_length=NAME_LIMIT)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class ActivatedSerializer(serializers.Serializer):
    username = serializers.CharField()


class ActivationView(APIView):
    """`POST /api/v1/portal/activate/`: no sign-in; the code and the birth date
    are the credentials, behind the per-address guessing limit."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=ActivationSerializer,
        responses={
            201: ActivatedSerializer,
            400: OpenApiResponse(
                description="The code or the birth date is wrong (one message for both), "
                "or a field is invalid (by field)."
            ),
            409: OpenApiResponse(description="The client has a portal account already."),
            429: OpenApiResponse(description="Too many failed activations from this address."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        address = client_address(request._request)
        # Right or wrong, a throttled address is answered 429 before its input is read.
        services.check_activation_throttle(address)
        form = ActivationSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        account = services.activate_portal_account(address=address, **form.validated_data)
        return Response({"username": account.username}, status=status.HTTP_201_CREATED)


# --- what the client sees --------------------------------------------------------------------


class PortalView(APIView):
    """Base of the portal's endpoints: the client is the signed-in account's own."""

    client: Client

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.client = selectors.portal_client(request.user)


class PortalMeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    given_name = serializers.CharField()
    family_name = serializers.CharField()
    birth_date = serializers.DateField()
    phone = serializers.CharField()
    email = serializers.CharField()
    email_notices = serializers.BooleanField(
        help_text="An email when a referral is scheduled or declined (no clinical content)."
    )


class PortalMeChangeSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    email_notices = serializers.BooleanField(required=False)


class MeView(PortalView):
    """`GET /api/v1/portal/me/`: the client's own demographics and their email
    notices choice. `PATCH` changes the email address and the choice."""

    def me(self) -> dict:
        client = self.client
        return PortalMeSerializer(
            {
                "id": client.pk,
                "given_name": client.given_name,
                "family_name": client.family_name,
                "birth_date": client.birth_date,
                "phone": client.phone,
                "email": client.email,
                "email_notices": selectors.email_notices(client),
            }
        ).data

    @extend_schema(responses=PortalMeSerializer)
    def get(self, request: Request) -> Response:
        return Response(self.me())

    @extend_schema(request=PortalMeChangeSerializer, responses=PortalMeSerializer)
    def patch(self, request: Request) -> Response:
        form = PortalMeChangeSerializer(data=json_object(request))
        form.is_valid(raise_exception=True)
        self.client = services.change_contact(account=request.user, **form.validated_data)
        return Response(self.me())


class PortalCareTeamSerializer(serializers.Serializer):
    provider = inline_serializer(
        "PortalProvider", {"full_name": serializers.CharField(), "role": serializers.CharField()}
    )
    organization = inline_serializer(
        "PortalOrganization",
        {"name": serializers.CharField(), "sector": serializers.ChoiceField(Sector.choices)},
    )
    since = UTCDateTimeField()

    def to_representation(self, membership: CareTeamMembership) -> dict:
        return super().to_representation(
            {
                "provider": {
                    "full_name": membership.provider.display_name,
                    "role": membership.provider.role,
                },
                "organization": {
                    "name": membership.organization.name,
                    "sector": membership.organization.sector,
                },
                "since": membership.since,
            }
        )


class CareTeamView(PortalView):
    """`GET /api/v1/portal/care-team/`: who is on the case now."""

    @extend_schema(responses=PortalCareTeamSerializer(many=True))
    def get(self, request: Request) -> Response:
        team = selectors.portal_care_team(self.client)
        return Response(PortalCareTeamSerializer(team, many=True).data)


class PortalAccessEventSerializer(serializers.Serializer):
    """An access event as the client sees it: who (by name), from which
    organization, did what, when, and whether under emergency access. Their
    own writes name them, with no organization."""

    at = UTCDateTimeField()
    organization = inline_serializer(
        "PortalEventOrganization",
        {"name": serializers.CharField(), "sector": serializers.ChoiceField(Sector.choices)},
        allow_null=True,
    )
    provider = inline_serializer("PortalEventActor", {"full_name": serializers.CharField()})
    action = serializers.CharField()
    action_label = serializers.CharField(help_text="The action in plain words.")
    emergency = serializers.BooleanField()
    by_client = serializers.BooleanField()

    def to_representation(self, event: AccessEvent) -> dict:
        organization = event.organization
        return super().to_representation(
            {
                "at": event.at,
                "organization": (
                    {"name": organization.name, "sector": organization.sector}
                    if organization is not None
                    else None
                ),
                "provider": {"full_name": event.actor.display_name},
                "action": event.action,
                "action_label": action_label(event.action),
                "emergency": event.emergency,
                "by_client": event.by_client,
            }
        )


class AccessLogView(PortalView):
    """`GET /api/v1/portal/access-log/`: every access event on the client's
    record, newest first (reading it is not one)."""

    @extend_schema(responses=page_of(PortalAccessEventSerializer(many=True), "PortalAccessLog"))
    def get(self, request: Request) -> Response:
        log = selectors.portal_access_log(self.client)
        response, _ = paginate(request, self, log, PortalAccessEventSerializer)
        return response


class ClientDirectiveSerializer(serializers.Serializer):
    effect = serializers.ChoiceField(choices=Effect.choices)
    grantee_organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False, allow_null=True
    )
    grantee_sector = serializers.ChoiceField(
        choices=Sector.choices, required=False, allow_blank=True, allow_null=True
    )
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=Category.choices),
        allow_empty=False,
        max_length=len(Category.values),
    )
    expires_at = BoundedDateTimeField(required=False, allow_null=True)


class ConsentsView(PortalView):
    """`GET /api/v1/portal/consents/`: the client's directives, as the provider
    API shows them. `POST` records the client's own decision."""

    @extend_schema(responses=page_of(DirectiveSerializer(many=True), "PortalConsents"))
    def get(self, request: Request) -> Response:
        consents = selectors.portal_consents(self.client)
        response, _ = paginate(request, self, consents, DirectiveSerializer)
        return response

    @extend_schema(request=ClientDirectiveSerializer, responses={201: DirectiveSerializer})
    def post(self, request: Request) -> Response:
        form = ClientDirectiveSerializer(data=json_object(request))
        form.is_valid(raise_exception=True)
        directive = services.record_consent_by_client(account=request.user, **form.validated_data)
        directive = selectors.portal_directive(self.client, directive.pk)
        return Response(DirectiveSerializer(directive).data, status=status.HTTP_201_CREATED)


class ConsentRevokeView(PortalView):
    """`POST /api/v1/portal/consents/{id}/revoke/`: any of the client's
    directives, whoever recorded it; 409 once revoked."""

    @extend_schema(request=None, responses=DirectiveSerializer)
    def post(self, request: Request, consent_id: str) -> Response:
        directive = selectors.portal_directive(self.client, consent_id)
        services.revoke_consent_by_client(account=request.user, directive=directive)
        directive = selectors.portal_directive(self.client, directive.pk)
        return Response(DirectiveSerializer(directive).data)


class PortalReferralSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    to_organization = inline_serializer(
        "PortalReferralOrganization",
        {"name": serializers.CharField(), "sector": serializers.ChoiceField(Sector.choices)},
    )
    service = inline_serializer(
        "PortalReferralService", {"name": serializers.CharField()}, allow_null=True
    )
    status = serializers.ChoiceField(choices=ReferralStatus.choices)
    created_at = UTCDateTimeField()
    appointment_at = UTCDateTimeField(allow_null=True)
    wait_days = serializers.IntegerField(allow_null=True)
    expected_wait = inline_serializer(
        "ExpectedWait",
        {
            "median_wait_days": serializers.IntegerField(allow_null=True),
            "p90_wait_days": serializers.IntegerField(allow_null=True),
        },
        allow_null=True,
        help_text="While the referral waits (sent or accepted): its service's published "
        "figures, or its organization's when it names no service; null afterwards.",
    )
    experience_given = serializers.BooleanField()

    def to_representation(self, referral: Referral) -> dict:
        return super().to_representation(
            {
                "id": referral.pk,
                "to_organization": {
                    "name": referral.to_organization.name,
                    "sector": referral.to_organization.sector,
                },
                "service": {"name": referral.service.name} if referral.service_id else None,
                "status": referral.status,
                "created_at": referral.created_at,
                "appointment_at": referral.appointment_at,
                "wait_days": referral.wait_days,
                "expected_wait": referral.expected_wait,
                "experience_given": referral.experience_given,
            }
        )


class ReferralsView(PortalView):
    """`GET /api/v1/portal/referrals/`: the client's referrals, newest first."""

    @extend_schema(responses=page_of(PortalReferralSerializer(many=True), "PortalReferrals"))
    def get(self, request: Request) -> Response:
        response, _ = paginate(
            request, self, selectors.portal_referrals(self.client), PortalReferralSerializer
        )
        return response


class SurveyAnswerSerializer(serializers.ModelSerializer):
    repeated_story = serializers.BooleanField(help_text="Did you have to tell your story again?")
    kept_informed = serializers.IntegerField(min_value=SCALE_LOW, max_value=SCALE_HIGH)
    overall = serializers.IntegerField(min_value=SCALE_LOW, max_value=SCALE_HIGH)
    answered_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = ExperienceAnswer
        fields = ["repeated_story", "kept_informed", "overall", "answered_at"]


class ExperienceView(PortalView):
    """`POST /api/v1/portal/referrals/{id}/experience/`: how it went, once per
    referral, once it is scheduled or completed (409 otherwise)."""

    @extend_schema(request=SurveyAnswerSerializer, responses={201: SurveyAnswerSerializer})
    def post(self, request: Request, referral_id: str) -> Response:
        referral = selectors.portal_referral(self.client, referral_id)
        form = SurveyAnswerSerializer(data=json_object(request))
        form.is_valid(raise_exception=True)
        answer = services.record_experience(
            account=request.user, referral=referral, **form.validated_data
        )
        return Response(SurveyAnswerSerializer(answer).data, status=status.HTTP_201_CREATED)
