"""Writes of the accounts app: issuing and revoking API tokens."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import DeviceToken
from records import services as records_services
from records.models import Provider

_CREDENTIAL_SALT = "carelink.accounts.DeviceToken.credential"


def credential_of(provider: Provider) -> str:
    """What binds a token to the password it was issued under (see DeviceToken)."""
    return salted_hmac(_CREDENTIAL_SALT, provider.password, algorithm="sha256").hexdigest()


def token_is_current(token: DeviceToken) -> bool:
    """Issued under the provider's present password, to an active account."""
    provider = token.user
    return provider.is_active and constant_time_compare(token.credential, credential_of(provider))


def issue_token(provider: Provider) -> tuple[DeviceToken, str]:
    """A new token for one device or script; the plain token is returned once,
    only its digest is kept. The account's expired tokens go now."""
    DeviceToken.objects.filter(user=provider, expiry__lt=timezone.now()).delete()
    return DeviceToken.objects.create(
        user=provider,
        expiry=settings.REST_KNOX["TOKEN_TTL"],
        credential=credential_of(provider),
    )


def revoke_token(token: DeviceToken) -> None:
    token.delete()


def revoke_all_tokens(provider: Provider) -> int:
    """Every token of the provider ends now (logout-all, deactivation)."""
    deleted, _ = DeviceToken.objects.filter(user=provider).delete()
    return deleted


def revoke_stale_tokens(provider: Provider) -> None:
    """Forget the tokens that can no longer authenticate: all of them for an
    inactive account, those issued under an earlier password otherwise."""
    tokens = DeviceToken.objects.filter(user=provider)
    if provider.is_active:
        tokens = tokens.exclude(credential=credential_of(provider))
    tokens.delete()


@transaction.atomic
def deactivate(*, actor: Provider, provider: Provider) -> Provider:
    """Someone who left: the account closes (records' rules: who may, not
    oneself, not twice), their sessions end, and every token is revoked now."""
    provider = records_services.deactivate_provider(actor=actor, provider=provider)
    revoke_all_tokens(provider)
    return provider
