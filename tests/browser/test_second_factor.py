"""A privacy officer's first sign-in in a real browser at phone width:
password, enrolment (QR code and key from the server, no script), a TOTP code,
the recovery codes; then a later sign-in with a code. Keyboard only, axe-clean."""

from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, screenshot
from tests.factories import OrganizationFactory, ProviderFactory
from tests.second_factor import code_now

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_enrolment_and_sign_in_with_a_totp_code(new_page, live_server):
    centre = OrganizationFactory(name="Eastside Community Mental Health", sector="mental_health")
    ProviderFactory(
        username="privacy_pat", full_name="Pat Okafor", organization=centre, role="privacy_officer"
    )
    page = new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Refused" in m.text else None)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").focus()
    page.keyboard.type("privacy_pat")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Set up a second factor")).to_be_visible()
    expect(page.get_by_role("img", name="QR code that adds CareLink")).to_be_visible()
    assert fits_the_width(page)
    assert_accessible(page, "second factor enrolment")
    screenshot(page, "enrol-second-factor")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8))
    code = f"{TOTP(key).token():06d}"
    page.get_by_label("Code from the app").fill(code)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="keep your recovery codes")).to_be_visible()
    expect(page.get_by_role("list", name="Recovery codes").get_by_role("listitem")).to_have_count(
        10
    )
    assert fits_the_width(page)
    assert_accessible(page, "recovery codes")
    page.get_by_role("link", name="I have kept them: continue").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("privacy_pat")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    assert fits_the_width(page)
    assert_accessible(page, "second factor")
    device = TOTPDevice.objects.get(user__username="privacy_pat", confirmed=True)
    page.get_by_label("Code").fill(code_now(device))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    assert not refused, refused
