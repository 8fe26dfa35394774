"""Rule 1, generated: every endpoint under a client answers a provider whose
organization is off the care team exactly as it answers an id that names nothing.

CLIENT_SCOPED is the one list of client-scoped endpoints. The meta-check walks
the URL resolver, so an endpoint added under /api/v1/ or /fhir/ with
`<str:client_id>` (records, consent, referrals, FHIR, anything) fails the suite
until it is listed here. Routes are written as in urls.py under api/v1/; the
FHIR face's from the site's root (`/fhir/R4/...`).
"""

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from consent.models import ConsentDirective, EmergencyAccess
from core.models import AccessEvent, OutboxEvent
from measures.models import Assessment
from measures.services import record_assessment
from portal.models import PortalInvite
from records.models import CareTeamMembership, Client, Entry
from records.services import create_entry

# (route as written in urls.py under api/v1/, method, a body that would be valid for a
# care-team member — so a 404 cannot be a validation error in disguise)
CLIENT_SCOPED: list[tuple[str, str, dict | None]] = [
    ("clients/<str:client_id>/", "get", None),
    ("clients/<str:client_id>/", "patch", {"phone": "416-555-0100"}),
    ("clients/<str:client_id>/care-team/", "get", None),
    ("clients/<str:client_id>/care-team/", "post", {"provider": "{colleague_id}"}),
    ("clients/<str:client_id>/care-team/<str:provider_id>/", "delete", None),
    ("clients/<str:client_id>/entries/", "get", None),
    (
        "clients/<str:client_id>/entries/",
        "post",
        {"category": "housing", "kind": "note", "title": "Visit", "body": "Seen at home."},
    ),
    ("clients/<str:client_id>/entries/<str:entry_id>/", "get", None),
    (
        "clients/<str:client_id>/entries/<str:entry_id>/amend/",
        "post",
        {"title": "Home visit (corrected)", "reason": "Wrong date."},
    ),
    (
        "clients/<str:client_id>/entries/<str:entry_id>/retract/",
        "post",
        {"reason": "Written in the wrong record."},
    ),
    ("clients/<str:client_id>/consents/", "get", None),
    (
        "clients/<str:client_id>/consents/",
        "post",
        {"effect": "permit", "grantee_sector": "hospital", "categories": ["housing"]},
    ),
    (
        "clients/<str:client_id>/emergency-access/",
        "post",
        {"reason": "Client unconscious, need the medication history now."},
    ),
    ("clients/<str:client_id>/access-log/", "get", None),
    ("clients/<str:client_id>/assessments/", "get", None),
    (
        "clients/<str:client_id>/assessments/",
        "post",
        {"instrument": "phq9", "answers": [1, 1, 1, 1, 1, 1, 1, 1, 0]},
    ),
    ("clients/<str:client_id>/assessments/<str:assessment_id>/", "get", None),
    ("clients/<str:client_id>/portal-invite/", "post", None),
    ("/fhir/R4/Patient/<str:client_id>", "get", None),
    ("/fhir/R4/Patient/<str:client_id>/$everything", "get", None),
]

ROUTE_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
AUDITED_MODELS = [
    AccessEvent,
    Assessment,
    CareTeamMembership,
    Client,
    ConsentDirective,
    EmergencyAccess,
    Entry,
    OutboxEvent,
    PortalInvite,
]


def api_routes() -> dict[str, set[str]]:
    """Every route under api/v1/ with the HTTP methods its view handles."""
    return {
        route.removeprefix("api/v1/"): methods
        for route, methods in all_routes().items()
        if route.startswith("api/v1/")
    }


def fhir_routes() -> dict[str, set[str]]:
    """Every route under fhir/, written from the root as CLIENT_SCOPED lists them."""
    return {
        "/" + route: methods for route, methods in all_routes().items() if route.startswith("fhir/")
    }


def all_routes() -> dict[str, set[str]]:
    """Every route of the site with the HTTP methods its view handles."""
    found: dict[str, set[str]] = {}

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                view_class = getattr(pattern.callback, "view_class", None) or getattr(
                    pattern.callback, "cls", None
                )
                actions = getattr(pattern.callback, "actions", None)  # DRF viewsets
                methods = {
                    method
                    for method in ("get", "post", "put", "patch", "delete")
                    if (method in actions if actions else view_class is None)
                    or (not actions and hasattr(view_class, method))
                }
                found.setdefault(route, set()).update(methods)

    walk(get_resolver().url_patterns, "")
    return found


def test_every_client_scoped_endpoint_is_listed():
    """A new endpoint under a client cannot forget the rule-1 test."""
    listed = {(route, method) for route, method, _ in CLIENT_SCOPED}
    routes = {**api_routes(), **fhir_routes()}
    missing = sorted(
        (route, method)
        for route, methods in routes.items()
        if "<str:client_id>" in route
        for method in methods
        if (route, method) not in listed
    )
    assert not missing, f"add these client-scoped endpoints to CLIENT_SCOPED: {missing}"
    stale = sorted(
        (route, method) for route, method in listed if method not in routes.get(route, set())
    )
    assert not stale, f"CLIENT_SCOPED names endpoints that do not exist: {stale}"
    # The gate's parameter must be spelled the one way ClientScopedView reads it.
    odd = [route for route in routes if re.search(r"<(?:\w+:)?client(?:_pk|id)?>", route)]
    assert not odd, f"client-scoped routes must use <str:client_id>: {odd}"


@pytest.fixture
def scene(ana, dr_lee, family_practice):
    from tests.factories import ProviderFactory

    colleague = ProviderFactory(organization=family_practice)
    entry = create_entry(client=ana, author=dr_lee, category="housing", kind="note", title="Home")
    assessment = record_assessment(provider=dr_lee, client=ana, instrument="gad7", answers=[1] * 7)
    return {
        "client_id": str(ana.pk),
        "provider_id": str(dr_lee.pk),
        "entry_id": str(entry.pk),
        "assessment_id": str(assessment.pk),
        "colleague_id": colleague.pk,
    }


def build(route: str, body: dict | None, values: dict) -> tuple[str, dict | None]:
    # Parameters this list does not know yet (a future endpoint) get a fresh UUID:
    # the client gate answers before they are looked at.
    prefix = "" if route.startswith("/") else "/api/v1/"
    path = prefix + ROUTE_PARAM.sub(lambda m: str(values.get(m.group(1), uuid.uuid4())), route)
    if body is not None:
        body = {
            key: values[value[1:-1]] if isinstance(value, str) and value[:1] == "{" else value
            for key, value in body.items()
        }
    return path, body


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in AUDITED_MODELS}


def call(api: APIClient, method: str, path: str, body: dict | None):
    return getattr(api, method)(path, body, format="json")


@pytest.mark.parametrize(
    ("route", "method", "body"),
    CLIENT_SCOPED,
    ids=[f"{method.upper()} {route}" for route, method, _ in CLIENT_SCOPED],
)
def test_off_care_team_is_404_identical_to_unknown_id(
    route, method, body, scene, outsider, hospital_privacy, api_as
):
    path, data = build(route, body, scene)
    unknown_path, _ = build(route, body, {**scene, "client_id": str(uuid.uuid4())})
    malformed_path, _ = build(route, body, {**scene, "client_id": "not-a-uuid"})
    before = counts()

    responses = [
        call(api_as(outsider), method, path, data),
        call(api_as(hospital_privacy), method, path, data),
        call(api_as(outsider), method, unknown_path, data),
        call(api_as(outsider), method, malformed_path, data),
    ]
    assert [r.status_code for r in responses] == [404] * 4, [r.content for r in responses]
    assert len({r.content for r in responses}) == 1, [r.content for r in responses]
    assert counts() == before

    # The same request from a member of the care team is not a 404: the 404 above
    # is the gate, not a broken fixture.
    from records.models import Provider

    member = Provider.objects.get(pk=scene["provider_id"])
    if "access-log" in route:
        member.role = "privacy_officer"
        member.save(update_fields=["role"])
    assert call(api_as(member), method, path, data).status_code < 400


@pytest.mark.parametrize(
    ("route", "method", "body"),
    CLIENT_SCOPED,
    ids=[f"{method.upper()} {route}" for route, method, _ in CLIENT_SCOPED],
)
def test_system_admin_sees_no_client(route, method, body, scene, sysadmin, api_as):
    """Superusers belong to no organization: 404 everywhere under a client, except
    the access log, which they may read."""
    path, data = build(route, body, scene)
    response = call(api_as(sysadmin), method, path, data)
    if route.endswith("access-log/"):
        assert response.status_code == 200
    else:
        assert response.status_code == 404, response.content


@pytest.mark.parametrize(
    ("route", "method", "body"),
    CLIENT_SCOPED,
    ids=[f"{method.upper()} {route}" for route, method, _ in CLIENT_SCOPED],
)
def test_without_credentials_is_401(route, method, body, scene):
    path, data = build(route, body, scene)
    before = counts()
    response = call(APIClient(), method, path, data)
    assert response.status_code == 401
    body = response.json()
    # The API's {"detail"}; the FHIR face's OperationOutcome.
    assert "detail" in body or body["resourceType"] == "OperationOutcome"
    assert counts() == before
    response = call(APIClient(HTTP_AUTHORIZATION="Token not-a-real-token"), method, path, data)
    assert response.status_code == 401


SUB_IDS = ("entry_id", "provider_id")


@pytest.mark.parametrize(
    ("route", "method", "body"),
    [row for row in CLIENT_SCOPED if any(f"<str:{name}>" in row[0] for name in SUB_IDS)],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_not_found_under_a_client_is_said_in_one_wording(route, method, body, scene, api_as):
    """Under a visible client, an unknown or malformed sub-id is a 404 said in our
    words ("No entry found."), never the framework's ("No Entry matches the given
    query.", which also names a model)."""
    from records.models import Provider

    member = Provider.objects.get(pk=scene["provider_id"])
    for bogus in (str(uuid.uuid4()), "999999", "not-an-id"):
        values = {**scene, **{name: bogus for name in SUB_IDS if f"<str:{name}>" in route}}
        path, data = build(route, body, values)
        response = call(api_as(member), method, path, data)
        assert response.status_code == 404, response.content
        assert re.fullmatch(r"No [a-z-]+(?: [a-z-]+)* found\.", response.json()["detail"]), (
            response.json()
        )
