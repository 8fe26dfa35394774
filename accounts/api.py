"""The sign-in endpoints of the API: tokens that end (docs/security.md)."""

from typing import Any

from django.contrib.auth import authenticate, user_logged_in, user_logged_out, user_login_failed
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import second_factor
from accounts.auth import DeviceTokenAuthentication
from accounts.models import DeviceToken
from accounts.services import issue_token, revoke_all_tokens, revoke_token
from accounts.throttle import THROTTLED, client_address, sign_in_throttle
from core.rest import Text, UTCDateTimeField
from records.models import Provider

WRONG_CREDENTIALS = "Unable to sign in with the username and password given."


OTP_REQUIRED = (
    "This account signs in with a second factor: send the code of its authenticator app "
    "(or a recovery code) as otp."
)
OTP_NOT_ENROLLED = (
    "This account signs in with a second factor it has not set up yet: sign in once on the "
    "web pages to set it up."
)
OTP_WRONG = "The code is not valid."


class TokenRequestSerializer(serializers.Serializer):
    username = Text(max_length=150)
    password = Text(max_length=4096, trim_whitespace=False)
    otp = Text(
        max_length=16,
        required=False,
        allow_blank=True,
        help_text="Privacy officers, org admins and system admins: the second factor's code.",
    )


class TokenSerializer(serializers.Serializer):
    token = Text()
    expiry = UTCDateTimeField()


class ObtainTokenView(APIView):
    """`POST /api/v1/auth/token/`: a new token for one device, every time."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(description="Wrong credentials"),
            429: OpenApiResponse(description="Too many failed sign-ins from this address"),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        throttle, address = sign_in_throttle(), client_address(request._request)
        if (wait := throttle.retry_after(address)) is not None:
            raise exceptions.Throttled(wait=wait, detail=THROTTLED)
        form = TokenRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        # The Django request, so django-axes can flag a locked-out account on it.
        provider = authenticate(
            request._request,
            username=form.validated_data["username"],
            password=form.validated_data["password"],
        )
        if provider is None:
            throttle.record_failure(address)
            raise exceptions.ValidationError({"non_field_errors": [WRONG_CREDENTIALS]})
        if second_factor.needs_second_factor(provider):
            self.check_second_factor(request, provider, form.validated_data.get("otp", ""))
        token, secret = issue_token(provider)
        user_logged_in.send(sender=type(provider), request=request._request, user=provider)
        data = TokenSerializer({"token": secret, "expiry": token.expiry}).data
        return Response(data)

    def check_second_factor(self, request: Request, provider: Provider, code: str) -> None:
        if not second_factor.is_enrolled(provider):
            raise exceptions.ValidationError({"otp": [OTP_NOT_ENROLLED]})
        if not code:
            raise exceptions.ValidationError({"otp": [OTP_REQUIRED]})
        if second_factor.verify_second_factor(provider, code) is None:
            # A failed sign-in for the address throttle and axes' account lockout alike.
            sign_in_throttle().record_failure(client_address(request._request))
            user_login_failed.send(
                sender=__name__,
                credentials={"username": provider.get_username()},
                request=request._request,
            )
            raise exceptions.ValidationError({"otp": [OTP_WRONG]})


class TokenAuthenticatedView(APIView):
    """The token itself is what is revoked, so only a token signs these in."""

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsAuthenticated]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not isinstance(request.auth, DeviceToken):
            raise exceptions.NotAuthenticated("Send the token to revoke as the credentials.")


class LogoutView(TokenAuthenticatedView):
    """`POST /api/v1/auth/logout/`: the token used ends now."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, *args: Any) -> Response:
        revoke_token(request.auth)
        user_logged_out.send(sender=type(request.user), request=request._request, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(TokenAuthenticatedView):
    """`POST /api/v1/auth/logout-all/`: every token of the caller ends now."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, *args: Any) -> Response:
        revoke_all_tokens(request.user)
        user_logged_out.send(sender=type(request.user), request=request._request, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
