"""Referrals as a closed loop, through the REST API, with the routing tasks run
in-process after commit (the embedded deployment). The real-worker tests are in
test_routing.py."""

# ruff: noqa: F811 - `routed` is a pytest fixture imported from tests.celery_worker

import datetime
from collections import Counter

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.models import ConsentDirective
from core.models import AccessEvent, Notification, OutboxEvent
from records import services as record_services
from records.models import CareTeamMembership, Entry
from referrals import selectors, services
from referrals.models import Referral
from referrals.tasks import notice_overdue_referrals
from tests.celery_worker import routed  # noqa: F401 - a fixture
from tests.factories import ClientFactory, OrganizationFactory, ProviderFactory
from tests.mail_support import point_mail_at_nothing
from tests.second_factor import verified_login

REASON = "Low mood for six months; would benefit from CBT. Sensitive: recent loss."


@pytest.fixture
def coord_cy(housing):
    return ProviderFactory(
        username="coord_cy",
        full_name="Cy Coordinator",
        organization=housing,
        role="care_coordinator",
    )


@pytest.fixture
def clin_hana(housing):
    return ProviderFactory(username="clin_hana", full_name="Hana Clinician", organization=housing)


@pytest.fixture
def team(ana, dr_lee, intake_kim, emp_jo, intake_hal, coord_cy, clin_hana):
    for provider in (dr_lee, intake_kim, emp_jo):
        provider.email = f"{provider.username}@example.org"
        provider.save(update_fields=["email"])
    return ana


def refer(api_as, routed, provider, client, organization, **extra):
    payload = {
        "client": str(client.pk),
        "to_organization": organization.pk,
        "reason": REASON,
        "urgency": "urgent",
        **extra,
    }
    with routed():
        response = api_as(provider).post("/api/v1/referrals/", payload, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def act(api_as, routed, provider, referral_id, action, payload=None):
    with routed():
        return api_as(provider).post(
            f"/api/v1/referrals/{referral_id}/{action}/", payload or {}, format="json"
        )


def recipients(kind, referral_id=None):
    rows = Notification.objects.filter(kind=kind)
    if referral_id:
        rows = rows.filter(event__subject_id=referral_id)
    return Counter(rows.values_list("recipient__username", flat=True))


def inbox_of(api_as, provider, query=""):
    response = api_as(provider).get(f"/api/v1/inbox/{query}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- the loop ------------------------------------------------------------------------------


def test_full_loop_routes_each_event_to_the_table_recipients_once(
    team, dr_lee, intake_kim, emp_jo, intake_hal, coord_cy, clin_hana, housing, api_as, routed
):
    sent = refer(api_as, routed, dr_lee, team, housing)
    assert sent["status"] == "sent"
    assert sent["client"] == {
        "id": str(team.pk),
        "given_name": "Ana",
        "family_name": "Silva",
        "birth_date": team.birth_date.isoformat(),
    }
    assert sent["wait_days"] is None
    rid = sent["id"]
    # Received: the receiving organization's triage (intake + coordinator), not its clinician.
    assert recipients("referral_received") == {"intake_hal": 1, "coord_cy": 1}

    r = act(api_as, routed, intake_hal, rid, "accept")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "accepted" and r.json()["accepted_at"]
    assert CareTeamMembership.objects.filter(
        client=team, provider=intake_hal, ended_at=None
    ).exists()
    # The referrer and the care team (now including Hal, who acted, so not him).
    assert recipients("referral_accepted") == {"dr_lee": 1, "intake_kim": 1, "emp_jo": 1}

    when = timezone.now() + datetime.timedelta(days=9, hours=3)
    r = act(api_as, routed, intake_hal, rid, "schedule", {"appointment_at": when.isoformat()})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "scheduled" and r.json()["wait_days"] == 9
    assert recipients("referral_scheduled") == {"dr_lee": 1, "intake_kim": 1, "emp_jo": 1}

    report = {
        "title": "Intake: moderate depression",
        "body": "Plan: CBT x12",
        "category": "mental_health",
    }
    r = act(api_as, routed, intake_hal, rid, "complete", {"report": report})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "completed" and r.json()["completed_at"]
    entry = Entry.objects.get(pk=r.json()["report_entry"])
    assert (entry.kind, entry.organization_id, entry.author_id) == (
        "intake_report",
        housing.pk,
        intake_hal.pk,
    )
    assert recipients("intake_report") == {"dr_lee": 1, "intake_kim": 1, "emp_jo": 1}
    assert not Notification.objects.filter(kind="entry_added").exists()
    assert not OutboxEvent.objects.filter(kind="entry_added").exists()
    # Nothing was left undelivered, and nobody heard of their own action.
    assert not OutboxEvent.objects.filter(delivered_at=None).exists()
    history = [e.kind for e in selectors.referral_history(Referral.objects.get(pk=rid))]
    assert history == [
        "referral_received",
        "referral_accepted",
        "referral_scheduled",
        "intake_report",
    ]


def test_decline_and_cancel_notify_referrer_and_team(
    team, dr_lee, intake_kim, emp_jo, intake_hal, housing, api_as, routed
):
    declined = refer(api_as, routed, dr_lee, team, housing)
    r = act(api_as, routed, intake_hal, declined["id"], "decline", {"reason": "No capacity"})
    assert r.status_code == 200 and r.json()["status"] == "declined"
    assert recipients("referral_declined") == {"dr_lee": 1, "intake_kim": 1, "emp_jo": 1}

    cancelled = refer(api_as, routed, emp_jo, team, housing)
    r = act(api_as, routed, emp_jo, cancelled["id"], "cancel", {"reason": "Client moved away"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    # The referrer (emp_jo) acted: the rest of the team hears.
    assert recipients("referral_cancelled") == {"dr_lee": 1, "intake_kim": 1}


def test_entry_added_and_emergency_access_recipients(
    team, dr_lee, intake_kim, emp_jo, mh_centre, family_practice, hospital, api_as, routed
):
    officer_mh = ProviderFactory(organization=mh_centre, role="privacy_officer")
    officer_fp = ProviderFactory(organization=family_practice, role="privacy_officer")
    ProviderFactory(organization=hospital, role="privacy_officer")  # not on the case
    with routed():
        r = api_as(dr_lee).post(
            f"/api/v1/clients/{team.pk}/entries/",
            {"category": "general_health", "kind": "note", "title": "BP check"},
            format="json",
        )
    assert r.status_code == 201
    assert recipients("entry_added") == {"intake_kim": 1, "emp_jo": 1}

    with routed():
        r = api_as(intake_kim).post(
            f"/api/v1/clients/{team.pk}/emergency-access/",
            {"reason": "Client in crisis at the clinic, needs med history now"},
            format="json",
        )
    assert r.status_code == 201, r.content
    assert recipients("emergency_access") == {officer_mh.username: 1, officer_fp.username: 1}


def test_referral_received_goes_to_everyone_when_no_triage_roles(team, dr_lee, api_as, routed):
    school = OrganizationFactory(sector="education")
    a = ProviderFactory(organization=school)
    b = ProviderFactory(organization=school)
    refer(api_as, routed, dr_lee, team, school)
    assert recipients("referral_received") == {a.username: 1, b.username: 1}


# --- who may see and do what ---------------------------------------------------------------


def test_receiving_org_sees_name_and_birth_date_only_until_accepting(
    team, dr_lee, intake_hal, housing, api_as, routed
):
    rid = refer(api_as, routed, dr_lee, team, housing)["id"]
    hal = api_as(intake_hal)
    r = hal.get(f"/api/v1/referrals/{rid}/")
    assert r.status_code == 200
    assert set(r.json()["client"]) == {"id", "given_name", "family_name", "birth_date"}
    assert hal.get(f"/api/v1/clients/{team.pk}/").status_code == 404
    assert hal.get(f"/api/v1/clients/{team.pk}/entries/").status_code == 404
    act(api_as, routed, intake_hal, rid, "accept")
    assert hal.get(f"/api/v1/clients/{team.pk}/").status_code == 200


def test_non_parties_get_404(team, dr_lee, emp_jo, outsider, intake_hal, housing, api_as, routed):
    rid = refer(api_as, routed, dr_lee, team, housing)["id"]
    # emp_jo is on the care team but not a party: the referral (and its reason) does not exist.
    for provider in (emp_jo, outsider):
        client = api_as(provider)
        assert client.get(f"/api/v1/referrals/{rid}/").status_code == 404
        assert client.get("/api/v1/referrals/").json()["count"] == 0
        for action in ("accept", "decline", "schedule", "complete", "cancel"):
            assert client.post(f"/api/v1/referrals/{rid}/{action}/", {}).status_code == 404
    assert api_as(dr_lee).get("/api/v1/referrals/not-a-uuid/").status_code == 404
    # Referring a client one may not see: 404, before any field check.
    r = api_as(outsider).post("/api/v1/referrals/", {"client": str(team.pk)}, format="json")
    assert r.status_code == 404
    assert Referral.objects.count() == 1


def test_wrong_side_gets_403_before_400(team, dr_lee, intake_hal, housing, api_as, routed):
    rid = refer(api_as, routed, dr_lee, team, housing)["id"]
    for action in ("accept", "decline", "schedule", "complete"):
        r = act(api_as, routed, dr_lee, rid, action)
        assert r.status_code == 403, (action, r.content)
    r = act(api_as, routed, intake_hal, rid, "cancel")
    assert r.status_code == 403
    assert Referral.objects.get(pk=rid).status == "sent"


@pytest.mark.parametrize(
    ("steps", "action", "payload"),
    [
        (["accept"], "accept", {}),
        (["decline"], "accept", {}),
        (["accept"], "decline", {"reason": "x"}),
        ([], "schedule", {"appointment_at": "2099-01-01T10:00:00+00:00"}),
        ([], "complete", {"report": {"title": "t", "category": "social"}}),
        (["cancel"], "accept", {}),
        (["accept", "complete"], "cancel", {"reason": "too late"}),
        (["accept", "complete"], "schedule", {"appointment_at": "2099-01-01T10:00:00+00:00"}),
    ],
)
def test_disallowed_transitions_are_409_and_change_nothing(
    team, dr_lee, intake_hal, housing, api_as, routed, steps, action, payload
):
    rid = refer(api_as, routed, dr_lee, team, housing)["id"]
    step_payloads = {
        "accept": {},
        "decline": {"reason": "Full"},
        "cancel": {"reason": "Not needed"},
        "complete": {"report": {"title": "Report", "category": "social"}},
    }
    for step in steps:
        actor = dr_lee if step == "cancel" else intake_hal
        assert act(api_as, routed, actor, rid, step, step_payloads[step]).status_code == 200
    before = Referral.objects.get(pk=rid)
    events = OutboxEvent.objects.count()
    actor = dr_lee if action == "cancel" else intake_hal
    r = act(api_as, routed, actor, rid, action, payload)
    assert r.status_code == 409, r.content
    assert "detail" in r.json()
    assert Referral.objects.get(pk=rid).status == before.status
    assert OutboxEvent.objects.count() == events


def test_concurrent_transition_loses_on_the_conditional_update(
    team, dr_lee, intake_hal, housing, api_as, routed
):
    """Two requests loaded the same `sent` referral; the second to write must
    lose, whatever its in-memory copy says."""
    rid = refer(api_as, routed, dr_lee, team, housing)["id"]
    stale_for_cancel = Referral.objects.get(pk=rid)
    stale_for_accept = Referral.objects.get(pk=rid)
    services.accept_referral(provider=intake_hal, referral=stale_for_accept)
    from core.errors import Conflict

    with pytest.raises(Conflict):
        services.decline_referral(provider=intake_hal, referral=stale_for_cancel, reason="x")
    assert Referral.objects.get(pk=rid).status == "accepted"


def test_input_errors_are_400_naming_the_field(
    team, dr_lee, family_practice, housing, api_as, routed
):
    lee = api_as(dr_lee)
    base = {
        "client": str(team.pk),
        "to_organization": housing.pk,
        "reason": "r",
        "urgency": "urgent",
    }
    cases = [
        ({"to_organization": family_practice.pk}, "to_organization"),
        ({"to_organization": 999_999}, "to_organization"),
        ({"urgency": "whenever"}, "urgency"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 2_001}, "reason"),
        ({"share_categories": ["astrology"]}, "share_categories"),
    ]
    for change, field in cases:
        r = lee.post("/api/v1/referrals/", {**base, **change}, format="json")
        assert r.status_code == 400, (change, r.content)
        assert field in r.json()
    r = lee.post(
        "/api/v1/referrals/", {k: v for k, v in base.items() if k != "client"}, format="json"
    )
    assert r.status_code == 400 and "client" in r.json()
    assert Referral.objects.count() == 0
    for query in ("?direction=sideways", "?status=", "?status=lost", "?direction="):
        r = lee.get(f"/api/v1/referrals/{query}")
        assert r.status_code == 400, query
    assert lee.get("/api/v1/inbox/?unread=maybe").status_code == 400
    assert lee.get("/api/v1/inbox/?unread=").status_code == 400


def test_transition_input_errors(team, dr_lee, intake_hal, housing, api_as, routed):
    rid = refer(api_as, routed, dr_lee, team, housing)["id"]
    assert act(api_as, routed, intake_hal, rid, "decline", {}).status_code == 400
    assert act(api_as, routed, intake_hal, rid, "decline", {"reason": "  "}).status_code == 400
    act(api_as, routed, intake_hal, rid, "accept")
    r = act(api_as, routed, intake_hal, rid, "schedule", {"appointment_at": "tomorrow"})
    assert r.status_code == 400 and "appointment_at" in r.json()
    r = act(api_as, routed, intake_hal, rid, "complete", {"report": {"title": "t"}})
    assert r.status_code == 400
    r = act(api_as, routed, dr_lee, rid, "cancel", {})
    assert r.status_code == 400 and "reason" in r.json()
    assert Referral.objects.get(pk=rid).status == "accepted"


def test_list_filters_by_direction_and_status(
    team, dr_lee, intake_hal, housing, mh_centre, api_as, routed
):
    out1 = refer(api_as, routed, dr_lee, team, housing)["id"]
    refer(api_as, routed, dr_lee, team, mh_centre)
    act(api_as, routed, intake_hal, out1, "accept")
    lee = api_as(dr_lee)
    assert lee.get("/api/v1/referrals/?direction=outgoing").json()["count"] == 2
    assert lee.get("/api/v1/referrals/?direction=incoming").json()["count"] == 0
    accepted = lee.get("/api/v1/referrals/?status=accepted").json()
    assert [r["id"] for r in accepted["results"]] == [out1]
    hal = api_as(intake_hal)
    assert hal.get("/api/v1/referrals/?direction=incoming&status=accepted").json()["count"] == 1


def test_referral_reads_are_audited(team, dr_lee, intake_hal, housing, api_as, routed):
    rid = refer(api_as, routed, dr_lee, team, housing)["id"]
    api_as(intake_hal).get(f"/api/v1/referrals/{rid}/")
    api_as(dr_lee).get("/api/v1/referrals/")
    actions = set(AccessEvent.objects.filter(client=team).values_list("actor__username", "action"))
    assert {
        ("intake_hal", "referral.read"),
        ("dr_lee", "referral.list"),
        ("dr_lee", "referral.create"),
    } <= actions


def test_referral_list_query_count_is_constant(
    team, dr_lee, housing, api_as, routed, django_assert_num_queries
):
    lee = api_as(dr_lee)
    refer(api_as, routed, dr_lee, team, housing)
    lee.get("/api/v1/referrals/")  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as one:
        assert lee.get("/api/v1/referrals/").json()["count"] == 1
    baseline = len(one.captured_queries)  # now: the next request resets the query log
    for _ in range(4):
        refer(api_as, routed, dr_lee, ClientFactory(registered_by=dr_lee), housing)
    with django_assert_num_queries(baseline):
        assert lee.get("/api/v1/referrals/").json()["count"] == 5


def test_inbox_query_count_is_constant(
    team, dr_lee, intake_kim, api_as, routed, django_assert_num_queries
):
    kim = api_as(intake_kim)

    def add_entry(title):
        with routed():
            api_as(dr_lee).post(
                f"/api/v1/clients/{team.pk}/entries/",
                {"category": "general_health", "kind": "note", "title": title},
                format="json",
            )

    add_entry("first")
    kim.get("/api/v1/inbox/")
    with CaptureQueriesContext(connection) as one:
        assert len(inbox_of(api_as, intake_kim)) == 1
    baseline = len(one.captured_queries)  # now: the next request resets the query log
    for n in range(5):
        add_entry(f"more {n}")
    with django_assert_num_queries(baseline):
        assert len(inbox_of(api_as, intake_kim)) == 6


# --- consent at referral -------------------------------------------------------------------


def test_share_categories_permit_the_receiver_and_are_revoked_on_decline(
    team, dr_lee, intake_hal, housing, api_as, routed
):
    record_services.create_entry(
        client=team, author=dr_lee, category="housing", kind="note", title="Eviction notice"
    )
    rid = refer(api_as, routed, dr_lee, team, housing, share_categories=["housing"])["id"]
    directive = ConsentDirective.objects.get(grantee_organization=housing)
    assert directive.effect == "permit" and directive.categories == ["housing"]
    assert directive.is_active()
    act(api_as, routed, intake_hal, rid, "decline", {"reason": "Waitlist closed"})
    directive.refresh_from_db()
    assert directive.revoked_at is not None


def test_shared_categories_open_after_accept_and_close_on_cancel(
    team, dr_lee, intake_hal, housing, api_as, routed
):
    record_services.create_entry(
        client=team, author=dr_lee, category="housing", kind="note", title="Eviction notice"
    )
    record_services.create_entry(
        client=team, author=dr_lee, category="mental_health", kind="note", title="PHQ-9 17"
    )
    rid = refer(api_as, routed, dr_lee, team, housing, share_categories=["housing"])["id"]
    act(api_as, routed, intake_hal, rid, "accept")
    entries = api_as(intake_hal).get(f"/api/v1/clients/{team.pk}/entries/").json()
    assert [e["title"] for e in entries["results"]] == ["Eviction notice"]
    assert entries["withheld_count"] == 1
    act(api_as, routed, dr_lee, rid, "cancel", {"reason": "Found another place"})
    entries = api_as(intake_hal).get(f"/api/v1/clients/{team.pk}/entries/").json()
    assert entries["results"] == [] and entries["withheld_count"] == 2


# --- the inbox -------------------------------------------------------------------------------


def test_preview_follows_consent_as_it_changes(
    team, dr_lee, emp_jo, employment_service, api_as, routed
):
    with routed():
        api_as(dr_lee).post(
            f"/api/v1/clients/{team.pk}/entries/",
            {"category": "mental_health", "kind": "assessment", "title": "PHQ-9 score 17"},
            format="json",
        )
    [item] = inbox_of(api_as, emp_jo)
    assert item["kind"] == "entry_added"
    assert "withheld" in item["preview"]
    assert "PHQ-9" not in item["preview"] and "mental" not in item["preview"].lower()

    r = api_as(dr_lee).post(
        f"/api/v1/clients/{team.pk}/consents/",
        {
            "effect": "permit",
            "grantee_organization": employment_service.pk,
            "categories": ["mental_health"],
        },
        format="json",
    )
    assert r.status_code == 201
    [item] = inbox_of(api_as, emp_jo)
    assert "PHQ-9 score 17" in item["preview"]

    assert api_as(dr_lee).post(f"/api/v1/consents/{r.json()['id']}/revoke/").status_code == 200
    [item] = inbox_of(api_as, emp_jo)
    assert "withheld" in item["preview"] and "PHQ-9" not in item["preview"]


def test_referral_preview_names_event_and_organizations_never_the_reason(
    team, dr_lee, intake_hal, housing, family_practice, api_as, routed
):
    refer(api_as, routed, dr_lee, team, housing)
    [item] = inbox_of(api_as, intake_hal)
    assert item["kind"] == "referral_received"
    assert item["client"] == {"id": str(team.pk), "given_name": "Ana", "family_name": "Silva"}
    assert item["referral"] and item["entry"] is None
    assert family_practice.name in item["preview"] and housing.name in item["preview"]
    assert "CBT" not in item["preview"] and "loss" not in item["preview"]


def test_intake_report_preview_follows_consent(
    team, dr_lee, emp_jo, intake_hal, housing, api_as, routed
):
    rid = refer(api_as, routed, dr_lee, team, housing)["id"]
    act(api_as, routed, intake_hal, rid, "accept")
    report = {"title": "Housing need: urgent", "category": "housing"}
    act(api_as, routed, intake_hal, rid, "complete", {"report": report})
    jo = [i for i in inbox_of(api_as, emp_jo) if i["kind"] == "intake_report"][0]
    assert "withheld" in jo["preview"] and "Housing need" not in jo["preview"]
    assert "housing" not in jo["preview"].replace(housing.name, "").lower()


def test_notifications_exist_only_for_their_recipient(
    team, dr_lee, intake_kim, emp_jo, api_as, routed
):
    with routed():
        api_as(dr_lee).post(
            f"/api/v1/clients/{team.pk}/entries/",
            {"category": "general_health", "kind": "note", "title": "BP"},
            format="json",
        )
    [mine] = inbox_of(api_as, intake_kim)
    assert api_as(emp_jo).post(f"/api/v1/inbox/{mine['id']}/read/").status_code == 404
    assert api_as(dr_lee).post(f"/api/v1/inbox/{mine['id']}/read/").status_code == 404
    assert api_as(intake_kim).post("/api/v1/inbox/nope/read/").status_code == 404
    assert inbox_of(api_as, intake_kim, "?unread=true")[0]["id"] == mine["id"]

    r = api_as(intake_kim).post(f"/api/v1/inbox/{mine['id']}/read/")
    assert r.status_code == 200 and r.json()["read_at"]
    again = api_as(intake_kim).post(f"/api/v1/inbox/{mine['id']}/read/")
    assert again.status_code == 200 and again.json()["read_at"] == r.json()["read_at"]
    assert inbox_of(api_as, intake_kim, "?unread=true") == []
    assert [i["id"] for i in inbox_of(api_as, intake_kim, "?unread=false")] == [mine["id"]]


def test_inbox_forgets_clients_whose_case_the_org_left(team, dr_lee, emp_jo, api_as, routed):
    with routed():
        api_as(dr_lee).post(
            f"/api/v1/clients/{team.pk}/entries/",
            {"category": "general_health", "kind": "note", "title": "BP"},
            format="json",
        )
    assert len(inbox_of(api_as, emp_jo)) == 1
    record_services.leave_care_team(actor=emp_jo, client=team, provider=emp_jo)
    assert inbox_of(api_as, emp_jo) == []


# --- email, wait days, overdue ------------------------------------------------------------


def test_email_goes_out_once_with_a_link_and_no_record_content(
    team, dr_lee, intake_hal, housing, api_as, routed, settings
):
    settings.CARELINK_BASE_URL = "https://carelink.example"
    mail.outbox.clear()
    rid = refer(api_as, routed, dr_lee, team, housing)["id"]
    act(api_as, routed, intake_hal, rid, "accept")
    report = {
        "title": "Intake done: PTSD screen positive",
        "body": "Details",
        "category": "mental_health",
    }
    act(api_as, routed, intake_hal, rid, "complete", {"report": report})
    addressed = Counter(address for message in mail.outbox for address in message.to)
    # hal: received; dr_lee, kim, jo: accepted + intake report (each notification once).
    assert addressed == {
        "hal@harbour.example": 1,
        "dr_lee@example.org": 2,
        "intake_kim@example.org": 2,
        "emp_jo@example.org": 2,
    }
    forbidden = ["Ana", "Silva", "PTSD", "CBT", "loss", housing.name, "Riverside", "mental"]
    for message in mail.outbox:
        text = f"{message.subject}\n{message.body}"
        assert "https://carelink.example/" in text
        assert not [word for word in forbidden if word.lower() in text.lower()], text
    # Running the email task again sends nothing more.
    from core.events import email_notifications

    for event_id in OutboxEvent.objects.values_list("pk", flat=True):
        assert email_notifications.apply(args=[str(event_id)]).get() == 0
    assert len(mail.outbox) == sum(addressed.values())


def test_email_failure_does_not_block_in_app_delivery(
    team, dr_lee, intake_hal, housing, api_as, routed, settings
):
    point_mail_at_nothing(settings)
    refer(api_as, routed, dr_lee, team, housing)
    assert recipients("referral_received") == {"intake_hal": 1, "coord_cy": 1}
    assert not Notification.objects.filter(emailed_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("appointment", "completed", "expected"),
    [
        (None, None, None),
        (datetime.timedelta(days=2, hours=23), None, 2),
        (datetime.timedelta(days=3), datetime.timedelta(days=40), 3),
        (None, datetime.timedelta(days=40, hours=1), 40),
        (datetime.timedelta(hours=5), None, 0),
    ],
)
def test_wait_days_floors_whole_days(appointment, completed, expected):
    sent = timezone.now()
    referral = Referral(
        created_at=sent,
        appointment_at=sent + appointment if appointment else None,
        completed_at=sent + completed if completed else None,
    )
    assert selectors.wait_days(referral) == expected


def test_overdue_referrals_noticed_once(
    team, dr_lee, intake_hal, coord_cy, housing, mh_centre, api_as, routed, settings
):
    settings.CARELINK_OVERDUE_DAYS = {"emergent": 1, "urgent": 7, "routine": 30}
    late = refer(api_as, routed, dr_lee, team, housing)["id"]  # urgent
    fresh = refer(api_as, routed, dr_lee, team, mh_centre, urgency="routine")["id"]
    Referral.objects.filter(pk=late).update(created_at=timezone.now() - datetime.timedelta(days=8))
    Referral.objects.filter(pk=fresh).update(created_at=timezone.now() - datetime.timedelta(days=8))
    with routed():
        assert notice_overdue_referrals.apply().get() == 1
    with routed():
        assert notice_overdue_referrals.apply().get() == 0
    # The receiving organization's intake workers (not its coordinators) and the referrer.
    assert recipients("referral_overdue") == {"intake_hal": 1, "dr_lee": 1}
    [item] = [i for i in inbox_of(api_as, dr_lee) if i["kind"] == "referral_overdue"]
    assert housing.name in item["preview"] and "CBT" not in item["preview"]


def test_sweep_delivers_what_the_broker_never_got(team, dr_lee, housing, intake_hal, settings):
    """An event whose hand-off was lost is delivered by the sweep, once."""
    from core.events import deliver, sweep_outbox

    settings.CARELINK_OUTBOX_SWEEP_SECONDS = 0
    # Outside `routed`, the after-commit hand-off never runs: as if the broker was down.
    services.refer_client(
        provider=dr_lee, client=team, to_organization=housing, reason="r", urgency="routine"
    )
    event = OutboxEvent.objects.get(kind="referral_received")
    assert event.delivered_at is None
    from carelink.celery import app

    app.conf.task_always_eager, saved = True, app.conf.task_always_eager
    try:
        assert sweep_outbox.apply().get() == 1
    finally:
        app.conf.task_always_eager = saved
    assert recipients("referral_received") == {"intake_hal": 1, "coord_cy": 1}
    assert deliver(event.pk) == 0
    assert sweep_outbox.apply().get() == 0


def test_admin_shows_routing_state_but_no_client(
    team, dr_lee, housing, api_as, routed, django_user_model, client
):
    refer(api_as, routed, dr_lee, team, housing)
    root = django_user_model.objects.create_superuser("root", "root@example.org", "pw-root-12")
    verified_login(client, root)
    listing = client.get("/admin/core/outboxevent/")
    assert listing.status_code == 200
    assert b"referral_received" in listing.content or b"Referral received" in listing.content
    event = OutboxEvent.objects.get()
    detail = client.get(f"/admin/core/outboxevent/{event.pk}/change/")
    assert detail.status_code == 200
    for page in (listing, detail):
        assert b"Silva" not in page.content and b"CBT" not in page.content
    assert client.get("/admin/referrals/referral/").status_code == 404
    assert client.get("/admin/referrals/notification/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_concurrent_accept_and_decline_exactly_one_wins(
    team, dr_lee, intake_hal, coord_cy, housing
):
    """Two real transactions racing on one `sent` referral (both need `sent`):
    the conditional UPDATE lets exactly one through; the other gets a 409-kind
    error."""
    import threading

    from django.db import connections

    from core.errors import Conflict

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads need a file-based or PostgreSQL test database")
    referral = services.refer_client(
        provider=dr_lee, client=team, to_organization=housing, reason="r", urgency="urgent"
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def race(name, transition):
        try:
            barrier.wait(timeout=10)
            transition(Referral.objects.get(pk=referral.pk))
            outcomes.append(name)
        except Conflict:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(
            target=race,
            args=("accepted", lambda r: services.accept_referral(provider=intake_hal, referral=r)),
        ),
        threading.Thread(
            target=race,
            args=(
                "declined",
                lambda r: services.decline_referral(provider=coord_cy, referral=r, reason="x"),
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) in (["accepted", "refused"], ["declined", "refused"])
    status = Referral.objects.get(pk=referral.pk).status
    assert status == next(o for o in outcomes if o != "refused")
    kinds = set(OutboxEvent.objects.values_list("kind", flat=True))
    assert len(kinds & {"referral_accepted", "referral_declined"}) == 1


def test_overdue_notice_reaches_triage_when_the_organization_has_no_intake_worker(
    ana, dr_lee, routed, api_as
):
    housing_without_intake = OrganizationFactory(name="Small Housing Co-op", sector="housing")
    coordinator = ProviderFactory(organization=housing_without_intake, role="care_coordinator")
    ProviderFactory(organization=housing_without_intake, role="clinician")
    with routed():
        referral = services.refer_client(
            provider=dr_lee,
            client=ana,
            to_organization=housing_without_intake,
            reason="Needs housing.",
            urgency="emergent",
        )
    Referral.objects.filter(pk=referral.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=2)
    )
    with routed():
        assert notice_overdue_referrals.apply().get() == 1
    overdue = Notification.objects.filter(kind="referral_overdue")
    assert set(overdue.values_list("recipient", flat=True)) == {coordinator.pk, dr_lee.pk}
