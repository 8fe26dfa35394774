"""Credentials and sign-in attempts."""

from django.db import models
from django.utils import timezone
from knox.models import AbstractAuthToken, AuthTokenManager


class DeviceTokenManager(AuthTokenManager):
    """knox reads a presented token with its account (`select_related("user")`);
    this adds the account's organization to that one query, since every request
    of a provider asks for it (the consent engine reads its sector): one round
    trip fewer per token request (docs/performance.md, "Province scale")."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().select_related("user__organization")


class DeviceToken(AbstractAuthToken):
    """An API token of one device or script (django-rest-knox's token, swapped in
    with KNOX_TOKEN_MODEL): only its SHA-512 digest is stored, it expires after
    CARELINK_TOKEN_HOURS, and it is bound to the password it was issued under.

    `credential` is an HMAC of the provider's password hash when the token was
    issued. Every way of changing a password (the sign-in pages, the admin,
    `manage.py changepassword`, a shell) goes through `set_password`, which
    writes a new salted hash, so a token issued before the change no longer
    matches and is refused — the same mechanism that ends Django's sessions on a
    password change, with no signal and nothing in `Provider.save()`.
    """

    credential = models.CharField(max_length=64, editable=False)

    objects = DeviceTokenManager()

    class Meta:
        verbose_name = "device token"


class FailedAttempt(models.Model):
    """One failed attempt (a sign-in, later a portal activation) from one address,
    for the per-address throttle (accounts.throttle).

    In the database, not a cache: every gunicorn worker must see the same count,
    and the embedded deployment (SQLite, no Redis) has no cache its workers share.
    Rows older than the throttle's window are pruned as new ones are written."""

    scope = models.CharField(max_length=32)
    # An IPv4 or IPv6 address as django-axes reads it (the one its lockout uses).
    address = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["scope", "address", "at"], name="failed_attempt_window"),
            models.Index(fields=["at"], name="failed_attempt_at"),
        ]
