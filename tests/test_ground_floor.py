"""The ground floor (core/): the audit with any actor and its channel, the events
registry, errors mapped once, permissions by role. See docs/architecture.md."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.urls import reverse

from access.inbox import inbox, with_previews
from consent.selectors import visible_clients
from core import events
from core.audit import Action, Channel, audit_channel, record_access
from core.errors import Conflict
from core.events import EventKind, deliver, publish_event
from core.models import AccessEvent, Notification, OutboxEvent
from core.permissions import is_client_account, is_provider
from core.rest import exception_handler
from records.models import Organization, Provider
from tests.celery_worker import routed  # noqa: F401 - a fixture


@pytest.fixture
def ana_account(ana):
    """Ana's own account, as the portal will make it: no organization, no role."""
    return Provider.objects.create_user(
        username="ana", password="correct horse battery staple", client=ana
    )


# --- the audit ---------------------------------------------------------------------------


def test_a_client_account_is_an_actor_of_the_audit(ana, ana_account):
    with audit_channel(Channel.PORTAL):
        record_access(ana_account, ana, Action.CONSENT_RECORD)
    event = AccessEvent.objects.get(actor=ana_account)
    assert (event.client_id, event.by_client, event.organization_id, event.channel) == (
        ana.pk,
        True,
        None,
        "portal",
    )
    assert event.emergency is False


def test_the_access_log_names_the_client_as_the_actor(ana, ana_account, privacy_pat, api_as):
    with audit_channel(Channel.PORTAL):
        record_access(ana_account, ana, Action.CONSENT_REVOKE)
    rows = api_as(privacy_pat).get(f"/api/v1/clients/{ana.pk}/access-log/").json()["results"]
    by_ana = [row for row in rows if row["by_client"]]
    assert by_ana == [
        {
            "id": by_ana[0]["id"],
            "at": by_ana[0]["at"],
            "provider": {"id": None, "full_name": "ana"},
            "organization": None,
            "action": "consent.revoke",
            "channel": "portal",
            "emergency": False,
            "by_client": True,
        }
    ]


def test_audit_actions_are_the_enum_never_free_text(ana, dr_lee):
    with pytest.raises(TypeError):
        record_access(dr_lee, ana, "client.read")
    assert not AccessEvent.objects.filter(action="client.read").exists()


def test_each_face_records_its_own_channel(client, ana, dr_lee, api_as):
    api_as(dr_lee).get(f"/api/v1/clients/{ana.pk}/")
    client.force_login(dr_lee)
    client.get(f"/clients/{ana.pk}/")
    reads = AccessEvent.objects.filter(actor=dr_lee, action="client.read")
    assert sorted(reads.values_list("channel", flat=True)) == ["api", "web"]


def test_a_service_called_outside_a_request_records_the_system_channel(ana, dr_lee):
    record_access(dr_lee, ana, Action.CLIENT_READ)
    assert AccessEvent.objects.get(actor=dr_lee, action="client.read").channel == "system"


# --- the client account passes no provider check ---------------------------------------------


def test_a_client_account_is_no_provider_and_sees_no_client(ana, ana_account):
    assert is_client_account(ana_account) and not is_provider(ana_account)
    assert not visible_clients(ana_account).exists()
    assert not inbox(ana_account).exists()


def test_a_client_account_cannot_be_given_an_organization_or_admin_rights(
    ana, ana_account, family_practice
):
    for change in (
        {"organization": family_practice, "role": "clinician"},
        {"is_superuser": True},
        {"is_staff": True},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Provider.objects.filter(pk=ana_account.pk).update(**change)


# --- the events registry -------------------------------------------------------------------------


def test_a_new_kind_is_one_registration_and_one_function(ana, dr_lee, intake_kim, routed):  # noqa: F811
    """What a feature app does to add an event kind: no migration, no other file."""
    kind = events.register(
        EventKind(
            name="test_greeting",
            label="A greeting",
            recipients=lambda event: Provider.objects.filter(pk=intake_kim.pk),
            preview=lambda notification: f"Hello from {notification.event.detail['from']}.",
        )
    )

    def greet(client, actor):
        publish_event(kind, client=client, actor=actor, detail={"from": actor.display_name})

    try:
        with routed():
            greet(ana, dr_lee)
        notification = Notification.objects.get(kind="test_greeting")
        assert notification.recipient == intake_kim
        shown = with_previews(intake_kim, list(inbox(intake_kim).filter(kind="test_greeting")))
        assert [(n.label, n.preview) for n in shown] == [
            ("A greeting", "Hello from Dr. Daniel Lee.")
        ]
        assert shown[0].link == reverse("client-detail", args=[ana.pk])
    finally:
        events._KINDS.pop("test_greeting")


def test_an_unregistered_kind_cannot_be_raised(ana, dr_lee):
    stray = EventKind("stray", "Stray", lambda e: Provider.objects.none(), lambda n: "")
    with pytest.raises(LookupError):
        publish_event(stray, client=ana, actor=dr_lee)
    assert not OutboxEvent.objects.exists()


def test_a_kind_cannot_be_registered_twice_differently():
    existing = events.kind_named("entry_added")
    with pytest.raises(ValueError):
        events.register(
            EventKind(existing.name, "Other", existing.recipients, lambda n: "other preview")
        )
    assert events.kind_named("entry_added") is existing


def test_an_event_with_a_once_key_is_raised_once(ana, dr_lee):
    kind = events.kind_named("entry_added")
    first = publish_event(kind, client=ana, actor=dr_lee, once_key="once:1")
    again = publish_event(kind, client=ana, actor=dr_lee, once_key="once:1")
    assert first is not None and again is None
    assert OutboxEvent.objects.filter(once_key="once:1").count() == 1


def test_subscribers_run_once_in_the_delivery(ana, dr_lee, intake_kim):
    """How one app reacts to another's event without importing it: a subscriber
    runs in the delivering transaction, and a second delivery is a no-op."""
    seen = []
    kind = events.kind_named("entry_added")
    events.subscribe(kind, seen.append)
    try:
        event = publish_event(kind, client=ana, actor=dr_lee)
        assert deliver(event.pk) > 0
        assert deliver(event.pk) == 0
        assert [each.pk for each in seen] == [event.pk]
    finally:
        events._SUBSCRIBERS["entry_added"].remove(seen.append)


def test_events_have_no_column_per_source():
    """A subject is any row (model label and id); only the entry whose content a
    preview may show has its own reference."""
    references = {
        field.name
        for field in OutboxEvent._meta.get_fields()
        if field.is_relation and field.many_to_one
    }
    assert references == {"client", "actor", "entry"}


# --- errors -----------------------------------------------------------------------------


def test_a_conflict_in_a_service_is_409_and_changes_nothing(ana, intake_kim, api_as):
    # intake_kim is on the team: adding her again is a conflict, not a 500.
    before = ana.care_team.count()
    response = api_as(intake_kim).post(
        f"/api/v1/clients/{ana.pk}/care-team/", {"provider": intake_kim.pk}, format="json"
    )
    assert response.status_code == 409
    assert "already on the care team" in response.json()["detail"]
    assert ana.care_team.count() == before


def test_unexpected_integrity_errors_are_not_hidden_as_409():
    """Only a unique constraint a race can hit becomes a Conflict (by the service);
    the handler no longer turns every IntegrityError into a 409."""
    assert exception_handler(IntegrityError("a bug"), {}) is None  # raised on: a real error
    assert exception_handler(Conflict("a race"), {}).status_code == 409


# --- care-team groups are named by id -------------------------------------------------


def test_organization_groups_are_named_by_id_and_survive_a_rename(family_practice, dr_lee, ana):
    assert family_practice.group.name == f"organization:{family_practice.pk}"
    Organization.objects.filter(pk=family_practice.pk).update(name="Riverside Health Centre")
    other = Organization.objects.create(
        name="Riverside Family Practice",
        sector="primary_care",
        group=Group.objects.create(name="organization:spare"),
    )
    assert other.group.name != family_practice.group.name
    assert visible_clients(dr_lee).filter(pk=ana.pk).exists()


def test_notifications_of_kinds_that_may_outlive_the_care_team(
    ana,
    dr_lee,
    intake_hal,
    hospital,
    routed,  # noqa: F811
):
    """A referral's parties keep seeing its events without the client being
    theirs (the receiving organization before it accepts); a provider who moved
    to another organization does not; other kinds need the client visible."""
    from referrals import services as referral_services

    extra = [k.name for k in events.registered_kinds() if k.parties]
    assert set(extra) >= {"referral_received", "intake_report", "referral_overdue"}
    assert "entry_added" not in extra and "emergency_access" not in extra
    with routed():
        referral_services.refer_client(
            provider=dr_lee,
            client=ana,
            to_organization=intake_hal.organization,
            reason="Housing needed.",
            urgency="routine",
        )
    notification = Notification.objects.get(recipient=intake_hal)
    assert notification.party_organization_id == intake_hal.organization_id
    assert not visible_clients(intake_hal).filter(pk=ana.pk).exists()
    assert list(inbox(intake_hal)) == [notification]
    intake_hal.organization = hospital
    intake_hal.save()
    assert not inbox(Provider.objects.get(pk=intake_hal.pk)).exists()


def test_recipients_are_the_care_team_at_the_time_of_the_event(ana, dr_lee, emp_jo, routed):  # noqa: F811
    """Recipients are the care team as it was at the event, whenever delivery runs."""
    kind = events.kind_named("entry_added")
    event = publish_event(kind, client=ana, actor=dr_lee)
    OutboxEvent.objects.filter(pk=event.pk).update(
        created_at=event.created_at - datetime.timedelta(days=3650)
    )
    assert deliver(event.pk) == 0  # nobody was on the team ten years ago
    assert OutboxEvent.objects.get(pk=event.pk).delivered_at is not None
