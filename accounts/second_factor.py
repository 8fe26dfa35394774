"""The second factor (django-otp): a TOTP authenticator app, with recovery codes
(a static device) for when the phone is lost.

Required at sign-in — the pages, the admin and the token endpoint alike — for
the roles that see the most: privacy officers (every access log), org admins
(every account of their organization) and superusers. One setting,
CARELINK_REQUIRE_2FA, switches it off everywhere at once.
"""

from base64 import b32encode

import segno
from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user, user_has_device
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.permissions import sees_the_most
from records.models import Provider

RECOVERY_CODES = 10
AUTHENTICATOR = "Authenticator app"
RECOVERY = "Recovery codes"


def needs_second_factor(provider: Provider) -> bool:
    if not settings.CARELINK_REQUIRE_2FA:
        return False
    return sees_the_most(provider)


def is_enrolled(provider: Provider) -> bool:
    return user_has_device(provider, confirmed=True)


@transaction.atomic
def verify_second_factor(provider: Provider, code: str) -> Device | None:
    """The confirmed device that accepts `code` — a TOTP code or an unused
    recovery code (used up by this) — or None. django-otp throttles each device
    after failures, so codes cannot be guessed at speed even from many addresses."""
    code = "".join(code.split())
    if not code or len(code) > 16:
        return None
    for device in devices_for_user(provider, confirmed=True, for_verify=True):
        if device.verify_token(code):
            return device
    return None


def start_enrolment(provider: Provider) -> TOTPDevice:
    """The provider's not yet confirmed authenticator (one, kept across reloads)."""
    device = TOTPDevice.objects.filter(user=provider, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=provider, name=AUTHENTICATOR, confirmed=False)


@transaction.atomic
def confirm_enrolment(device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the authenticator with a first code from it; then the provider
    gets a fresh set of recovery codes, returned once (None: the code was wrong)."""
    if not device.verify_token("".join(code.split())):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    return new_recovery_codes(device.user)


@transaction.atomic
def new_recovery_codes(provider: Provider) -> list[str]:
    """A new set of recovery codes; the old ones stop working."""
    StaticDevice.objects.filter(user=provider).delete()
    recovery = StaticDevice.objects.create(user=provider, name=RECOVERY, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=c) for c in codes)
    return codes


def reset_second_factor(provider: Provider) -> None:
    """Forget the provider's devices (a lost phone): they enrol again at sign-in."""
    TOTPDevice.objects.filter(user=provider).delete()
    StaticDevice.objects.filter(user=provider).delete()


def secret_text(device: TOTPDevice) -> str:
    """The key as an authenticator app takes it by hand: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG, drawn by the server (no script, no CDN)."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, border=2, dark="#000", light="#fff", svgclass="qr-code", lineclass=None
    )
