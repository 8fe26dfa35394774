"""Error behaviour shared by every endpoint (docs/access-rules.md, "Errors, in order"):
malformed bodies are a 400 naming the problem, never a 500, and change nothing."""

import pytest

from consent.models import ConsentDirective, ConsentPolicy, EmergencyAccess
from core.models import AccessEvent, OutboxEvent
from records.models import CareTeamMembership, Client, Entry, Organization, Provider

MODELS = [
    AccessEvent,
    CareTeamMembership,
    Client,
    ConsentDirective,
    ConsentPolicy,
    EmergencyAccess,
    Entry,
    Organization,
    OutboxEvent,
    Provider,
]


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture
def policy(db):
    from consent.services import save_consent_policy

    return save_consent_policy(
        name="Primary care sharing",
        description="",
        rules=[
            {"effect": "permit", "grantee_sector": "primary_care", "categories": ["medications"]}
        ],
    )


@pytest.fixture
def directive(ana, dr_lee):
    from consent.services import record_consent

    return record_consent(
        provider=dr_lee,
        client=ana,
        effect="permit",
        grantee_sector="employment",
        categories=["employment"],
    )


def write_endpoints(ana, dr_lee, policy, directive) -> list[tuple[str, str]]:
    """(method, path) of every endpoint that reads a request body."""
    return [
        ("post", "/api/v1/organizations/"),
        ("post", "/api/v1/providers/"),
        ("post", "/api/v1/clients/"),
        ("post", f"/api/v1/clients/{ana.pk}/care-team/"),
        ("post", f"/api/v1/clients/{ana.pk}/entries/"),
        ("post", f"/api/v1/clients/{ana.pk}/consents/"),
        ("post", f"/api/v1/clients/{ana.pk}/emergency-access/"),
        ("post", "/api/v1/consent-policies/"),
        ("put", f"/api/v1/consent-policies/{policy.pk}/"),
        ("patch", f"/api/v1/consent-policies/{policy.pk}/"),
    ]


@pytest.fixture
def admin_of_practice(family_practice):
    from tests.factories import ProviderFactory

    return ProviderFactory(organization=family_practice, role="org_admin")


BAD_BODIES = [
    pytest.param(b'{"title": "unterminated', id="malformed-json"),
    pytest.param(b"[1, 2, 3]", id="json-list"),
    pytest.param(b'"just a string"', id="json-string"),
    pytest.param(b"null", id="json-null"),
    pytest.param(b"42", id="json-number"),
    pytest.param(b"", id="empty"),
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_json_bodies_are_400_on_every_write(
    body, ana, dr_lee, sysadmin, policy, directive, family_practice, api_as
):
    """Each caller may reach validation (superuser for org/provider/policy writes,
    dr_lee for client-scoped ones): the answer is 400 with a message, and nothing changes."""
    for method, path in write_endpoints(ana, dr_lee, policy, directive):
        if method == "patch" and body == b"":
            continue  # an empty PATCH is a valid change of nothing
        caller = (
            sysadmin
            if path.startswith(("/api/v1/organizations", "/api/v1/providers", "/api/v1/consent-p"))
            else dr_lee
        )
        before = row_counts()
        response = getattr(api_as(caller), method)(path, data=body, content_type="application/json")
        assert response.status_code == 400, (method, path, response.status_code, response.content)
        assert response.json(), (method, path)
        assert row_counts() == before, (method, path)


def test_revoke_ignores_a_malformed_body_but_never_500(ana, dr_lee, directive, api_as):
    response = api_as(dr_lee).post(
        f"/api/v1/consents/{directive.pk}/revoke/", data=b"[", content_type="application/json"
    )
    assert response.status_code in (200, 400)


def test_entry_data_must_be_an_object(ana, dr_lee, api_as):
    before = row_counts()
    for data in ([1, 2], "phq9=17", 17, True):
        response = api_as(dr_lee).post(
            f"/api/v1/clients/{ana.pk}/entries/",
            {"category": "mental_health", "kind": "assessment", "title": "PHQ-9", "data": data},
            format="json",
        )
        assert response.status_code == 400, (data, response.content)
        assert "data" in response.json()
    assert row_counts() == before


def test_entry_data_object_is_kept(ana, dr_lee, api_as):
    response = api_as(dr_lee).post(
        f"/api/v1/clients/{ana.pk}/entries/",
        {"category": "mental_health", "kind": "assessment", "title": "PHQ-9", "data": {"phq9": 17}},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["data"] == {"phq9": 17}


def test_search_text_over_200_characters_is_400(ana, dr_lee, api_as):
    before = AccessEvent.objects.count()
    response = api_as(dr_lee).get("/api/v1/clients/", {"q": "a" * 201})
    assert response.status_code == 400
    assert "q" in response.json()
    assert AccessEvent.objects.count() == before
    assert api_as(dr_lee).get("/api/v1/clients/", {"q": "a" * 200}).status_code == 200


@pytest.mark.parametrize(
    "value", ["99999999999999999999999", "-1", "1.5", "0x10", "１", "00000000-0000"]
)
def test_odd_integer_ids_are_404_not_500(value, ana, dr_lee, policy, api_as):
    api = api_as(dr_lee)
    assert api.get(f"/api/v1/consent-policies/{value}/").status_code == 404
    assert api.delete(f"/api/v1/clients/{ana.pk}/care-team/{value}/").status_code == 404


@pytest.mark.parametrize("value", ["99999999999999999999999", -1, "x", None, [1], {"id": 1}])
def test_odd_reference_values_are_400_not_500(value, ana, dr_lee, api_as):
    api = api_as(dr_lee)
    before = row_counts()
    response = api.post(f"/api/v1/clients/{ana.pk}/care-team/", {"provider": value}, format="json")
    assert response.status_code == 400, response.content
    assert "provider" in response.json()
    response = api.post(
        f"/api/v1/clients/{ana.pk}/consents/",
        {"effect": "permit", "grantee_organization": value, "categories": ["housing"]},
        format="json",
    )
    assert response.status_code == 400, response.content
    response = api.post(f"/api/v1/clients/{ana.pk}/consents/", {"policy": value}, format="json")
    assert response.status_code == 400, response.content
    assert "policy" in response.json()
    assert row_counts() == before


@pytest.mark.parametrize(
    "value",
    [
        "2024-02-30",
        "tomorrow",
        "2024-1-1",
        "10000-01-01",
        "9999-12-31T23:59:59-12:00",
        "9999-12-31T23:59:59",
        "0001-01-01T00:00:00+14:00",
        12,
        ["2024-01-01"],
        {"date": "2024-01-01"},
        True,
    ],
)
def test_bad_consent_dates_are_400(value, ana, dr_lee, api_as):
    before = row_counts()
    for field in ("valid_from", "expires_at"):
        response = api_as(dr_lee).post(
            f"/api/v1/clients/{ana.pk}/consents/",
            {
                "effect": "permit",
                "grantee_sector": "housing",
                "categories": ["housing"],
                field: value,
            },
            format="json",
        )
        assert response.status_code == 400, (field, value, response.content)
        assert field in response.json(), response.content
    assert row_counts() == before


@pytest.mark.parametrize(
    "value",
    ["9999-12-31T23:59:59-12:00", "9999-12-31T23:59:59", "2024-02-30T10:00:00Z", 12, []],
)
def test_bad_entry_occurred_at_is_400(value, ana, dr_lee, api_as):
    before = row_counts()
    response = api_as(dr_lee).post(
        f"/api/v1/clients/{ana.pk}/entries/",
        {"category": "housing", "kind": "note", "title": "Visit", "occurred_at": value},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "occurred_at" in response.json()
    assert row_counts() == before


@pytest.mark.parametrize("value", ["10000-01-01", "1990-02-30", "yesterday", 19900101, None])
def test_bad_birth_dates_are_400(value, dr_lee, api_as):
    before = row_counts()
    response = api_as(dr_lee).post(
        "/api/v1/clients/",
        {"given_name": "Bo", "family_name": "Chen", "birth_date": value},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "birth_date" in response.json()
    assert row_counts() == before


def test_nul_characters_in_text_are_400_not_500(ana, dr_lee, api_as):
    """PostgreSQL cannot store NUL in text; the answer must be a 400 on every database."""
    before = row_counts()
    response = api_as(dr_lee).post(
        f"/api/v1/clients/{ana.pk}/entries/",
        {"category": "housing", "kind": "note", "title": "a\x00b", "body": "c\x00d"},
        format="json",
    )
    assert response.status_code == 400, response.content
    response = api_as(dr_lee).post(
        "/api/v1/clients/",
        {"given_name": "B\x00o", "family_name": "Chen", "birth_date": "1990-01-01"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert row_counts() == before


def test_deeply_nested_json_is_400(ana, dr_lee, api_as):
    body = b'{"category": "housing", "kind": "note", "title": "x", "data": '
    body += b"[" * 100_000 + b"]" * 100_000 + b"}"
    before = row_counts()
    response = api_as(dr_lee).post(
        f"/api/v1/clients/{ana.pk}/entries/", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    assert row_counts() == before


@pytest.mark.parametrize(
    "data",
    [
        {"k\x00": "v"},
        {"k": "v\x00"},
        {"k": ["a", {"b": "\x00"}]},
        {"x": 1e999},
        # Half of a surrogate pair, as a key, a value, deep in a list.
        {"\ud800": 1},
        {"k": "v\udc00"},
        {"k": ["a", {"b": "x\ud83d"}]},
    ],
)
def test_entry_data_that_postgres_cannot_store_is_400(data, ana, dr_lee, api_as):
    import json

    body = json.dumps({"category": "housing", "kind": "note", "title": "x", "data": data}).encode()
    before = row_counts()
    response = api_as(dr_lee).post(
        f"/api/v1/clients/{ana.pk}/entries/", data=body, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    # Named by the field, or (Infinity is no JSON) refused by the parser.
    assert "data" in response.json() or "JSON parse error" in response.json()["detail"]
    assert row_counts() == before


def test_entry_data_with_a_whole_surrogate_pair_is_kept(ana, dr_lee, api_as):
    """A character beyond the first plane, written in JSON as a pair of
    surrogate escapes, is one character: stored and read back as sent."""
    body = b'{"category": "housing", "kind": "note", "title": "x", '
    body += b'"data": {"\\ud83c\\udfe0": "\\ud83d\\ude00"}}'
    response = api_as(dr_lee).post(
        f"/api/v1/clients/{ana.pk}/entries/", data=body, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    entry = api_as(dr_lee).get(f"/api/v1/clients/{ana.pk}/entries/{response.json()['id']}/")
    assert entry.json()["data"] == {"\U0001f3e0": "\U0001f600"}


HALF_A_PAIR = chr(0xD800)  # JSON's "\ud800", read with no partner


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("clients/", {"given_name": HALF_A_PAIR, "family_name": "x"}, "given_name"),
        (
            "clients/{ana}/consents/",
            {"effect": "permit", "categories": [HALF_A_PAIR]},
            "categories",
        ),
        ("referrals/", {"client": "{ana}", "reason": f"x{HALF_A_PAIR}"}, "reason"),
        ("clients/{ana}/entries/", {"title": "x", "data": {"a": [{"b": HALF_A_PAIR}]}}, "data"),
        # A top-level key is not echoed back: it could not be written either.
        ("clients/{ana}/entries/", {HALF_A_PAIR: "x"}, "detail"),
        ("clients/{ana}/entries/", [HALF_A_PAIR], "detail"),
        # As deep as json reads: the walk is no recursion.
        ("clients/{ana}/entries/", {"data": {"a": [[[[[[[[[[[HALF_A_PAIR]]]]]]]]]]]}}, "data"),
    ],
)
def test_half_a_surrogate_pair_is_400_naming_its_field(path, body, field, ana, dr_lee, api_as):
    """JSON's "\\ud800" with no partner reads as a string no database stores
    and no answer can echo as UTF-8 (a choice field's error repeats what it
    was given): every API body is refused at the parser, by field."""
    import json

    raw = json.dumps(body).replace("{ana}", str(ana.pk)).encode()
    before = row_counts()
    response = api_as(dr_lee).post(
        f"/api/v1/{path.format(ana=ana.pk)}", data=raw, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    assert "unpaired surrogates" in response.json()[field][0]
    assert row_counts() == before


def test_a_deeply_nested_body_with_half_a_pair_is_400(ana, dr_lee, api_as):
    raw = b'{"title": "x", "data": {"a": ' + b"[" * 900 + b'"\\ud800"' + b"]" * 900 + b"}}"
    before = row_counts()
    response = api_as(dr_lee).post(
        f"/api/v1/clients/{ana.pk}/entries/", data=raw, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert row_counts() == before


def test_a_whole_surrogate_pair_in_a_name_is_kept(dr_lee, api_as):
    raw = (
        b'{"given_name": "Ana \\ud83c\\udf3b", "family_name": "Silva", "birth_date": "1990-01-01"}'
    )
    response = api_as(dr_lee).post("/api/v1/clients/", data=raw, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["given_name"] == "Ana \U0001f33b"


def test_usernames_follow_django_rules(sysadmin, family_practice, api_as):
    response = api_as(sysadmin).post(
        "/api/v1/providers/",
        {
            "username": "bad user/!",
            "password": "a long and unusual passphrase",
            "full_name": "X",
            "organization": family_practice.pk,
            "role": "clinician",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "username" in response.json()
    assert not Provider.objects.filter(username="bad user/!").exists()


@pytest.mark.parametrize("text", ["\x00", "ana\x00", "%00"])
def test_nul_in_query_parameters_is_not_500(text, ana, dr_lee, api_as):
    response = api_as(dr_lee).get("/api/v1/clients/", {"q": text})
    assert response.status_code == (400 if "\x00" in text else 200)
    response = api_as(dr_lee).get(f"/api/v1/clients/{ana.pk}/entries/", {"category": text})
    assert response.status_code == 400


@pytest.mark.parametrize("value", ["9999-12-31", "9999-12-31T23:00:00+00:00", "0001-01-01"])
def test_extreme_but_valid_dates_are_kept_and_listed(value, ana, dr_lee, api_as):
    api = api_as(dr_lee)
    response = api.post(
        f"/api/v1/clients/{ana.pk}/consents/",
        {
            "effect": "permit",
            "grantee_sector": "housing",
            "categories": ["housing"],
            "valid_from": "2020-01-01",
            "expires_at": value,
        }
        if value > "2020"
        else {
            "effect": "permit",
            "grantee_sector": "housing",
            "categories": ["housing"],
            "valid_from": value,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    response = api.post(
        f"/api/v1/clients/{ana.pk}/entries/",
        {
            "category": "housing",
            "kind": "note",
            "title": "x",
            "occurred_at": value + ("T00:00:00" if len(value) == 10 else ""),
        },
        format="json",
    )
    # A consent may end in 9999; nothing happened in 9999 or in year 1: when an
    # entry's event took place is bounded by 1900 and now (a 400 naming it).
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["occurred_at"]
    assert api.get(f"/api/v1/clients/{ana.pk}/consents/").status_code == 200
    assert api.get(f"/api/v1/clients/{ana.pk}/entries/").status_code == 200


def test_every_api_endpoint_but_the_token_needs_credentials(ana, policy, directive):
    """Walks the URL resolver: whatever exists under /api/v1/ (referrals, inbox and
    the portal included) answers 401 without credentials or with a bad token, and
    changes nothing."""
    from rest_framework.test import APIClient

    from tests.test_client_scoped_404 import ROUTE_PARAM, api_routes

    values = {"client_id": ana.pk, "policy_id": policy.pk, "consent_id": directive.pk}
    before = row_counts()
    checked = 0
    for route, methods in api_routes().items():
        # The two ways in need none: signing in, and opening a portal account with a code.
        if route in ("auth/token/", "portal/activate/"):
            continue
        path = "/api/v1/" + ROUTE_PARAM.sub(lambda m: str(values.get(m.group(1), 1)), route)
        for method in methods:
            for api in (APIClient(), APIClient(HTTP_AUTHORIZATION="Token nope")):
                response = getattr(api, method)(path, {}, format="json")
                assert response.status_code == 401, (method, path, response.status_code)
                checked += 1
    assert checked >= 2 * 20
    assert row_counts() == before


@pytest.mark.parametrize("body", BAD_BODIES)
def test_no_endpoint_answers_500_to_a_bad_body(
    body, ana, dr_lee, privacy_pat, sysadmin, policy, directive, api_as
):
    """Walks the URL resolver: every writing method of every route under /api/v1/,
    for a care-team clinician, a privacy officer and a system admin."""
    from tests.test_client_scoped_404 import ROUTE_PARAM, api_routes

    values = {"client_id": ana.pk, "policy_id": policy.pk, "consent_id": directive.pk}
    before = row_counts()
    for route, methods in api_routes().items():
        path = "/api/v1/" + ROUTE_PARAM.sub(lambda m: str(values.get(m.group(1), 1)), route)
        for method in methods & {"post", "put", "patch"}:
            for caller in (dr_lee, privacy_pat, sysadmin):
                response = getattr(api_as(caller), method)(
                    path, data=body, content_type="application/json"
                )
                assert response.status_code < 500, (method, path, response.status_code)
    assert row_counts()["Entry"] == before["Entry"]


@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", "１", "9" * 30])
def test_a_page_that_is_not_a_page_number_is_400(page, ana, dr_lee, api_as):
    for path in (f"/api/v1/clients/{ana.pk}/entries/", "/api/v1/clients/", "/api/v1/inbox/"):
        response = api_as(dr_lee).get(path, {"page": page})
        assert response.status_code == 400, (path, response.content)
        assert "page" in response.json()


def test_a_page_past_the_end_is_404_and_the_last_page_is_found(ana, dr_lee, api_as):
    path = f"/api/v1/clients/{ana.pk}/entries/"
    assert api_as(dr_lee).get(path, {"page": 2}).status_code == 404
    assert api_as(dr_lee).get(path, {"page": "last"}).status_code == 200
    assert api_as(dr_lee).get(path, {"page": 1}).status_code == 200
