"""Consent directives, consent policies and emergency access through API v1."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from consent.models import ConsentDirective, ConsentPolicy, EmergencyAccess
from consent.services import save_consent_policy
from core.errors import InvalidInput
from core.models import AccessEvent, OutboxEvent
from records.services import create_entry
from tests.factories import ProviderFactory


def consents_url(client) -> str:
    return f"/api/v1/clients/{client.pk}/consents/"


def entries_url(client) -> str:
    return f"/api/v1/clients/{client.pk}/entries/"


@pytest.fixture
def mh_note(ana, intake_kim):
    return create_entry(
        client=ana, author=intake_kim, category="mental_health", kind="note", title="Intake"
    )


@pytest.fixture
def policy(employment_service):
    return save_consent_policy(
        name="Work and housing",
        description="Share employment with employment services.",
        rules=[
            {"effect": "permit", "grantee_sector": "employment", "categories": ["employment"]},
            {
                "effect": "deny",
                "grantee_organization": employment_service,
                "categories": ["mental_health"],
            },
        ],
    )


# --- directives ------------------------------------------------------------------------------


def test_permit_directive_makes_entry_visible_at_once(ana, dr_lee, emp_jo, mh_note, api_as):
    jo = api_as(emp_jo)
    assert jo.get(f"{entries_url(ana)}{mh_note.pk}/").status_code == 404
    assert jo.get(entries_url(ana)).json()["withheld_count"] == 1

    response = api_as(dr_lee).post(
        consents_url(ana),
        {
            "effect": "permit",
            "grantee_organization": emp_jo.organization_id,
            "categories": ["mental_health"],
            "note": "Agreed at visit.",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    for field in (
        "id",
        "effect",
        "grantee_organization",
        "grantee_sector",
        "categories",
        "valid_from",
        "expires_at",
        "revoked_at",
        "recorded_by",
        "policy",
        "active",
    ):
        assert field in body
    assert body["effect"] == "permit"
    assert body["grantee_organization"] == emp_jo.organization_id
    assert body["categories"] == ["mental_health"]
    assert body["active"] is True
    assert body["revoked_at"] is None
    assert body["recorded_by"]["id"] == dr_lee.pk
    assert AccessEvent.objects.filter(client=ana, actor=dr_lee, action="consent.record").exists()

    assert jo.get(f"{entries_url(ana)}{mh_note.pk}/").status_code == 200
    listing = jo.get(entries_url(ana)).json()
    assert listing["withheld_count"] == 0
    assert [e["id"] for e in listing["results"]] == [str(mh_note.pk)]

    # Revoke: 200 with revoked_at, effect immediate, a second revoke is 409.
    revoke = f"/api/v1/consents/{body['id']}/revoke/"
    response = api_as(emp_jo).post(revoke)
    assert response.status_code == 200, response.content
    assert response.json()["revoked_at"] is not None
    assert response.json()["active"] is False
    assert jo.get(f"{entries_url(ana)}{mh_note.pk}/").status_code == 404
    assert jo.get(entries_url(ana)).json()["withheld_count"] == 1
    assert AccessEvent.objects.filter(client=ana, actor=emp_jo, action="consent.revoke").exists()

    before = ConsentDirective.objects.get(pk=body["id"]).revoked_at
    response = api_as(dr_lee).post(revoke)
    assert response.status_code == 409
    assert "detail" in response.json()
    assert ConsentDirective.objects.get(pk=body["id"]).revoked_at == before


def test_sector_deny_overrides_organization_permit(ana, dr_lee, emp_jo, mh_note, api_as):
    lee = api_as(dr_lee)
    for effect, grantee in (
        ("permit", {"grantee_organization": emp_jo.organization_id}),
        ("deny", {"grantee_sector": "employment"}),
    ):
        response = lee.post(
            consents_url(ana),
            {"effect": effect, "categories": ["mental_health"], **grantee},
            format="json",
        )
        assert response.status_code == 201
    assert api_as(emp_jo).get(f"{entries_url(ana)}{mh_note.pk}/").status_code == 404


def test_future_directive_is_not_active_yet(ana, dr_lee, emp_jo, mh_note, api_as):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = api_as(dr_lee).post(
        consents_url(ana),
        {
            "effect": "permit",
            "grantee_sector": "employment",
            "categories": ["mental_health"],
            "valid_from": tomorrow,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["active"] is False
    assert api_as(emp_jo).get(f"{entries_url(ana)}{mh_note.pk}/").status_code == 404


def test_date_only_and_datetime_validity_bounds(ana, dr_lee, api_as):
    response = api_as(dr_lee).post(
        consents_url(ana),
        {
            "effect": "permit",
            "grantee_sector": "housing",
            "categories": ["housing"],
            "valid_from": "2020-01-01",
            "expires_at": "2099-06-30T12:00:00+00:00",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    directive = ConsentDirective.objects.get(pk=response.json()["id"])
    # A plain date means the start of that day, in the clinic's time zone.
    assert timezone.localtime(directive.valid_from).isoformat().startswith("2020-01-01T00:00:00")
    assert directive.expires_at.isoformat() == "2099-06-30T12:00:00+00:00"
    assert response.json()["active"] is True


BAD_DIRECTIVES = [
    ({"effect": "allow", "grantee_sector": "housing", "categories": ["housing"]}, "effect"),
    ({"grantee_sector": "housing", "categories": ["housing"]}, "effect"),
    ({"effect": "permit", "grantee_sector": "housing", "categories": []}, "categories"),
    ({"effect": "permit", "grantee_sector": "housing"}, "categories"),
    ({"effect": "permit", "grantee_sector": "housing", "categories": ["astrology"]}, "categories"),
    ({"effect": "permit", "grantee_sector": "housing", "categories": "housing"}, "categories"),
    ({"effect": "permit", "grantee_sector": "space", "categories": ["housing"]}, "grantee_sector"),
    ({"effect": "permit", "categories": ["housing"]}, "grantee_sector"),
    (
        {"effect": "permit", "grantee_organization": 999999, "categories": ["housing"]},
        "grantee_organization",
    ),
    (
        {
            "effect": "permit",
            "grantee_sector": "housing",
            "grantee_organization": "ORG",
            "categories": ["housing"],
        },
        "grantee_sector",
    ),
    (
        {
            "effect": "permit",
            "grantee_sector": "housing",
            "categories": ["housing"],
            "valid_from": "2030-01-02",
            "expires_at": "2030-01-01",
        },
        "expires_at",
    ),
    (
        {
            "effect": "permit",
            "grantee_sector": "housing",
            "categories": ["housing"],
            "note": "n" * 2001,
        },
        "note",
    ),
    ({"policy": "POLICY", "effect": "permit"}, "policy"),
    ({"policy": 999999}, "policy"),
]


@pytest.mark.parametrize(("payload", "field"), BAD_DIRECTIVES)
def test_bad_directives_are_400_naming_the_field(
    payload, field, ana, dr_lee, family_practice, policy, api_as
):
    payload = {
        key: family_practice.pk if value == "ORG" else policy.pk if value == "POLICY" else value
        for key, value in payload.items()
    }
    response = api_as(dr_lee).post(consents_url(ana), payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.content
    assert not ConsentDirective.objects.exists()


def test_consent_list_includes_revoked_and_is_audited(ana, dr_lee, intake_kim, api_as):
    lee = api_as(dr_lee)
    ids = [
        lee.post(
            consents_url(ana),
            {"effect": "permit", "grantee_sector": sector, "categories": ["housing"]},
            format="json",
        ).json()["id"]
        for sector in ("housing", "employment")
    ]
    assert lee.post(f"/api/v1/consents/{ids[0]}/revoke/").status_code == 200
    response = api_as(intake_kim).get(consents_url(ana))
    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 2
    by_id = {d["id"]: d for d in page["results"]}
    assert by_id[ids[0]]["active"] is False and by_id[ids[0]]["revoked_at"]
    assert by_id[ids[1]]["active"] is True
    assert AccessEvent.objects.filter(client=ana, actor=intake_kim, action="consent.list").exists()


def test_revoke_unknown_or_invisible_directive_is_404(ana, dr_lee, outsider, sysadmin, api_as):
    directive = (
        api_as(dr_lee)
        .post(
            consents_url(ana),
            {"effect": "permit", "grantee_sector": "housing", "categories": ["housing"]},
            format="json",
        )
        .json()["id"]
    )
    unknown = api_as(outsider).post("/api/v1/consents/7d2c1e0b-7a41-4a47-9a68-1c2d7b1e9f00/revoke/")
    hidden = api_as(outsider).post(f"/api/v1/consents/{directive}/revoke/")
    assert unknown.status_code == hidden.status_code == 404
    assert unknown.content == hidden.content
    assert api_as(outsider).post("/api/v1/consents/not-a-uuid/revoke/").status_code == 404
    assert api_as(sysadmin).post(f"/api/v1/consents/{directive}/revoke/").status_code == 404
    assert APIClient().post(f"/api/v1/consents/{directive}/revoke/").status_code == 401
    assert ConsentDirective.objects.get(pk=directive).revoked_at is None


# --- consent policies --------------------------------------------------------------------------


def test_policy_application_copies_rules(ana, dr_lee, emp_jo, privacy_pat, policy, api_as):
    create_entry(client=ana, author=dr_lee, category="employment", kind="note", title="Work")
    response = api_as(dr_lee).post(consents_url(ana), {"policy": policy.pk}, format="json")
    assert response.status_code == 201, response.content
    directives = response.json()["directives"]
    assert len(directives) == 2
    assert {(d["effect"], d["grantee_sector"], tuple(d["categories"])) for d in directives} == {
        ("permit", "employment", ("employment",)),
        ("deny", "", ("mental_health",)),
    }
    assert all(d["policy"] == policy.pk for d in directives)
    assert api_as(emp_jo).get(entries_url(ana)).json()["count"] == 1

    # A later edit of the policy changes nothing the client already agreed to.
    response = api_as(privacy_pat).put(
        f"/api/v1/consent-policies/{policy.pk}/",
        {
            "name": "Work and housing",
            "description": "Now denies employment.",
            "rules": [
                {"effect": "deny", "grantee_sector": "employment", "categories": ["employment"]}
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert ConsentDirective.objects.filter(client=ana, policy=policy).count() == 2
    assert api_as(emp_jo).get(entries_url(ana)).json()["count"] == 1
    assert api_as(emp_jo).get(entries_url(ana)).json()["withheld_count"] == 0


def policy_payload(name: str = "Housing first") -> dict:
    return {
        "name": name,
        "description": "Share housing with housing services.",
        "rules": [{"effect": "permit", "grantee_sector": "housing", "categories": ["housing"]}],
    }


def test_policies_anyone_reads_only_privacy_officers_and_superusers_write(
    dr_lee, privacy_pat, sysadmin, policy, api_as
):
    lee = api_as(dr_lee)
    listing = lee.get("/api/v1/consent-policies/")
    assert listing.status_code == 200
    assert [p["name"] for p in listing.json()["results"]] == ["Work and housing"]
    assert lee.get(f"/api/v1/consent-policies/{policy.pk}/").json()["rules"][0] == {
        "effect": "permit",
        "grantee_organization": None,
        "grantee_sector": "employment",
        "categories": ["employment"],
    }
    detail = f"/api/v1/consent-policies/{policy.pk}/"
    for method, path, body in (
        ("post", "/api/v1/consent-policies/", policy_payload()),
        ("put", detail, policy_payload()),
        ("patch", detail, {"name": "Renamed"}),
        ("delete", detail, None),
    ):
        response = getattr(lee, method)(path, body, format="json")
        assert response.status_code == 403, (method, response.content)
    assert ConsentPolicy.objects.get().name == "Work and housing"

    response = api_as(privacy_pat).post(
        "/api/v1/consent-policies/", policy_payload(), format="json"
    )
    assert response.status_code == 201, response.content
    response = api_as(sysadmin).post(
        "/api/v1/consent-policies/", policy_payload("Admin's"), format="json"
    )
    assert response.status_code == 201, response.content
    assert ConsentPolicy.objects.count() == 3


def test_policies_need_authentication(policy):
    anonymous = APIClient()
    assert anonymous.get("/api/v1/consent-policies/").status_code == 401
    assert anonymous.get(f"/api/v1/consent-policies/{policy.pk}/").status_code == 401
    response = anonymous.post("/api/v1/consent-policies/", policy_payload(), format="json")
    assert response.status_code == 401
    response = anonymous.patch(
        f"/api/v1/consent-policies/{policy.pk}/", {"name": "x"}, format="json"
    )
    assert response.status_code == 401
    assert anonymous.delete(f"/api/v1/consent-policies/{policy.pk}/").status_code == 401
    assert ConsentPolicy.objects.get().name == "Work and housing"


def test_policy_put_patch_delete(privacy_pat, employment_service, policy, api_as):
    api = api_as(privacy_pat)
    detail = f"/api/v1/consent-policies/{policy.pk}/"

    response = api.patch(detail, {"description": "Edited."}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Work and housing"
    assert response.json()["description"] == "Edited."
    assert len(response.json()["rules"]) == 2
    rule = response.json()["rules"][1]
    assert rule["grantee_organization"] == employment_service.pk
    assert rule["grantee_sector"] is None

    response = api.patch(
        detail,
        {"rules": [{"effect": "permit", "grantee_sector": "housing", "categories": ["housing"]}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["rules"] == [
        {
            "effect": "permit",
            "grantee_organization": None,
            "grantee_sector": "housing",
            "categories": ["housing"],
        }
    ]
    assert response.json()["description"] == "Edited."

    response = api.put(detail, policy_payload("Replaced"), format="json")
    assert response.status_code == 200, response.content
    assert api.get(detail).json()["name"] == "Replaced"

    assert api.delete(detail).status_code == 204
    assert api.get(detail).status_code == 404
    assert api.delete(detail).status_code == 404
    assert api.get("/api/v1/consent-policies/").json()["count"] == 0


@pytest.mark.parametrize(
    ("method", "payload", "field"),
    [
        ("put", {"name": "Only a name"}, "rules"),
        ("put", {**policy_payload(), "name": "n" * 101}, "name"),
        ("put", {**policy_payload(), "rules": []}, "rules"),
        ("post", {**policy_payload(), "name": "Work and housing"}, "name"),
        ("post", {**policy_payload(), "description": "d" * 2001}, "description"),
        ("patch", {"rules": [{"categories": ["housing"], "grantee_sector": "housing"}]}, "rules"),
        ("patch", {"rules": [{"effect": "permit", "grantee_sector": "housing"}]}, "rules"),
        ("patch", {"rules": [{"effect": "permit", "categories": ["housing"]}]}, "rules"),
        (
            "patch",
            {
                "rules": [
                    {"effect": "maybe", "grantee_sector": "housing", "categories": ["housing"]}
                ]
            },
            "rules",
        ),
        ("patch", {"rules": {"effect": "permit"}}, "rules"),
        ("patch", {"name": ""}, "name"),
        ("patch", {"name": None}, "name"),
    ],
)
def test_bad_policy_writes_are_400_and_change_nothing(
    method, payload, field, privacy_pat, policy, api_as
):
    path = (
        "/api/v1/consent-policies/"
        if method == "post"
        else f"/api/v1/consent-policies/{policy.pk}/"
    )
    before = api_as(privacy_pat).get(f"/api/v1/consent-policies/{policy.pk}/").json()
    response = getattr(api_as(privacy_pat), method)(path, payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.content
    assert api_as(privacy_pat).get(f"/api/v1/consent-policies/{policy.pk}/").json() == before
    assert ConsentPolicy.objects.count() == 1


def test_archived_policy_cannot_be_applied(ana, dr_lee, privacy_pat, policy, api_as):
    assert api_as(privacy_pat).delete(f"/api/v1/consent-policies/{policy.pk}/").status_code == 204
    response = api_as(dr_lee).post(consents_url(ana), {"policy": policy.pk}, format="json")
    assert response.status_code == 400
    assert "policy" in response.json()


# --- emergency access ---------------------------------------------------------------------------


REASON = "Client unconscious in emergency department, need medication history."


def test_emergency_access_lifts_rule_3_for_that_provider_only(
    ana, dr_lee, emp_jo, employment_service, mh_note, api_as, settings
):
    colleague = ProviderFactory(organization=employment_service)
    from records.services import add_to_care_team

    add_to_care_team(ana, colleague)
    jo = api_as(emp_jo)
    assert jo.get(f"{entries_url(ana)}{mh_note.pk}/").status_code == 404

    before = timezone.now()
    response = jo.post(f"/api/v1/clients/{ana.pk}/emergency-access/", {"reason": REASON})
    assert response.status_code == 201, response.content
    body = response.json()
    assert "id" in body
    expires = EmergencyAccess.objects.get(pk=body["id"]).expires_at
    hours = timedelta(hours=settings.CARELINK_EMERGENCY_ACCESS_HOURS)
    assert before + hours <= expires <= timezone.now() + hours
    assert hours == timedelta(hours=4)
    assert datetime.fromisoformat(body["expires_at"]) == expires
    # The privacy officers hear of it through the routing queue's outbox.
    assert OutboxEvent.objects.filter(
        kind="emergency_access",
        client=ana,
        actor=emp_jo,
        subject_type="consent.emergencyaccess",
        subject_id=body["id"],
    ).exists()

    assert jo.get(f"{entries_url(ana)}{mh_note.pk}/").status_code == 200
    listing = jo.get(entries_url(ana)).json()
    assert listing["withheld_count"] == 0 and listing["count"] == 1
    assert api_as(colleague).get(f"{entries_url(ana)}{mh_note.pk}/").status_code == 404
    assert api_as(colleague).get(entries_url(ana)).json()["withheld_count"] == 1

    events = AccessEvent.objects.filter(client=ana, actor=emp_jo, at__gte=before)
    assert events.filter(action="emergency_access.grant").exists()
    assert events.filter(action="entry.list").exists()
    assert all(event.emergency for event in events)
    assert not AccessEvent.objects.filter(actor=colleague, emergency=True).exists()


def test_emergency_access_hours_come_from_the_setting(ana, emp_jo, api_as, settings):
    settings.CARELINK_EMERGENCY_ACCESS_HOURS = 1
    before = timezone.now()
    body = (
        api_as(emp_jo)
        .post(f"/api/v1/clients/{ana.pk}/emergency-access/", {"reason": REASON})
        .json()
    )
    expires = EmergencyAccess.objects.get(pk=body["id"]).expires_at
    assert before + timedelta(hours=1) <= expires <= timezone.now() + timedelta(hours=1)


def test_expired_emergency_access_lifts_nothing(ana, emp_jo, mh_note, api_as):
    now = timezone.now()
    EmergencyAccess.objects.create(
        client=ana,
        provider=emp_jo,
        organization=emp_jo.organization,
        reason=REASON,
        granted_at=now - timedelta(hours=5),
        expires_at=now - timedelta(hours=1),
    )
    assert api_as(emp_jo).get(f"{entries_url(ana)}{mh_note.pk}/").status_code == 404


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"reason": "too short"},
        {"reason": "r" * 19},
        {"reason": " " * 30},
        {"reason": "   nineteen chars!!   "},
        {"reason": "r" * 2001},
        {"reason": None},
        {"reason": ["a list of reasons that is long"]},
    ],
)
def test_emergency_access_reason_rules(payload, ana, emp_jo, api_as):
    response = api_as(emp_jo).post(
        f"/api/v1/clients/{ana.pk}/emergency-access/", payload, format="json"
    )
    assert response.status_code == 400, response.content
    assert "reason" in response.json()
    assert not EmergencyAccess.objects.exists()
    assert not AccessEvent.objects.filter(action="emergency_access.grant").exists()


def test_emergency_access_off_care_team_or_superuser_is_404(ana, outsider, sysadmin, api_as):
    for caller in (outsider, sysadmin):
        response = api_as(caller).post(
            f"/api/v1/clients/{ana.pk}/emergency-access/", {"reason": REASON}
        )
        assert response.status_code == 404
    assert not EmergencyAccess.objects.exists()


def test_emergency_access_reason_limits_are_inclusive(ana, emp_jo, api_as):
    url = f"/api/v1/clients/{ana.pk}/emergency-access/"
    assert api_as(emp_jo).post(url, {"reason": "r" * 20}, format="json").status_code == 201
    assert api_as(emp_jo).post(url, {"reason": "r" * 2000}, format="json").status_code == 201


# --- bounded policies (a policy of 10,000 rules once made 10,000 directives) -------------


def _rules(n: int) -> list[dict]:
    sectors = ["hospital", "housing", "education", "employment", "mental_health"]
    return [
        {"effect": "permit", "grantee_sector": sectors[i % 5], "categories": ["housing"]}
        for i in range(n)
    ]


def test_a_policy_holds_at_most_50_rules(privacy_pat, api_as):
    api = api_as(privacy_pat)
    at_the_cap = api.post(
        "/api/v1/consent-policies/", {"name": "Fifty", "rules": _rules(50)}, format="json"
    )
    assert at_the_cap.status_code == 201
    over = api.post(
        "/api/v1/consent-policies/", {"name": "Fifty-one", "rules": _rules(51)}, format="json"
    )
    assert over.status_code == 400
    assert "rules" in over.json() and "50" in str(over.json()["rules"])
    patched = api.patch(
        f"/api/v1/consent-policies/{at_the_cap.json()['id']}/", {"rules": _rules(51)}, format="json"
    )
    assert patched.status_code == 400 and "rules" in patched.json()
    assert ConsentPolicy.objects.get(pk=at_the_cap.json()["id"]).rules.count() == 50
    assert not ConsentPolicy.objects.filter(name="Fifty-one").exists()


def test_the_rule_cap_is_the_services_too(privacy_pat):
    with pytest.raises(InvalidInput) as error:
        save_consent_policy(name="Too many", description="", rules=_rules(51))
    assert "rules" in error.value.fields
    assert not ConsentPolicy.objects.filter(name="Too many").exists()


def test_a_rule_names_at_most_every_category_once(privacy_pat, ana, dr_lee, api_as):
    many = {"effect": "permit", "grantee_sector": "hospital", "categories": ["housing"] * 9}
    response = api_as(privacy_pat).post(
        "/api/v1/consent-policies/", {"name": "Repeats", "rules": [many]}, format="json"
    )
    assert response.status_code == 400 and "rules" in response.json()
    directive = {**many, "categories": ["housing"] * 9}
    response = api_as(dr_lee).post(f"/api/v1/clients/{ana.pk}/consents/", directive, format="json")
    assert response.status_code == 400 and "categories" in response.json()


def test_the_policy_page_refuses_more_than_50_rules(client, privacy_pat):
    client.force_login(privacy_pat)
    data = {
        "name": "Long",
        "description": "",
        "rules-TOTAL_FORMS": "51",
        "rules-INITIAL_FORMS": "0",
    }
    for i in range(51):
        data |= {
            f"rules-{i}-effect": "permit",
            f"rules-{i}-grantee": "sector:hospital",
            f"rules-{i}-categories": "housing",
        }
    response = client.post("/consent-policies/new/", data)
    assert response.status_code == 400
    assert "50" in response.content.decode()
    assert not ConsentPolicy.objects.filter(name="Long").exists()
