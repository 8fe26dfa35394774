"""Helpers for tests of accounts that sign in with a second factor."""

from django.test import Client as WebClient
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def enrol(provider) -> TOTPDevice:
    """A confirmed authenticator for `provider`, as enrolment leaves it."""
    return TOTPDevice.objects.create(user=provider, name="Authenticator app", confirmed=True)


def code_now(device: TOTPDevice) -> str:
    """What the authenticator app shows now. A code is usable once per 30 s step
    and a failure pauses the device for a second or more; a test signs in faster
    than a person, so the device forgets both, as if time had passed."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def verified_login(client: WebClient, provider) -> WebClient:
    """`force_login`, verified by a second factor (what the sign-in pages leave)."""
    device = TOTPDevice.objects.filter(user=provider, confirmed=True).first() or enrol(provider)
    client.force_login(provider)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
