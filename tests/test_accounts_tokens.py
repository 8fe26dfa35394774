"""Tokens that end (issue 14, finding 1 and 2): each sign-in issues a new hashed
token for one device, expiring after CARELINK_TOKEN_HOURS; logout revokes the
token used, logout-all every token of the caller; a password change (pages,
admin, `manage.py changepassword`) or deactivation revokes them all; no admin
page shows or mints a credential."""

from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client as WebClient
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a different long passphrase"


def sign_in(username: str = "dr_lee", password: str = PASSWORD, **extra) -> dict:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": password, **extra}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def as_token(token: str) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Token {token}")


def token_works(token: str) -> bool:
    response = as_token(token).get("/api/v1/me/")
    assert response.status_code in (200, 401), response.content
    return response.status_code == 200


def test_each_sign_in_is_a_new_token_for_one_device(dr_lee):
    laptop, script = sign_in(), sign_in()
    assert laptop["token"] != script["token"]
    assert token_works(laptop["token"]) and token_works(script["token"])


def test_tokens_are_stored_hashed(dr_lee):
    from accounts.models import DeviceToken

    token = sign_in()["token"]
    stored = DeviceToken.objects.get(user=dr_lee)
    assert token not in (stored.digest, stored.token_key)
    assert len(stored.digest) == 128  # sha512 of the token, never the token


def test_a_token_expires_after_the_configured_hours(dr_lee, settings):
    from accounts.models import DeviceToken

    answer = sign_in()
    expiry = parse_datetime(answer["expiry"])
    assert (
        timedelta(hours=9, minutes=59)
        < expiry - timezone.now()
        <= timedelta(hours=settings.CARELINK_TOKEN_HOURS)
    )
    assert settings.CARELINK_TOKEN_HOURS == 10
    DeviceToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    assert not token_works(answer["token"])


def test_logout_revokes_the_token_used_only(dr_lee):
    laptop, script = sign_in()["token"], sign_in()["token"]
    response = as_token(laptop).post("/api/v1/auth/logout/")
    assert response.status_code == 204
    assert not token_works(laptop)
    assert token_works(script)


def test_logout_all_revokes_every_token_of_the_caller(dr_lee, intake_kim):
    mine = [sign_in()["token"] for _ in range(3)]
    theirs = sign_in("intake_kim")["token"]
    assert as_token(mine[0]).post("/api/v1/auth/logout-all/").status_code == 204
    assert not any(token_works(token) for token in mine)
    assert token_works(theirs)


@pytest.mark.parametrize("path", ["/api/v1/auth/logout/", "/api/v1/auth/logout-all/"])
def test_logout_without_a_token_is_401(path, dr_lee):
    assert APIClient().post(path).status_code == 401
    assert as_token("0" * 64).post(path).status_code == 401


def test_a_password_change_on_the_sign_in_pages_revokes_every_token(dr_lee):
    tokens = [sign_in()["token"] for _ in range(2)]
    browser = WebClient()
    browser.force_login(dr_lee)
    response = browser.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content[:2000]
    assert not any(token_works(token) for token in tokens)
    assert token_works(sign_in(password=NEW_PASSWORD)["token"])


def test_a_password_change_by_changepassword_revokes_every_token(dr_lee, monkeypatch):
    token = sign_in()["token"]
    answers = iter([NEW_PASSWORD, NEW_PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    call_command("changepassword", "dr_lee", stdout=StringIO())
    assert not token_works(token)


def test_a_password_change_in_the_admin_revokes_every_token(dr_lee, sysadmin, settings):
    settings.CARELINK_REQUIRE_2FA = False
    token = sign_in()["token"]
    admin = WebClient()
    admin.force_login(sysadmin)
    response = admin.post(
        f"/admin/records/provider/{dr_lee.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:3000]
    assert not token_works(token)


def test_deactivation_in_the_admin_revokes_tokens_and_ends_sessions(dr_lee, sysadmin, settings):
    from accounts.models import DeviceToken

    settings.CARELINK_REQUIRE_2FA = False
    token = sign_in()["token"]
    browser = WebClient()
    browser.force_login(dr_lee)
    assert browser.get("/").status_code == 200

    admin = WebClient()
    admin.force_login(sysadmin)
    change = admin.get(f"/admin/records/provider/{dr_lee.pk}/change/")
    form = change.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields if name != "password"}
    data.update({"is_active": "", "organization": dr_lee.organization_id})
    data = {key: value for key, value in data.items() if value not in (False, None)}
    response = admin.post(f"/admin/records/provider/{dr_lee.pk}/change/", data)
    assert response.status_code == 302, response.content[:3000]
    dr_lee.refresh_from_db()
    assert not dr_lee.is_active
    assert not DeviceToken.objects.filter(user=dr_lee).exists()
    assert not token_works(token)
    # The browser session ends at once: the next page is the sign-in page.
    assert browser.get("/").status_code == 302


def test_a_token_of_a_deactivated_provider_stops_at_once_and_stays_revoked(dr_lee):
    from accounts.models import DeviceToken

    token = sign_in()["token"]
    dr_lee.is_active = False
    dr_lee.save()
    assert not token_works(token)
    assert not DeviceToken.objects.filter(user=dr_lee).exists()
    dr_lee.is_active = True
    dr_lee.save()
    assert not token_works(token)


def test_the_old_token_app_is_gone():
    assert not apps.is_installed("rest_framework.authtoken")


def test_no_admin_page_shows_or_mints_a_token(dr_lee, sysadmin, settings):
    settings.CARELINK_REQUIRE_2FA = False
    token = sign_in()["token"]
    admin = WebClient()
    admin.force_login(sysadmin)
    index = admin.get("/admin/").content.decode().lower()
    assert "authtoken" not in index and "devicetoken" not in index and ">tokens<" not in index
    for path in (
        "/admin/knox/authtoken/",
        "/admin/knox/authtoken/add/",
        "/admin/accounts/devicetoken/",
        "/admin/accounts/devicetoken/add/",
        "/admin/authtoken/token/",
        "/admin/authtoken/tokenproxy/",
    ):
        assert admin.get(path).status_code == 404, path
    page = admin.get(f"/admin/records/provider/{dr_lee.pk}/change/").content.decode()
    assert token not in page


@pytest.mark.django_db(transaction=True)
def test_the_migration_drops_the_old_token_table():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY)")
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0001_device_tokens")])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # forward again, to the latest
    assert "authtoken_token" not in connection.introspection.table_names()
    assert "accounts_devicetoken" in connection.introspection.table_names()


def test_a_token_costs_one_query_and_expired_ones_go_at_the_next_sign_in(
    dr_lee, django_assert_num_queries
):
    from accounts.models import DeviceToken

    old = sign_in()["token"]
    DeviceToken.objects.filter(user=dr_lee).update(expiry=timezone.now() - timedelta(minutes=1))
    fresh = sign_in()["token"]  # sweeps the expired one
    assert DeviceToken.objects.filter(user=dr_lee).count() == 1
    assert not token_works(old)
    api = as_token(fresh)
    api.get("/api/v1/me/")
    # The token with its account and the account's organization, one query:
    # knox's own sweep of the account's other tokens on every request is gone,
    # and /me/ (like the consent engine) finds the organization already read.
    with django_assert_num_queries(1):
        body = api.get("/api/v1/me/").json()
    assert body["organization"]["id"] == dr_lee.organization_id


def _fields(instance) -> dict:
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


def test_a_presented_token_is_read_as_the_queryset_reads_it(
    ana, dr_lee, sysadmin, django_assert_num_queries
):
    """`DeviceToken.objects.presented` reads the tokens under a key with their
    accounts and the accounts' organizations in one statement of its own:
    every field of the three as `select_related` reads them, for a provider,
    an account of no organization and a client's portal account, and every
    token under a key (a key is a prefix of the token: two may share one)."""
    from accounts.models import DeviceToken
    from accounts.services import issue_token
    from tests.portal_support import open_portal_account

    portal = open_portal_account(ana, dr_lee)
    tokens = [issue_token(account)[0] for account in (dr_lee, sysadmin, portal)]
    twin = issue_token(sysadmin)[0]
    DeviceToken.objects.filter(pk=twin.pk).update(token_key=tokens[0].token_key)
    for token in tokens:
        expected = list(
            DeviceToken.objects.select_related("user__organization")
            .filter(token_key=token.token_key)
            .order_by("digest")
        )
        with django_assert_num_queries(1):
            read = sorted(DeviceToken.objects.presented(token.token_key), key=lambda t: t.digest)
            organizations = [each.user.organization for each in read]
        assert len(read) == len(expected) == (2 if token is tokens[0] else 1)
        for mine, theirs, organization in zip(read, expected, organizations, strict=True):
            assert not mine._state.adding and mine._state.db == theirs._state.db
            assert _fields(mine) == _fields(theirs)
            assert _fields(mine.user) == _fields(theirs.user)
            if theirs.user.organization is None:
                assert organization is None
            else:
                assert _fields(organization) == _fields(theirs.user.organization)
    assert [t.user.organization for t in DeviceToken.objects.presented(tokens[2].token_key)] == [
        None
    ]
    assert DeviceToken.objects.presented("no-such-key") == []


def test_a_token_signs_in_as_its_own_account_when_another_shares_its_key(dr_lee, sysadmin):
    """knox compares each token under the key by its digest: the one whose
    digest is the presented token's signs in, whichever is read first."""
    from accounts.models import DeviceToken
    from accounts.services import issue_token

    mine, plain = issue_token(dr_lee)
    for _ in range(2):
        other = issue_token(sysadmin)[0]
        DeviceToken.objects.filter(pk=other.pk).update(token_key=mine.token_key)
    assert DeviceToken.objects.filter(token_key=mine.token_key).count() == 3
    assert as_token(plain).get("/api/v1/me/").json()["id"] == dr_lee.pk
    assert not token_works(plain[:-1] + ("0" if plain[-1] != "0" else "1"))
