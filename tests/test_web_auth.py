"""Web sign-in: the login page, idle logoff, lockout after repeated failures,
CSRF on forms, and sign-in required everywhere outside the API."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client as WebClient
from django.test.utils import CaptureQueriesContext
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
    # The idle clock moves the session's end, not a save on every request.
    assert django_settings.SESSION_SAVE_EVERY_REQUEST is False
    middleware = django_settings.MIDDLEWARE
    sessions = middleware.index("django.contrib.sessions.middleware.SessionMiddleware")
    assert middleware[sessions + 1] == "core.sessions.IdleClockMiddleware"


def _end_in(client, seconds: float):
    """Set the signed-in session's end `seconds` from now, as a request left it."""
    end = timezone.now() + timedelta(seconds=seconds)
    session = client.session
    session.set_expiry(end)
    session.save()
    assert Session.objects.get(pk=session.session_key).expire_date == end
    return session.session_key, end


def _session_writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if "django_session" in q["sql"] and not q["sql"].lstrip().upper().startswith("SELECT")
    ]


def _left_on_page(response) -> int:
    html = response.content.decode()
    return int(html.split('data-idle-logout-left="', 1)[1].split('"', 1)[0])


def test_a_request_after_the_end_fell_behind_pushes_it_a_full_period_on(client, dr_lee):
    client.force_login(dr_lee)
    key, _ = _end_in(client, 600)  # five minutes behind a full 15
    response = client.get("/")
    assert response.status_code == 200
    expire = Session.objects.get(pk=key).expire_date
    full = timedelta(seconds=django_settings.SESSION_COOKIE_AGE)
    assert timezone.now() + full - timedelta(seconds=5) < expire <= timezone.now() + full
    # The page is told the whole period, and the cookie lasts as long.
    assert django_settings.SESSION_COOKIE_AGE - 5 < _left_on_page(response)
    assert django_settings.SESSION_COOKIE_AGE - 5 < response.cookies["sessionid"]["max-age"]


def test_a_request_within_the_minute_writes_nothing_and_the_page_says_the_end(client, dr_lee):
    client.force_login(dr_lee)
    age = django_settings.SESSION_COOKIE_AGE
    key, end = _end_in(client, age - 30)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    assert _session_writes(queries.captured_queries) == []
    assert Session.objects.get(pk=key).expire_date == end
    assert "sessionid" not in response.cookies
    # The page counts down to the session's real end, not a full period.
    assert age - 35 <= _left_on_page(response) <= age - 30


def test_the_end_never_moves_later_than_a_full_period_after_the_last_request(client, dr_lee):
    client.force_login(dr_lee)
    for _ in range(3):
        before = timezone.now()
        assert client.get("/clients/").status_code == 200
        expire = Session.objects.get(pk=client.session.session_key).expire_date
        assert expire <= timezone.now() + timedelta(seconds=django_settings.SESSION_COOKIE_AGE)
        assert expire >= before + timedelta(seconds=django_settings.SESSION_COOKIE_AGE - 60)


@pytest.mark.parametrize(
    "request_kind",
    ["htmx", "stay signed in"],
)
def test_the_pages_script_requests_push_the_end_whatever_its_age(client, dr_lee, request_kind):
    client.force_login(dr_lee)
    age = django_settings.SESSION_COOKIE_AGE
    key, end = _end_in(client, age - 30)
    if request_kind == "htmx":
        response = client.get("/clients/", headers={"HX-Request": "true"})
    else:
        response = client.get(reverse("session-keepalive"))
        assert response.json() == {"idle_logout_seconds": age}
    assert response.status_code == 200
    expire = Session.objects.get(pk=key).expire_date
    assert expire > end + timedelta(seconds=25)


def test_a_stale_session_cookie_creates_no_session(client, db):
    client.cookies["sessionid"] = "no-such-session-0123456789abcdef"
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/").status_code == 302
    assert not Session.objects.exists()


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
