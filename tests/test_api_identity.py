"""Identity, token authentication, organizations and providers; the OpenAPI schema."""

import pytest
from rest_framework.test import APIClient

from accounts.models import DeviceToken
from records.models import Organization, Provider
from tests.factories import ProviderFactory

PASSWORD = "correct horse battery staple"


def test_token_for_right_credentials_authenticates(dr_lee):
    anonymous = APIClient()
    response = anonymous.post(
        "/api/v1/auth/token/", {"username": "dr_lee", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert DeviceToken.objects.get(user=dr_lee).token_key == token[:15]
    api = APIClient(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/me/").json()["username"] == "dr_lee"


@pytest.mark.parametrize(
    "payload",
    [
        {"username": "dr_lee", "password": "wrong password"},
        {"username": "nobody", "password": PASSWORD},
        {"username": "dr_lee"},
        {},
    ],
)
def test_wrong_credentials_get_no_token(payload, dr_lee):
    response = APIClient().post("/api/v1/auth/token/", payload, format="json")
    assert response.status_code in (400, 401)
    assert "token" not in response.json()
    assert not DeviceToken.objects.exists()


def test_inactive_provider_gets_no_token(dr_lee):
    dr_lee.is_active = False
    dr_lee.save()
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "dr_lee", "password": PASSWORD}, format="json"
    )
    assert response.status_code in (400, 401)
    assert "token" not in response.json()


def test_me(dr_lee, family_practice, api_as):
    response = api_as(dr_lee).get("/api/v1/me/")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == dr_lee.pk
    assert body["username"] == "dr_lee"
    assert body["full_name"] == "Dr. Daniel Lee"
    assert body["role"] == "clinician"
    assert body["organization"] == {
        "id": family_practice.pk,
        "name": "Riverside Family Practice",
        "sector": "primary_care",
    }


def test_me_of_a_system_admin(sysadmin, api_as):
    body = api_as(sysadmin).get("/api/v1/me/").json()
    assert body["organization"] is None
    assert body["username"] == "sysadmin"


@pytest.mark.parametrize(
    "path", ["/api/v1/me/", "/api/v1/organizations/", "/api/v1/clients/", "/api/v1/inbox/"]
)
def test_everything_but_the_token_needs_credentials(path, db):
    assert APIClient().get(path).status_code == 401
    bad = APIClient(HTTP_AUTHORIZATION="Token 0123456789abcdef")
    assert bad.get(path).status_code == 401


# --- organizations ---------------------------------------------------------------------------


def test_any_provider_lists_all_organizations(dr_lee, hospital, api_as):
    response = api_as(dr_lee).get("/api/v1/organizations/")
    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 2
    assert {"next", "previous", "results"} <= set(page)
    # The contract's three fields, and the wait the list adds (docs/capacity.md).
    listed = [{key: row[key] for key in ("id", "name", "sector")} for row in page["results"]]
    assert {"id": hospital.pk, "name": "General Hospital", "sector": "hospital"} in listed
    assert all(row["wait"]["waiting"] == 0 for row in page["results"])


def test_only_superusers_create_organizations(dr_lee, sysadmin, api_as):
    payload = {"name": "Harbour Housing", "sector": "housing"}
    admin = ProviderFactory(organization=dr_lee.organization, role="org_admin")
    for caller in (dr_lee, admin):
        assert api_as(caller).post("/api/v1/organizations/", payload).status_code == 403
    assert not Organization.objects.filter(name="Harbour Housing").exists()

    response = api_as(sysadmin).post("/api/v1/organizations/", payload, format="json")
    assert response.status_code == 201
    assert response.json()["name"] == "Harbour Housing"
    assert response.json()["sector"] == "housing"
    assert Organization.objects.get(name="Harbour Housing").group is not None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X", "sector": "astrology"}, "sector"),
        ({"name": "X"}, "sector"),
        ({"sector": "housing"}, "name"),
        ({"name": "n" * 101, "sector": "housing"}, "name"),
        ({"name": "riverside family practice", "sector": "housing"}, "name"),
    ],
)
def test_bad_organizations_are_400(payload, field, sysadmin, family_practice, api_as):
    before = Organization.objects.count()
    response = api_as(sysadmin).post("/api/v1/organizations/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Organization.objects.count() == before


# --- providers ---------------------------------------------------------------------------------


def provider_payload(organization, **extra) -> dict:
    return {
        "username": "nurse_nia",
        "password": "a long and unusual passphrase",
        "full_name": "Nia Nurse",
        "organization": organization.pk,
        "role": "clinician",
        **extra,
    }


@pytest.fixture
def org_admin(family_practice):
    return ProviderFactory(organization=family_practice, role="org_admin")


def test_org_admin_adds_a_provider_to_their_organization(org_admin, family_practice, api_as):
    response = api_as(org_admin).post(
        "/api/v1/providers/", provider_payload(family_practice), format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "username", "full_name", "organization", "role"}
    assert "a long and unusual passphrase" not in response.content.decode()
    provider = Provider.objects.get(username="nurse_nia")
    assert provider.check_password("a long and unusual passphrase")
    assert provider.organization == family_practice
    assert list(provider.groups.all()) == [family_practice.group]
    # The new provider can sign in with the password given.
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "nurse_nia", "password": "a long and unusual passphrase"},
        format="json",
    )
    assert response.status_code == 200


def test_superuser_adds_a_provider_anywhere(sysadmin, hospital, api_as):
    response = api_as(sysadmin).post(
        "/api/v1/providers/", provider_payload(hospital, role="privacy_officer"), format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["organization"] == hospital.pk
    assert "password" not in response.json()


def test_provider_creation_is_forbidden_to_others(org_admin, dr_lee, hospital, api_as):
    assert (
        api_as(dr_lee)
        .post("/api/v1/providers/", provider_payload(dr_lee.organization), format="json")
        .status_code
        == 403
    )
    # An org admin of another organization may not add to this one.
    response = api_as(org_admin).post(
        "/api/v1/providers/", provider_payload(hospital), format="json"
    )
    assert response.status_code == 403
    # 403 wins over 400 when both apply.
    response = api_as(org_admin).post(
        "/api/v1/providers/", provider_payload(hospital, role="surgeon"), format="json"
    )
    assert response.status_code == 403
    assert not Provider.objects.filter(username="nurse_nia").exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"role": "surgeon"}, "role"),
        ({"role": None}, "role"),
        ({"organization": 999999}, "organization"),
        ({"password": "123"}, "password"),
        ({"password": "nurse_nia1"}, "password"),
        ({"username": "dr_lee"}, "username"),
        ({"username": "DR_LEE"}, "username"),
        ({"full_name": "f" * 101}, "full_name"),
        ({"username": "u" * 101}, "username"),
        ({"username": ""}, "username"),
    ],
)
def test_bad_providers_are_400_without_the_password(
    extra, field, sysadmin, dr_lee, family_practice, api_as
):
    before = Provider.objects.count()
    payload = {**provider_payload(family_practice), **extra}
    response = api_as(sysadmin).post("/api/v1/providers/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert payload["password"] not in response.content.decode()
    assert Provider.objects.count() == before


def test_missing_provider_fields_are_named(sysadmin, api_as):
    response = api_as(sysadmin).post("/api/v1/providers/", {}, format="json")
    assert response.status_code == 400
    assert {"username", "password", "full_name", "organization", "role"} <= set(response.json())


# --- the OpenAPI schema ---------------------------------------------------------------------


def test_openapi_schema_and_docs_are_served_without_a_cdn(db):
    schema = APIClient().get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/clients/{client_id}/entries/" in schema.content
    docs = APIClient().get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger" in html.lower()
    for cdn in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com", "fonts.googleapis"):
        assert cdn not in html
