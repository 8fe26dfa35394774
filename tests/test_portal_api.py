"""The portal API as the contract writes it (docs/portal.md): the invitation,
activation through HTTP, signing in, and every /api/v1/portal/ endpoint with
its content, its audit and its errors."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from capacity.selectors import _one_decimal
from core.audit import Action, Channel
from core.models import AccessEvent
from portal.models import ExperienceAnswer, PortalInvite
from records import services as record_services
from records.models import Provider, Service
from referrals import services as referral_services
from referrals.models import Referral
from tests.capacity_data import Row, referral
from tests.factories import ProviderFactory
from tests.portal_support import PASSWORD, open_portal_account

DAY = timedelta(days=1)
NEW_ACCOUNT = {"username": "ana", "password": PASSWORD}


def invite_code(api_as, provider, client) -> str:
    response = api_as(provider).post(f"/api/v1/clients/{client.pk}/portal-invite/")
    assert response.status_code == 201, response.content
    return response.json()["code"]


@pytest.fixture
def ana_account(ana, dr_lee):
    return open_portal_account(ana, dr_lee)


@pytest.fixture
def portal(ana_account) -> APIClient:
    """Ana's own account, signed in with a token as a phone app would."""
    client = APIClient()
    token = client.post(
        "/api/v1/auth/token/", {"username": "ana", "password": PASSWORD}, format="json"
    )
    assert token.status_code == 200, token.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    return client


# --- the invitation ----------------------------------------------------------------------


def test_invite_by_a_care_team_provider(ana, dr_lee, api_as):
    response = api_as(dr_lee).post(f"/api/v1/clients/{ana.pk}/portal-invite/")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"code", "expires_at"}
    invite = PortalInvite.objects.get(client=ana)
    assert body["code"] not in invite.code_hash
    assert invite.expires_at - invite.issued_at == timedelta(hours=72)
    event = AccessEvent.objects.get(client=ana, action=Action.PORTAL_INVITE)
    assert (event.actor, event.channel, event.by_client) == (dr_lee, Channel.API, False)


def test_invite_roles(ana, dr_lee, privacy_pat, mh_centre, outsider, api_as):
    admin = ProviderFactory(organization=mh_centre, role="org_admin")
    url = f"/api/v1/clients/{ana.pk}/portal-invite/"
    assert api_as(outsider).post(url).status_code == 404
    assert api_as(admin).post(url).status_code == 403
    assert api_as(privacy_pat).post(url).status_code == 201
    assert not PortalInvite.objects.filter(issued_by=admin).exists()


# --- activation over HTTP ------------------------------------------------------------------


def activate(body: dict, address: str = "203.0.113.9"):
    return APIClient(REMOTE_ADDR=address).post("/api/v1/portal/activate/", body, format="json")


def test_activation_then_sign_in_through_the_token_endpoint(ana, dr_lee, api_as):
    code = invite_code(api_as, dr_lee, ana)
    response = activate(
        {"code": code, "birth_date": str(ana.birth_date), "username": "ana", "password": PASSWORD}
    )
    assert response.status_code == 201, response.content
    assert response.json() == {"username": "ana"}
    account = Provider.objects.get(username="ana")
    assert account.client == ana
    event = AccessEvent.objects.get(client=ana, action=Action.PORTAL_ACTIVATE)
    assert (event.actor, event.by_client, event.organization, event.channel) == (
        account,
        True,
        None,
        Channel.PORTAL,
    )
    token = APIClient().post(
        "/api/v1/auth/token/", {"username": "ana", "password": PASSWORD}, format="json"
    )
    assert token.status_code == 200 and token.json()["token"]


def test_activation_refusals_are_one_message(ana, dr_lee, api_as):
    code = invite_code(api_as, dr_lee, ana)
    good = {
        "code": code,
        "birth_date": str(ana.birth_date),
        "username": "ana",
        "password": PASSWORD,
    }
    wrong_code = activate({**good, "code": "AAAA-BBBB-CCCC"})
    wrong_birth = activate({**good, "birth_date": "1950-01-01"})
    assert wrong_code.status_code == wrong_birth.status_code == 400
    assert wrong_code.json() == wrong_birth.json()
    assert activate(good).status_code == 201
    used = activate({**good, "username": "ana2"})
    assert used.status_code == 400 and used.json() == wrong_code.json()
    expired_code = invite_code(api_as, dr_lee, ana)
    PortalInvite.objects.filter(used_at__isnull=True).update(
        issued_at=timezone.now() - timedelta(hours=73), expires_at=timezone.now() - DAY / 24
    )
    expired = activate({**good, "code": expired_code, "username": "ana3"})
    assert expired.status_code == 400 and expired.json() == wrong_code.json()


def test_second_account_is_409_and_bad_fields_are_400_by_name(ana, dr_lee, api_as):
    code = invite_code(api_as, dr_lee, ana)
    base = {"code": code, "birth_date": str(ana.birth_date), "username": "ana"}
    weak = activate({**base, "password": "password"})
    assert weak.status_code == 400 and "password" in weak.json()
    missing = activate({"code": code})
    assert missing.status_code == 400
    assert {"birth_date", "username", "password"} <= set(missing.json())
    bad_date = activate({**base, "password": PASSWORD, "birth_date": "1990-02-31"})
    assert bad_date.status_code == 400 and "birth_date" in bad_date.json()
    assert activate({**base, "password": PASSWORD}).status_code == 201
    again = invite_code(api_as, dr_lee, ana)
    second = activate({**base, "code": again, "username": "ana_again", "password": PASSWORD})
    assert second.status_code == 409
    assert Provider.objects.filter(client=ana).count() == 1


def test_five_birth_date_misses_void_the_code(ana, dr_lee, api_as):
    code = invite_code(api_as, dr_lee, ana)
    base = {"code": code, "username": "ana", "password": PASSWORD}
    for _ in range(5):
        assert activate({**base, "birth_date": "1950-01-01"}).status_code == 400
    assert activate({**base, "birth_date": str(ana.birth_date)}).status_code == 400
    assert PortalInvite.objects.get(client=ana).voided_at is not None
    assert not Provider.objects.filter(client=ana).exists()


def test_activation_throttle_numbers(ana, dr_lee, api_as):
    """31 wrong activations from one address in 10 minutes: the first 30 are
    400, the 31st and every attempt after it (even a right one) 429 with
    Retry-After; another address is unaffected."""
    code = invite_code(api_as, dr_lee, ana)
    good = {
        "code": code,
        "birth_date": str(ana.birth_date),
        "username": "ana",
        "password": PASSWORD,
    }
    statuses = [activate({**good, "code": f"WRONG-{n:04d}-XXXX"}).status_code for n in range(30)]
    assert statuses == [400] * 30
    blocked = activate({**good, "code": "WRONG-9999-XXXX"})
    assert blocked.status_code == 429
    assert 1 <= int(blocked["Retry-After"]) <= 600
    assert "detail" in blocked.json()
    right_but_blocked = activate(good)
    assert right_but_blocked.status_code == 429
    assert not Provider.objects.filter(client=ana).exists()
    assert activate(good, address="198.51.100.20").status_code == 201


# --- what the client sees ------------------------------------------------------------------


def test_me_and_email_notices(portal, ana):
    me = portal.get("/api/v1/portal/me/")
    assert me.status_code == 200
    assert me.json() == {
        "id": str(ana.pk),
        "given_name": "Ana",
        "family_name": "Silva",
        "birth_date": str(ana.birth_date),
        "phone": ana.phone,
        "email": ana.email,
        "email_notices": False,
    }
    if ana.email:
        portal.patch("/api/v1/portal/me/", {"email": ""}, format="json")
    refused = portal.patch("/api/v1/portal/me/", {"email_notices": True}, format="json")
    assert refused.status_code == 400 and "email_notices" in refused.json()
    bad = portal.patch("/api/v1/portal/me/", {"email": "not an address"}, format="json")
    assert bad.status_code == 400 and "email" in bad.json()
    both = portal.patch("/api/v1/portal/me/", {"email": "", "email_notices": True}, format="json")
    assert both.status_code == 400 and "email_notices" in both.json()
    changed = portal.patch(
        "/api/v1/portal/me/", {"email": "ana@example.org", "email_notices": True}, format="json"
    )
    assert changed.status_code == 200
    assert changed.json()["email"] == "ana@example.org" and changed.json()["email_notices"]
    undone = portal.patch("/api/v1/portal/me/", {"email": "", "email_notices": True}, format="json")
    assert undone.status_code == 400  # nothing changed: the address stays, and the choice
    assert portal.get("/api/v1/portal/me/").json()["email"] == "ana@example.org"
    writes = AccessEvent.objects.filter(client=ana, by_client=True).values_list("action", flat=True)
    assert {Action.CLIENT_UPDATE, Action.PORTAL_NOTICES} <= set(writes)


def test_care_team(portal, ana):
    team = portal.get("/api/v1/portal/care-team/").json()
    assert [(m["provider"]["full_name"], m["organization"]["name"]) for m in team] == [
        ("Dr. Daniel Lee", "Riverside Family Practice"),
        ("Kim Park", "Eastside Community Mental Health"),
        ("Jo Martin", "WorkBridge Employment"),
    ]
    assert set(team[0]) == {"provider", "organization", "since"}
    assert set(team[0]["provider"]) == {"full_name", "role"}
    assert team[0]["organization"]["sector"] == "primary_care"


def test_access_log(portal, ana, ana_account, dr_lee, emp_jo, api_as, outsider):
    api_as(emp_jo).get(f"/api/v1/clients/{ana.pk}/")
    # A hospital clinician joins by matching at intake: the client sees it.
    api_as(outsider).post(
        "/api/v1/clients/",
        {
            "given_name": "Ana",
            "family_name": "silva",
            "birth_date": str(ana.birth_date),
            "health_card_number": "1234567890",
        },
        format="json",
    )
    before = AccessEvent.objects.filter(client=ana).count()
    log = portal.get("/api/v1/portal/access-log/").json()
    portal.get("/api/v1/portal/care-team/")
    portal.get("/api/v1/portal/referrals/")
    assert AccessEvent.objects.filter(client=ana).count() == before  # reading is no event
    assert log["count"] == before and log["next"] is None
    newest = log["results"][0]
    assert newest["action"] == "joined_by_matching"
    assert newest["provider"] == {"full_name": "Olive Outsider"}
    assert newest["organization"] == {"name": "General Hospital", "sector": "hospital"}
    assert newest["by_client"] is False and newest["emergency"] is False
    read = next(e for e in log["results"] if e["action"] == "client.read")
    assert read["provider"]["full_name"] == "Jo Martin"
    assert read["action_label"] == "read the record"
    own = next(e for e in log["results"] if e["action"] == "portal.activate")
    assert own["organization"] is None and own["by_client"] is True
    assert own["provider"] == {"full_name": "Ana Silva"}
    times = [e["at"] for e in log["results"]]
    assert times == sorted(times, reverse=True)


def test_access_log_marks_emergency(portal, ana, outsider, api_as):
    record_services.add_to_care_team(ana, outsider)
    reason = "Unconscious in the emergency room, allergies needed now."
    assert (
        api_as(outsider)
        .post(f"/api/v1/clients/{ana.pk}/emergency-access/", {"reason": reason}, format="json")
        .status_code
        == 201
    )
    api_as(outsider).get(f"/api/v1/clients/{ana.pk}/entries/")
    log = portal.get("/api/v1/portal/access-log/").json()["results"]
    assert log[0]["action"] == "entry.list" and log[0]["emergency"] is True


def test_consents_recorded_and_revoked_by_the_client(
    portal, ana, ana_account, dr_lee, employment_service, api_as
):
    recorded = portal.post(
        "/api/v1/portal/consents/",
        {"effect": "deny", "grantee_sector": "employment", "categories": ["general_health"]},
        format="json",
    )
    assert recorded.status_code == 201, recorded.content
    directive = recorded.json()
    assert directive["recorded_by"] is None and directive["recorded_by_client"] is True
    assert directive["effect"] == "deny" and directive["active"] is True
    assert directive["categories"] == ["general_health"]
    # The provider API shows it the same way.
    listed = api_as(dr_lee).get(f"/api/v1/clients/{ana.pk}/consents/").json()["results"]
    assert listed[0]["id"] == directive["id"]
    assert listed[0]["recorded_by"] is None and listed[0]["recorded_by_client"] is True
    mine = portal.get("/api/v1/portal/consents/").json()
    assert mine["count"] == 1 and mine["results"][0]["id"] == directive["id"]

    revoke = f"/api/v1/portal/consents/{directive['id']}/revoke/"
    revoked = portal.post(revoke)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert revoked.json()["active"] is False
    assert portal.post(revoke).status_code == 409
    writes = AccessEvent.objects.filter(client=ana, actor=ana_account).values_list(
        "action", "organization", "channel"
    )
    assert (Action.CONSENT_RECORD, None, Channel.PORTAL) in set(writes)
    assert (Action.CONSENT_REVOKE, None, Channel.PORTAL) in set(writes)


def test_consent_input_errors(portal, family_practice):
    url = "/api/v1/portal/consents/"
    cases = [
        ({"effect": "maybe", "grantee_sector": "employment", "categories": ["housing"]}, "effect"),
        ({"effect": "permit", "grantee_sector": "employment", "categories": []}, "categories"),
        ({"effect": "permit", "grantee_sector": "employment", "categories": ["x"]}, "categories"),
        ({"effect": "permit", "categories": ["housing"]}, "grantee_organization"),
        (
            {
                "effect": "permit",
                "grantee_sector": "employment",
                "grantee_organization": family_practice.pk,
                "categories": ["housing"],
            },
            "grantee_sector",
        ),
        (
            {
                "effect": "permit",
                "grantee_sector": "employment",
                "categories": ["housing"],
                "expires_at": "2001-01-01T00:00:00Z",
            },
            "expires_at",
        ),
    ]
    for body, field in cases:
        response = portal.post(url, body, format="json")
        assert response.status_code == 400 and field in response.json(), (body, response.json())
    assert portal.get(url).json()["count"] == 0


def test_a_directive_recorded_with_a_provider_is_revoked_by_the_client(
    portal, ana, dr_lee, employment_service, api_as
):
    given = api_as(dr_lee).post(
        f"/api/v1/clients/{ana.pk}/consents/",
        {"effect": "permit", "grantee_sector": "employment", "categories": ["housing"]},
        format="json",
    )
    directive_id = given.json()["id"]
    assert given.json()["recorded_by_client"] is False
    assert given.json()["recorded_by"]["full_name"] == "Dr. Daniel Lee"
    assert portal.post(f"/api/v1/portal/consents/{directive_id}/revoke/").status_code == 200


def test_another_clients_directive_and_referral_are_404(portal, dr_lee, api_as, hospital):
    bea = record_services.register_client(
        provider=dr_lee, given_name="Bea", family_name="Other", birth_date=timezone.localdate()
    ).client
    theirs = api_as(dr_lee).post(
        f"/api/v1/clients/{bea.pk}/consents/",
        {"effect": "permit", "grantee_sector": "hospital", "categories": ["housing"]},
        format="json",
    )
    assert portal.post(f"/api/v1/portal/consents/{theirs.json()['id']}/revoke/").status_code == 404
    assert portal.post("/api/v1/portal/consents/not-an-id/revoke/").status_code == 404
    ref = referral_services.refer_client(
        provider=dr_lee, client=bea, reason="r", urgency="routine", to_organization=hospital
    )
    body = {"repeated_story": False, "kept_informed": 4, "overall": 4}
    url = f"/api/v1/portal/referrals/{ref.pk}/experience/"
    assert portal.post(url, body, format="json").status_code == 404


def test_revoking_in_the_portal_bites_on_the_providers_next_request(
    portal, ana, dr_lee, emp_jo, api_as
):
    """Ana shared her general-health notes with the employment service; she
    stops it in the portal, and the counsellor's very next list withholds them."""
    record_services.create_entry(
        client=ana, author=dr_lee, category="general_health", kind="note", title="Check-up"
    )
    given = api_as(dr_lee).post(
        f"/api/v1/clients/{ana.pk}/consents/",
        {"effect": "permit", "grantee_sector": "employment", "categories": ["general_health"]},
        format="json",
    )
    jo = api_as(emp_jo)
    url = f"/api/v1/clients/{ana.pk}/entries/"
    before = jo.get(url).json()
    assert [e["title"] for e in before["results"]] == ["Check-up"]
    assert before["withheld_count"] == 0
    assert portal.post(f"/api/v1/portal/consents/{given.json()['id']}/revoke/").status_code == 200
    after = jo.get(url).json()
    assert after["results"] == [] and after["withheld_count"] == 1

    # And a deny she records herself overrides a permit at once.
    api_as(dr_lee).post(
        f"/api/v1/clients/{ana.pk}/consents/",
        {"effect": "permit", "grantee_sector": "employment", "categories": ["general_health"]},
        format="json",
    )
    assert jo.get(url).json()["withheld_count"] == 0
    portal.post(
        "/api/v1/portal/consents/",
        {"effect": "deny", "grantee_sector": "employment", "categories": ["general_health"]},
        format="json",
    )
    assert jo.get(url).json()["withheld_count"] == 1


# --- referrals, expected waits and the survey ------------------------------------------------


@pytest.fixture
def counselling(mh_centre):
    return Service.objects.create(organization=mh_centre, name="Adult counselling")


def history(service, organization, waits: list[int], client, referrer) -> None:
    """Referrals to the service (or organization) that waited these many days."""
    now = timezone.now()
    rows = []
    for n, days in enumerate(waits):
        sent = now - (days + 10 + n) * DAY
        rows.append(
            referral(
                Row(sent, "scheduled", appointment_at=sent + days * DAY, stopped_waiting_at=sent),
                client=client,
                referrer=referrer,
                to_organization=organization,
                service=service,
            )
        )
    Referral.objects.bulk_create(rows)


def test_referrals_with_expected_wait(portal, ana, dr_lee, mh_centre, housing, counselling):
    other = record_services.register_client(
        provider=dr_lee, given_name="Cy", family_name="History", birth_date=timezone.localdate()
    ).client
    history(counselling, mh_centre, [7, 14, 21, 28, 35, 70], other, dr_lee)
    to_service = referral_services.refer_client(
        provider=dr_lee, client=ana, reason="Low mood", urgency="routine", service=counselling
    )
    to_housing = referral_services.refer_client(
        provider=dr_lee, client=ana, reason="Housing", urgency="routine", to_organization=housing
    )
    body = portal.get("/api/v1/portal/referrals/").json()
    assert body["count"] == 2
    by_id = {r["id"]: r for r in body["results"]}
    counsel = by_id[str(to_service.pk)]
    assert set(counsel) == {
        "id",
        "to_organization",
        "service",
        "status",
        "created_at",
        "appointment_at",
        "wait_days",
        "expected_wait",
        "experience_given",
    }
    assert counsel["service"] == {"name": "Adult counselling"}
    assert counsel["to_organization"] == {
        "name": "Eastside Community Mental Health",
        "sector": "mental_health",
    }
    # Nearest rank over 6 waits: median = 3rd (21), p90 = 6th (70).
    assert counsel["expected_wait"] == {"median_wait_days": 21, "p90_wait_days": 70}
    assert counsel["status"] == "sent" and counsel["wait_days"] is None
    assert counsel["experience_given"] is False
    # No service, too few referrals to the organization to publish.
    assert by_id[str(to_housing.pk)]["service"] is None
    assert by_id[str(to_housing.pk)]["expected_wait"] == {
        "median_wait_days": None,
        "p90_wait_days": None,
    }
    assert "reason" not in counsel


def test_survey_rules(portal, ana, dr_lee, intake_kim, mh_centre, counselling):
    ref = referral_services.refer_client(
        provider=dr_lee, client=ana, reason="Low mood", urgency="routine", service=counselling
    )
    url = f"/api/v1/portal/referrals/{ref.pk}/experience/"
    answer = {"repeated_story": True, "kept_informed": 4, "overall": 5}
    assert portal.post(url, answer, format="json").status_code == 409  # not scheduled yet
    referral_services.accept_referral(provider=intake_kim, referral=ref)
    assert portal.post(url, answer, format="json").status_code == 409
    ref = referral_services.schedule_referral(
        provider=intake_kim, referral=ref, appointment_at=timezone.now() + 3 * DAY
    )
    listed = portal.get("/api/v1/portal/referrals/").json()["results"][0]
    assert listed["status"] == "scheduled" and listed["expected_wait"] is None
    assert listed["wait_days"] == 3
    for bad, field in [
        ({**answer, "kept_informed": 6}, "kept_informed"),
        ({**answer, "overall": 0}, "overall"),
        ({**answer, "repeated_story": "perhaps"}, "repeated_story"),
        ({"kept_informed": 3, "overall": 3}, "repeated_story"),
    ]:
        response = portal.post(url, bad, format="json")
        assert response.status_code == 400 and field in response.json()
    given = portal.post(url, answer, format="json")
    assert given.status_code == 201
    assert given.json()["repeated_story"] is True and given.json()["overall"] == 5
    assert portal.post(url, answer, format="json").status_code == 409
    assert ExperienceAnswer.objects.filter(referral=ref).count() == 1
    assert portal.get("/api/v1/portal/referrals/").json()["results"][0]["experience_given"]
    event = AccessEvent.objects.filter(client=ana, action=Action.EXPERIENCE_RECORD).get()
    assert event.by_client and event.organization is None


def test_experience_figures_on_services(ana, dr_lee, intake_kim, mh_centre, counselling, api_as):
    """Nothing but the count below five answers; at five the figures, rounded."""
    clients = [ana] + [
        record_services.register_client(
            provider=dr_lee, given_name=f"C{n}", family_name="Survey", birth_date=ana.birth_date
        ).client
        for n in range(4)
    ]
    answers = [(True, 4, 5), (False, 3, 4), (True, 5, 5), (False, 2, 3), (False, 4, 4)]
    now = timezone.now()
    for client, (repeated, informed, overall) in zip(clients[:5], answers, strict=True):
        ref = referral(
            Row(now - 5 * DAY, "scheduled", appointment_at=now, stopped_waiting_at=now),
            client=client,
            referrer=dr_lee,
            to_organization=mh_centre,
            service=counselling,
        )
        ref.save()
        ExperienceAnswer.objects.create(
            referral=ref, repeated_story=repeated, kept_informed=informed, overall=overall
        )
        figures = api_as(dr_lee).get(f"/api/v1/services/{counselling.pk}/").json()["experience"]
        count = ExperienceAnswer.objects.count()
        if count < 5:
            assert figures == {
                "responses": count,
                "repeated_story_percent": None,
                "kept_informed_mean": None,
                "overall_mean": None,
            }
    # 2 of 5 repeated their story; kept informed (4+3+5+2+4)/5 = 3.6; overall 21/5 = 4.2.
    assert figures == {
        "responses": 5,
        "repeated_story_percent": 40,
        "kept_informed_mean": 3.6,
        "overall_mean": 4.2,
    }
    listed = api_as(dr_lee).get("/api/v1/services/").json()["results"]
    assert next(s for s in listed if s["id"] == str(counselling.pk))["experience"] == figures


def test_experience_rounding():
    assert _one_decimal(17, 4) == 4.3  # 4.25 rounds half up
    assert _one_decimal(22, 7) == 3.1


# --- the provider side ------------------------------------------------------------------------


def test_client_detail_says_whether_there_is_a_portal_account(ana, dr_lee, api_as):
    url = f"/api/v1/clients/{ana.pk}/"
    assert api_as(dr_lee).get(url).json()["portal_account"] is False
    open_portal_account(ana, dr_lee)
    assert api_as(dr_lee).get(url).json()["portal_account"] is True


# --- constant queries ---------------------------------------------------------------------------


def portal_queries(account, path: str) -> int:
    api = APIClient()
    api.force_authenticate(account)
    with CaptureQueriesContext(connection) as queries:
        assert api.get(path).status_code == 200
    return len(queries)


def test_portal_lists_do_not_grow_a_query_per_row(
    ana, ana_account, dr_lee, emp_jo, mh_centre, housing, counselling, api_as
):
    def refer_twice() -> None:
        referral_services.refer_client(
            provider=dr_lee, client=ana, reason="r", urgency="routine", service=counselling
        )
        referral_services.refer_client(
            provider=dr_lee, client=ana, reason="r", urgency="routine", to_organization=housing
        )
        api_as(emp_jo).get(f"/api/v1/clients/{ana.pk}/")
        api_as(dr_lee).post(
            f"/api/v1/clients/{ana.pk}/consents/",
            {"effect": "permit", "grantee_sector": "housing", "categories": ["housing"]},
            format="json",
        )

    refer_twice()
    paths = [
        "/api/v1/portal/referrals/",
        "/api/v1/portal/access-log/",
        "/api/v1/portal/consents/",
        "/api/v1/portal/care-team/",
    ]
    few = {path: portal_queries(ana_account, path) for path in paths}
    for _ in range(5):
        refer_twice()
    many = {path: portal_queries(ana_account, path) for path in paths}
    assert few == many
    # The account's client, the page's count and rows, and for referrals the
    # service's and the organization's wait figures (four queries each: the
    # queue, arrivals, departures, the histogram).
    assert many["/api/v1/portal/referrals/"] <= 11
