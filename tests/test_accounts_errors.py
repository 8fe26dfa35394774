"""Every 4xx under /api/ (and /fhir/) is JSON, whatever rejected the request
(issue 14, finding 7); pages keep their HTML."""

import json

import pytest
from django.test import Client as WebClient
from django.test import override_settings
from rest_framework.test import APIClient

PASSWORD = "correct horse battery staple"
THREE_MB = b'{"given_name": "' + b"a" * (3 * 1024 * 1024) + b'"}'


def assert_json_detail(response, status: int) -> dict:
    """The API's `{"detail"}`; under /fhir/, the FHIR face's OperationOutcome."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = json.loads(response.content)
    assert isinstance(body, dict) and body, body
    if response["Content-Type"].startswith("application/fhir+json"):
        assert body["resourceType"] == "OperationOutcome"
        (issue,) = body["issue"]
        return {"detail": issue["diagnostics"], "code": issue["code"]}
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return body


@pytest.mark.parametrize("path", ["/api/v1/clients/", "/api/v1/auth/token/", "/fhir/R4/Patient"])
def test_a_body_over_the_limit_is_413_json(path, dr_lee, api_as):
    response = api_as(dr_lee).post(path, data=THREE_MB, content_type="application/json")
    assert "detail" in assert_json_detail(response, 413)


def test_a_body_over_the_limit_is_413_without_credentials_too(db):
    response = APIClient().post(
        "/api/v1/auth/token/", data=THREE_MB, content_type="application/json"
    )
    assert "detail" in assert_json_detail(response, 413)


def test_the_limit_is_two_and_a_half_megabytes(dr_lee, api_as, settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == int(2.5 * 1024 * 1024)
    under = b'{"given_name": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    response = api_as(dr_lee).post("/api/v1/clients/", data=under, content_type="application/json")
    assert response.status_code == 400  # read and validated: a name is too long, no 413
    assert "given_name" in response.json()


def test_a_page_body_over_the_limit_is_413_html(client, dr_lee):
    client.force_login(dr_lee)
    response = client.post("/clients/new/", data=THREE_MB, content_type="text/plain")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/api/v1/nowhere/", "/api/nowhere", "/fhir/R4/Nothing/1"])
def test_unknown_urls_under_the_api_are_404_json(path, db):
    response = APIClient().get(path)
    assert "detail" in assert_json_detail(response, 404)
    assert response["Content-Type"].startswith(
        "application/fhir+json" if path.startswith("/fhir/") else "application/json"
    )


@override_settings(ALLOWED_HOSTS=["127.0.0.1"])
def test_what_django_rejects_under_fhir_is_an_operation_outcome(dr_lee, api_as):
    unknown = APIClient().get("/fhir/R4/Nothing/1", HTTP_HOST="127.0.0.1")
    assert unknown["Content-Type"] == "application/fhir+json"
    assert assert_json_detail(unknown, 404)["code"] == "not-found"
    bad_host = APIClient().get("/fhir/R4/metadata", HTTP_HOST="evil.example")
    assert assert_json_detail(bad_host, 400)["code"] == "invalid"
    too_large = APIClient().post(
        "/fhir/R4/Patient", data=THREE_MB, content_type="application/json", HTTP_HOST="127.0.0.1"
    )
    assert assert_json_detail(too_large, 413)["code"] == "too-long"


def test_unknown_pages_stay_html(client, db):
    response = client.get("/nowhere/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@override_settings(ALLOWED_HOSTS=["127.0.0.1"])
def test_a_bad_host_is_400_json_under_the_api_and_html_on_pages(db):
    api = APIClient().get("/api/v1/me/", HTTP_HOST="evil.example")
    assert "detail" in assert_json_detail(api, 400)
    page = WebClient().get("/accounts/login/", HTTP_HOST="evil.example")
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")


def test_a_form_body_is_415_json_and_never_parsed(db, settings):
    """The API reads JSON only: a form body (even one with too many fields for
    Django to parse) is refused as it is, in JSON."""
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"f{n}=x" for n in range(20))
    response = APIClient().post(
        "/api/v1/auth/token/", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert "Unsupported media type" in assert_json_detail(response, 415)["detail"]


def test_a_csrf_failure_under_the_api_is_403_json(dr_lee):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(dr_lee)
    response = browser.post("/api/v1/clients/", {"given_name": "X"}, format="json")
    assert "detail" in assert_json_detail(response, 403)


def test_csrf_view_answers_json_under_the_api(rf):
    from accounts.errors import csrf_failure

    response = csrf_failure(rf.post("/api/v1/anything/"), reason="CSRF cookie not set.")
    assert "detail" in assert_json_detail(response, 403)
    page = csrf_failure(rf.post("/clients/new/"), reason="CSRF cookie not set.")
    assert page.status_code == 403
    assert page["Content-Type"].startswith("text/html")


def test_an_account_lockout_under_the_api_is_429_json(dr_lee, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    api = APIClient()
    for _ in range(3):
        api.post("/api/v1/auth/token/", {"username": "dr_lee", "password": "no"}, format="json")
    response = api.post(
        "/api/v1/auth/token/", {"username": "dr_lee", "password": PASSWORD}, format="json"
    )
    body = assert_json_detail(response, 429)
    assert "token" not in body
    assert int(response["Retry-After"]) > 0
