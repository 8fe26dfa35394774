"""Web sign-in: the login page, idle logoff, lockout after repeated failures,
CSRF on forms, and sign-in required everywhere outside the API."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.test import Client as WebClient
from django.urls import reverse
from django.utils import timezone

PASSWORD = "correct horse battery staple"

PAGES = [
    "/",
    "/clients/",
    "/clients/new/",
    "/referrals/",
    "/inbox/",
    "/consent-policies/",
    "/consent-policies/new/",
    "/providers/",
]


def test_login_page_has_labelled_username_and_password(client, db):
    response = client.get("/accounts/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_username">Username' in html
    assert '<label for="id_password">Password' in html


def test_sign_in_then_dashboard(client, dr_lee):
    response = client.post(
        "/accounts/login/", {"username": "dr_lee", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert "Dr. Daniel Lee" in response.content.decode()


def test_wrong_password_shows_an_error_and_signs_nobody_in(client, dr_lee):
    response = client.post("/accounts/login/", {"username": "dr_lee", "password": "nope"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert "correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("path", PAGES)
def test_pages_require_sign_in(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{reverse('login')}?next=")


def test_client_page_requires_sign_in(client, ana):
    response = client.get(f"/clients/{ana.pk}/")
    assert response.status_code == 302


def test_api_keeps_its_own_auth(client, db):
    # No redirect to the login page: the API answers 401 (docs/access-rules.md, "Errors").
    assert client.get("/api/v1/me/").status_code == 401


def test_logout_is_a_post(client, dr_lee):
    client.force_login(dr_lee)
    response = client.post("/accounts/logout/")
    assert response.status_code in (200, 302)
    assert client.get("/").status_code == 302


def test_idle_logoff_is_configured_from_the_setting():
    assert django_settings.SESSION_COOKIE_AGE == django_settings.CARELINK_IDLE_LOGOUT_MINUTES * 60
    assert django_settings.CARELINK_IDLE_LOGOUT_MINUTES == 15
    assert django_settings.SESSION_SAVE_EVERY_REQUEST is True


def test_each_request_pushes_the_idle_deadline_forward(client, dr_lee, settings):
    settings.SESSION_COOKIE_AGE = 60
    client.force_login(dr_lee)
    key = client.session.session_key
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + timedelta(seconds=5))
    assert client.get("/").status_code == 200
    expire = Session.objects.get(pk=key).expire_date
    assert timezone.now() + timedelta(seconds=30) < expire <= timezone.now() + timedelta(seconds=61)


def test_an_idle_session_is_signed_out(client, dr_lee, settings):
    settings.SESSION_COOKIE_AGE = 60
    client.force_login(dr_lee)
    assert client.get("/").status_code == 200
    # Idle past the limit: the session's deadline has passed.
    Session.objects.filter(pk=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_lockout_after_repeated_failures_shows_the_lockout_page(client, dr_lee, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        response = client.post("/accounts/login/", {"username": "dr_lee", "password": "wrong"})
        assert response.status_code == 200
    response = client.post("/accounts/login/", {"username": "dr_lee", "password": "wrong"})
    assert response.status_code == 429
    assert "Sign-in is locked" in response.content.decode()
    # Locked: even the right password does not sign in now.
    response = client.post("/accounts/login/", {"username": "dr_lee", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_forms_need_the_csrf_token(dr_lee, ana):
    browser = WebClient(enforce_csrf_checks=True)
    browser.force_login(dr_lee)
    entry = {"category": "general_health", "kind": "note", "title": "Seen today"}
    response = browser.post(f"/clients/{ana.pk}/entries/", entry)
    assert response.status_code == 403
    assert ana.entries.count() == 0

    page = browser.get(f"/clients/{ana.pk}/")
    token = page.context["csrf_token"]
    response = browser.post(f"/clients/{ana.pk}/entries/", {**entry, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert ana.entries.count() == 1


def test_login_form_needs_the_csrf_token(dr_lee):
    browser = WebClient(enforce_csrf_checks=True)
    response = browser.post("/accounts/login/", {"username": "dr_lee", "password": PASSWORD})
    assert response.status_code == 403
