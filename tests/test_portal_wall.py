"""The wall between the portal and the rest, generated over every URL.

The test walks the whole URL resolver — the API, the pages, the admin, FHIR
when it is there — and, for every route and every method its view handles:

- a client's account (by token on the API, by session everywhere) gets 403
  on every route of the providers' side, with the wall's own reason;
- a provider (and a system admin) gets 403 on every route of the portal's
  side but activation, with the wall's own reason.

Which side a route is on is written here, independently of the code's
`core.permissions.wall_side`, and the meta-check fails for a route this file
does not classify: a new route cannot be added without deciding which side
of the wall it stands on.
"""

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework.test import APIClient

from core.permissions import (
    CLIENTS_STAY_IN_THE_PORTAL,
    PORTAL_IS_FOR_CLIENTS,
    WallSide,
    wall_side,
)
from portal import services as portal_services

PASSWORD = "a long walk by the lake"

# Routes either kind of account may use (exactly these).
FOR_BOTH = {
    "api/v1/auth/token/",
    "api/v1/auth/logout/",
    "api/v1/auth/logout-all/",
    "api/v1/portal/activate/",
    "api/schema/",
    "api/docs/",
    "fhir/R4/metadata",
    "session/keepalive/",
}
FOR_BOTH_PREFIXES = ("accounts/", "portal/notices/stop/")
# The portal's side.
PORTAL_PREFIXES = ("api/v1/portal/", "portal/")
# The providers' side: the admin, the provider API, FHIR and the provider pages.
PROVIDER_PREFIXES = (
    "admin/",
    "api/v1/",
    "fhir/",
    "clients/",
    "consents/",
    "referrals/",
    "inbox/",
    "consent-policies/",
    "privacy/",
    "providers/",
    "registry/",
    "services/",
)
PROVIDER_ROUTES = {""}  # the dashboard

METHODS = ("get", "post", "put", "patch", "delete")
CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
REGEX_GROUP = re.compile(r"\(\?P<(\w+)>([^)]*)\)")


def expected_side(route: str) -> WallSide | None:
    if route in FOR_BOTH or route.startswith(FOR_BOTH_PREFIXES):
        return WallSide.BOTH
    if route.startswith(PORTAL_PREFIXES):
        return WallSide.PORTAL
    if route in PROVIDER_ROUTES or route.startswith(PROVIDER_PREFIXES):
        return WallSide.PROVIDERS
    return None


def _sample(converter: str | None) -> str:
    return "1" if converter == "int" else str(uuid.uuid4())


def concrete(route_parts: list[tuple[str, bool]]) -> str:
    """A path that the route matches: converters and regex groups filled in."""
    path = ""
    for text, is_regex in route_parts:
        if is_regex:
            text = text.lstrip("^").rstrip("$").replace(r"\Z", "")
            text = REGEX_GROUP.sub(
                lambda m: m.group(2).split("|")[0] if "|" in m.group(2) else "x", text
            )
        else:
            text = CONVERTER.sub(lambda m: _sample(m.group(1)), text)
        path += text
    return "/" + path


def every_route() -> list[tuple[str, str, set[str], object]]:
    """(route as written, a concrete path, the methods its view handles, its callback)."""
    found = []

    def walk(patterns, parts: list[tuple[str, bool]]) -> None:
        for pattern in patterns:
            piece = (str(pattern.pattern), type(pattern.pattern).__name__ == "RegexPattern")
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, [*parts, piece])
                continue
            assert isinstance(pattern, URLPattern)
            route = "".join(text for text, _ in [*parts, piece])
            view_class = getattr(pattern.callback, "view_class", None) or getattr(
                pattern.callback, "cls", None
            )
            if view_class is None:
                methods = {"get", "post"}  # a function view: the wall is before any method check
            else:
                methods = {m for m in METHODS if hasattr(view_class, m)} or {"get"}
            found.append((route, concrete([*parts, piece]), methods, pattern.callback))

    walk(get_resolver().url_patterns, [])
    return found


ROUTES = every_route()


def test_every_route_is_classified_and_agrees_with_the_code():
    unclassified = sorted(route for route, *_ in ROUTES if expected_side(route) is None)
    assert not unclassified, f"decide which side of the wall these routes are on: {unclassified}"
    disagree = []
    for route, path, _, callback in ROUTES:
        match = resolve(path)
        # The same route twice (django.contrib.auth's login after ours): the first wins.
        shadowed = match.route == route
        assert match.func == callback or shadowed, f"could not build a path for {route}: {path}"
        if wall_side(path) != expected_side(route):
            disagree.append((route, wall_side(path), expected_side(route)))
    assert not disagree, disagree


def test_the_walk_covers_the_whole_site():
    routes = {route for route, *_ in ROUTES}
    assert {
        "api/v1/clients/<str:client_id>/entries/",
        "api/v1/portal/consents/",
        "clients/<uuid:client_id>/",
        "admin/",
        "",
    } <= routes
    sides = [expected_side(route) for route in routes]
    assert sides.count(WallSide.PORTAL) >= 7 and sides.count(WallSide.PROVIDERS) >= 100


@pytest.fixture
def ana_account(ana, dr_lee):
    _, code = portal_services.issue_portal_invite(provider=dr_lee, client=ana)
    return portal_services.activate_portal_account(
        code=code, birth_date=ana.birth_date, username="ana", password=PASSWORD, address="x"
    )


def by_token(username: str) -> APIClient:
    client = APIClient()
    answer = client.post(
        "/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json"
    )
    assert answer.status_code == 200, answer.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {answer.json()['token']}")
    return client


def by_session(account) -> APIClient:
    client = APIClient(enforce_csrf_checks=False)
    client.force_login(account)
    return client


def assert_walled(response, path: str, method: str, reason: str) -> None:
    assert response.status_code == 403, (method, path, response.status_code)
    body = response.content.decode()
    if path.startswith("/fhir/"):
        # FHIR answers its errors as an OperationOutcome, with the reason in it.
        assert reason in body, (method, path, body[:300])
    elif response["Content-Type"].startswith("application/json"):
        assert response.json() == {"detail": reason}, (method, path, body)
    else:
        assert reason.replace("'", "&#x27;") in body, (method, path, body[:300])


def test_a_client_account_passes_no_provider_route(ana_account, ana):
    token, session = by_token("ana"), by_session(ana_account)
    checked = 0
    for route, path, methods, _ in ROUTES:
        if expected_side(route) != WallSide.PROVIDERS:
            continue
        for method in sorted(methods):
            callers = [session, token] if path.startswith(("/api/", "/fhir/")) else [session]
            for caller in callers:
                response = getattr(caller, method)(path, {}, format="json")
                assert_walled(response, path, method, CLIENTS_STAY_IN_THE_PORTAL)
                checked += 1
    assert checked > 150


@pytest.mark.parametrize("who", ["dr_lee", "privacy_pat", "sysadmin"])
def test_no_other_account_passes_a_portal_route(who, request, ana_account, settings):
    settings.CARELINK_REQUIRE_2FA = False  # tokens for every role, without the second factor
    account = request.getfixturevalue(who)
    account.set_password(PASSWORD)
    account.save()
    session, token = by_session(account), by_token(account.username)
    checked = 0
    for route, path, methods, _ in ROUTES:
        if expected_side(route) != WallSide.PORTAL:
            continue
        for method in sorted(methods):
            callers = [session, token] if path.startswith("/api/") else [session]
            for caller in callers:
                response = getattr(caller, method)(path, {}, format="json")
                assert_walled(response, path, method, PORTAL_IS_FOR_CLIENTS)
                checked += 1
    assert checked >= 9


def test_the_wall_comes_before_the_gate(ana_account, ana):
    """A client's own id under the provider API is 403, not 404 — and so is
    an id that names nothing: the wall answers before the client gate."""
    token = by_token("ana")
    assert token.get(f"/api/v1/clients/{ana.pk}/").status_code == 403
    assert token.get(f"/api/v1/clients/{uuid.uuid4()}/").status_code == 403
    assert token.get("/api/v1/me/").status_code == 403


def test_both_sides_sign_in_and_out(ana_account, dr_lee):
    for username in ("ana", "dr_lee"):
        if username == "dr_lee":
            dr_lee.set_password(PASSWORD)
            dr_lee.save()
        client = by_token(username)
        assert client.post("/api/v1/auth/logout/").status_code == 204
    assert APIClient().get("/fhir/R4/metadata").status_code != 403
