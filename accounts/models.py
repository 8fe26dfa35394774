"""Credentials and sign-in attempts."""

from django.db import models
from knox.models import AbstractAuthToken


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

    class Meta:
        verbose_name = "device token"
