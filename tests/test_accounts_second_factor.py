"""Second factor (issue 14, item 10): privacy officers, org admins and
superusers sign in with a TOTP code (or a recovery code) on the pages, the
admin and the token endpoint; enrolment on first sign-in; one setting,
CARELINK_REQUIRE_2FA, switches it all off."""

import re

import pytest
from django.test import Client as WebClient
from django_otp.plugins.otp_static.models import StaticToken
from rest_framework.test import APIClient

from tests.factories import ProviderFactory
from tests.second_factor import code_now, enrol, verified_login

PASSWORD = "correct horse battery staple"


@pytest.fixture
def org_admin(family_practice):
    return ProviderFactory(username="admin_ria", organization=family_practice, role="org_admin")


@pytest.fixture(params=["privacy_pat", "org_admin", "sysadmin"])
def guarded(request):
    """Each role that signs in with a second factor."""
    return request.getfixturevalue(request.param)


def token_request(username: str, **extra):
    return APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": PASSWORD, **extra}, format="json"
    )


# --- the token endpoint -------------------------------------------------------------------


def test_token_without_otp_is_400_naming_otp(guarded):
    enrol(guarded)
    response = token_request(guarded.username)
    assert response.status_code == 400
    assert "otp" in response.json() and "token" not in response.json()


def test_token_with_a_wrong_otp_is_400_naming_otp(guarded):
    enrol(guarded)
    response = token_request(guarded.username, otp="000000")
    assert response.status_code == 400
    assert "otp" in response.json() and "token" not in response.json()


def test_token_with_the_current_code(guarded):
    device = enrol(guarded)
    response = token_request(guarded.username, otp=code_now(device))
    assert response.status_code == 200, response.content
    assert response.json()["token"]


def test_a_recovery_code_works_once(privacy_pat):
    from accounts.second_factor import new_recovery_codes

    enrol(privacy_pat)
    code = new_recovery_codes(privacy_pat)[0]
    assert token_request("privacy_pat", otp=code).status_code == 200
    assert token_request("privacy_pat", otp=code).status_code == 400
    assert StaticToken.objects.filter(device__user=privacy_pat).count() == 9


def test_token_before_enrolment_is_400_naming_otp(privacy_pat):
    response = token_request("privacy_pat", otp="123456")
    assert response.status_code == 400
    assert "otp" in response.json()


def test_other_roles_need_no_otp(dr_lee, intake_kim):
    for provider in (dr_lee, intake_kim):
        assert token_request(provider.username).status_code == 200


def test_wrong_password_is_still_the_credentials_error_not_otp(privacy_pat):
    enrol(privacy_pat)
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "privacy_pat", "password": "no"}, format="json"
    )
    assert response.status_code == 400
    assert "otp" not in response.json()


def test_switched_off_every_role_signs_in_with_the_password(guarded, settings):
    settings.CARELINK_REQUIRE_2FA = False
    assert token_request(guarded.username).status_code == 200


# --- the sign-in pages ----------------------------------------------------------------------


def sign_in_form(browser: WebClient, username: str, next_url: str = "/"):
    return browser.post(
        f"/accounts/login/?next={next_url}", {"username": username, "password": PASSWORD}
    )


def test_first_sign_in_enrols_then_signs_in(privacy_pat):
    browser = WebClient()
    response = sign_in_form(browser, "privacy_pat")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/enrol/"
    # Half signed in is not signed in.
    assert browser.get("/").status_code == 302
    assert browser.get("/api/v1/me/").status_code == 401

    page = browser.get("/accounts/login/enrol/")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<svg width="' in html and 'class="qr-code"' in html
    secret = re.search(r'<code class="secret" id="totp-secret">([A-Z2-7 ]+)</code>', html)
    assert secret and len(secret.group(1).replace(" ", "")) == 32
    assert "<script>" not in html

    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=privacy_pat, confirmed=False)
    wrong = browser.post("/accounts/login/enrol/", {"code": "000000"})
    assert wrong.status_code == 200 and "not valid" in wrong.content.decode()
    assert browser.get("/").status_code == 302

    done = browser.post("/accounts/login/enrol/", {"code": code_now(device)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    assert browser.get("/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_an_enrolled_provider_signs_in_with_a_code(privacy_pat):
    device = enrol(privacy_pat)
    browser = WebClient()
    response = sign_in_form(browser, "privacy_pat", next_url="/consent-policies/")
    assert response["Location"] == "/accounts/login/second-factor/"
    assert browser.get("/").status_code == 302
    wrong = browser.post("/accounts/login/second-factor/", {"code": "123456"})
    assert wrong.status_code == 200 and "not valid" in wrong.content.decode()
    right = browser.post("/accounts/login/second-factor/", {"code": code_now(device)})
    assert right.status_code == 302 and right["Location"] == "/consent-policies/"
    assert browser.get("/").status_code == 200


def test_a_recovery_code_signs_in_on_the_page(privacy_pat):
    from accounts.second_factor import new_recovery_codes

    enrol(privacy_pat)
    code = new_recovery_codes(privacy_pat)[3]
    browser = WebClient()
    sign_in_form(browser, "privacy_pat")
    assert browser.post("/accounts/login/second-factor/", {"code": code}).status_code == 302
    assert browser.get("/").status_code == 200


def test_the_second_step_without_a_password_first_goes_back_to_sign_in(db):
    for path in ("/accounts/login/second-factor/", "/accounts/login/enrol/"):
        response = WebClient().get(path)
        assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_a_held_sign_in_expires(privacy_pat, monkeypatch):
    device = enrol(privacy_pat)
    browser = WebClient()
    sign_in_form(browser, "privacy_pat")
    import accounts.sign_in

    monkeypatch.setattr(accounts.sign_in, "PENDING_SECONDS", -1)
    response = browser.post("/accounts/login/second-factor/", {"code": code_now(device)})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert browser.get("/").status_code == 302


def test_other_roles_sign_in_with_the_password_alone(dr_lee):
    browser = WebClient()
    assert sign_in_form(browser, "dr_lee")["Location"] == "/"
    assert browser.get("/").status_code == 200


def test_switched_off_the_pages_ask_no_second_factor(privacy_pat, settings):
    settings.CARELINK_REQUIRE_2FA = False
    browser = WebClient()
    assert sign_in_form(browser, "privacy_pat")["Location"] == "/"
    assert browser.get("/").status_code == 200


def test_a_wrong_code_counts_toward_the_address_throttle(privacy_pat, settings):
    settings.CARELINK_SIGN_IN_FAILURES_PER_ADDRESS = 3
    enrol(privacy_pat)
    browser = WebClient()
    sign_in_form(browser, "privacy_pat")
    for _ in range(3):
        browser.post("/accounts/login/second-factor/", {"code": "000000"})
    assert browser.post("/accounts/login/second-factor/", {"code": "000000"}).status_code == 429


def test_new_recovery_codes_replace_the_old(privacy_pat):
    from accounts.second_factor import new_recovery_codes

    old = new_recovery_codes(privacy_pat)
    browser = verified_login(WebClient(), privacy_pat)
    assert browser.get("/accounts/recovery-codes/").status_code == 200
    page = browser.post("/accounts/recovery-codes/")
    new = re.findall(r"<li><code>([a-z0-9]+)</code></li>", page.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert token_request("privacy_pat", otp=new[0]).status_code == 200
    assert token_request("privacy_pat", otp=old[0]).status_code == 400


# --- the admin ------------------------------------------------------------------------------


def test_the_admin_needs_a_verified_session(sysadmin):
    unverified = WebClient()
    unverified.force_login(sysadmin)
    response = unverified.get("/admin/")
    assert response.status_code == 302
    assert verified_login(WebClient(), sysadmin).get("/admin/").status_code == 200


def test_the_admin_signs_in_through_the_sign_in_pages(sysadmin):
    response = WebClient().get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    device = enrol(sysadmin)
    browser = WebClient()
    assert sign_in_form(browser, "sysadmin", "/admin/")["Location"].endswith("second-factor/")
    response = browser.post("/accounts/login/second-factor/", {"code": code_now(device)})
    assert response["Location"] == "/admin/"
    assert browser.get("/admin/").status_code == 200


def test_switched_off_the_admin_takes_a_plain_session(sysadmin, settings):
    settings.CARELINK_REQUIRE_2FA = False
    browser = WebClient()
    browser.force_login(sysadmin)
    assert browser.get("/admin/").status_code == 200


def test_the_admin_shows_no_second_factor_secret(sysadmin, privacy_pat):
    enrol(privacy_pat)
    admin = verified_login(WebClient(), sysadmin)
    for path in (
        "/admin/otp_totp/totpdevice/",
        "/admin/otp_static/staticdevice/",
    ):
        assert admin.get(path).status_code == 404, path


def test_the_admin_resets_a_lost_second_factor(sysadmin, privacy_pat):
    from accounts.second_factor import is_enrolled, new_recovery_codes

    enrol(privacy_pat)
    new_recovery_codes(privacy_pat)
    admin = verified_login(WebClient(), sysadmin)
    response = admin.post(
        "/admin/records/provider/",
        {"action": "reset_second_factor", "_selected_action": [privacy_pat.pk]},
    )
    assert response.status_code == 302
    assert not is_enrolled(privacy_pat)
    browser = WebClient()
    assert sign_in_form(browser, "privacy_pat")["Location"] == "/accounts/login/enrol/"


def test_the_admin_tells_a_signed_in_provider_it_is_not_theirs(dr_lee):
    browser = WebClient()
    browser.force_login(dr_lee)
    response = browser.get("/admin/", follow=True)
    assert response.status_code == 403
