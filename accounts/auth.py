"""DRF authentication by device token (django-rest-knox)."""

import binascii
from hmac import compare_digest

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions
from rest_framework.request import Request

from accounts.models import DeviceToken
from accounts.services import revoke_stale_tokens, token_is_current
from core.permissions import wall_refusal
from records.models import Provider


class DeviceTokenAuthentication(TokenAuthentication):
    """knox's hashed, expiring tokens (`Authorization: Token <token>`), refused —
    and deleted — once the account is inactive or its password has changed since
    the token was issued. A refused token answers exactly like an unknown one."""

    def authenticate(self, request: Request) -> tuple[Provider, DeviceToken] | None:
        """A token signs in only on its own side of the portal's wall
        (core.permissions): checked here, as the token is read, so no view's
        own permission classes can leave it out."""
        signed_in = super().authenticate(request)
        if signed_in is not None:
            refusal = wall_refusal(signed_in[0], request._request.path_info)
            if refusal is not None:
                raise exceptions.PermissionDenied(refusal)
        return signed_in

    def validate_user(self, auth_token: DeviceToken) -> tuple[Provider, DeviceToken]:
        if not token_is_current(auth_token):
            revoke_stale_tokens(auth_token.user)
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return auth_token.user, auth_token

    def _cleanup_token(self, auth_token: DeviceToken) -> bool:
        """Only this token's own expiry (knox also deletes every other expired
        token of the account here: one more query on every request). The others
        are swept when the account next signs in (`accounts.services.issue_token`)."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False

    def authenticate_credentials(self, token: bytes) -> tuple[Provider, DeviceToken]:
        """knox's own steps (each token under the key: its expiry, its digest
        compared in constant time, then the account), reading the tokens with
        `DeviceToken.objects.presented` instead of a queryset built per
        request (docs/performance.md, "Province scale", change 28)."""
        invalid = _("Invalid token.")
        # A header that is not UTF-8 is a bad token (401), not a server error.
        try:
            text = token.decode("utf-8")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed(invalid) from error
        for auth_token in DeviceToken.objects.presented(text[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(text)
            except (TypeError, binascii.Error) as error:
                raise exceptions.AuthenticationFailed(invalid) from error
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(invalid)
