"""Moving the audit and the routing queue to the ground floor loses nothing: the
first release's rows, made by its own schema, come out of the migrations with
their ids, times, actors, delivery and read state, and the previews they had."""

import datetime
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

FIRST_RELEASE = [
    ("records", "0001_initial"),
    ("consent", "0003_policy_rule_category_validation"),
    ("referrals", "0002_overdue_once_and_unread_inbox"),
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_first_release_rows_survive_the_move_to_core():
    old = migrate(FIRST_RELEASE)
    Group = old.get_model("auth", "Group")
    Organization = old.get_model("records", "Organization")
    Provider = old.get_model("records", "Provider")
    Client = old.get_model("records", "Client")
    Referral = old.get_model("referrals", "Referral")
    OldAccess = old.get_model("consent", "AccessEvent")
    OldEvent = old.get_model("referrals", "OutboxEvent")
    OldNotification = old.get_model("referrals", "Notification")

    practice = Organization.objects.create(
        name="Riverside",
        sector="primary_care",
        group=Group.objects.create(name="organization:Riverside"),
    )
    centre = Organization.objects.create(
        name="Eastside",
        sector="mental_health",
        group=Group.objects.create(name="organization:Eastside"),
    )
    lee = Provider.objects.create(
        username="dr_lee", full_name="Dr. Lee", organization=practice, role="clinician"
    )
    kim = Provider.objects.create(
        username="kim", full_name="Kim", organization=centre, role="intake_worker"
    )
    ana = Client.objects.create(
        given_name="Ana", family_name="Silva", birth_date=datetime.date(1992, 3, 14)
    )
    referral = Referral.objects.create(
        client=ana,
        from_organization=practice,
        to_organization=centre,
        referred_by=lee,
        reason="CBT",
        urgency="urgent",
    )
    at = timezone.now() - datetime.timedelta(days=2)
    page_read = OldAccess.objects.create(
        client=ana, provider=lee, organization=practice, action="web.client.read", at=at
    )
    api_read = OldAccess.objects.create(
        client=ana, provider=kim, organization=centre, action="entry.list", at=at, emergency=True
    )
    write = OldAccess.objects.create(
        client=ana, provider=lee, organization=practice, action="referral.create", at=at
    )
    sent = OldEvent.objects.create(
        kind="referral_received",
        client=ana,
        actor=lee,
        referral=referral,
        created_at=at,
        delivered_at=at,
    )
    overdue = OldEvent.objects.create(
        kind="referral_overdue", client=ana, referral=referral, created_at=at
    )
    notice = OldNotification.objects.create(
        event=sent,
        recipient=kim,
        kind="referral_received",
        client=ana,
        referral=referral,
        created_at=at,
        read_at=at,
    )

    new = migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    AccessEvent = new.get_model("core", "AccessEvent")
    OutboxEvent = new.get_model("core", "OutboxEvent")
    Notification = new.get_model("core", "Notification")

    copied = {
        e.pk: (e.actor_id, e.action, e.channel, e.at, e.emergency)
        for e in AccessEvent.objects.all()
    }
    assert copied == {
        page_read.pk: (lee.pk, "client.read", "web", at, False),
        api_read.pk: (kim.pk, "entry.list", "api", at, True),
        write.pk: (lee.pk, "referral.create", "", at, False),
    }
    event = OutboxEvent.objects.get(pk=sent.pk)
    assert (event.kind, event.subject_type, event.subject_id, event.delivered_at) == (
        "referral_received",
        "referrals.referral",
        referral.pk,
        at,
    )
    assert event.detail["from_organization"] == {"id": practice.pk, "name": "Riverside"}
    assert event.detail["to_organization"] == {"id": centre.pk, "name": "Eastside"}
    assert OutboxEvent.objects.get(pk=overdue.pk).once_key == f"referral_overdue:{referral.pk}"
    assert OutboxEvent.objects.get(pk=overdue.pk).delivered_at is None  # still to be delivered
    moved = Notification.objects.get(pk=notice.pk)
    assert (moved.event_id, moved.recipient_id, moved.read_at) == (sent.pk, kim.pk, at)
    names = set(new.get_model("auth", "Group").objects.values_list("name", flat=True))
    assert names == {f"organization:{practice.pk}", f"organization:{centre.pk}"}
    assert isinstance(event.subject_id, uuid.UUID)


@pytest.mark.django_db(transaction=True)
def test_memberships_of_roles_that_do_not_treat_end_with_their_history_kept():
    """A privacy officer put on a care team before minimum necessary leaves it;
    their organization keeps its access where a clinician of it is on the team,
    and loses it where they were its only member."""
    old = migrate([("records", "0003_name_groups_by_organization_id")])
    Group = old.get_model("auth", "Group")
    Permission = old.get_model("auth", "Permission")
    Organization = old.get_model("records", "Organization")
    Provider = old.get_model("records", "Provider")
    Client = old.get_model("records", "Client")
    Membership = old.get_model("records", "CareTeamMembership")
    Grant = old.get_model("records", "ClientGroupObjectPermission")
    access = Permission.objects.get(codename="access_client")

    def organization(name):
        return Organization.objects.create(
            name=name, sector="hospital", group=Group.objects.create(name=f"g:{name}")
        )

    hospital, clinic = organization("St. Mary's"), organization("Downtown")
    doctor = Provider.objects.create(username="dr_nguyen", organization=hospital, role="clinician")
    officer = Provider.objects.create(
        username="privacy_hill", organization=hospital, role="privacy_officer"
    )
    admin = Provider.objects.create(username="admin_dt", organization=clinic, role="org_admin")
    marcus = Client.objects.create(
        given_name="Marcus", family_name="Brown", birth_date=datetime.date(1985, 9, 2)
    )
    for provider in (doctor, officer, admin):
        Membership.objects.create(
            client=marcus, provider=provider, organization_id=provider.organization_id
        )
    for org in (hospital, clinic):
        Grant.objects.create(group=org.group, permission=access, content_object=marcus)

    new = migrate([("records", "0004_end_memberships_of_roles_that_do_not_treat")])
    Membership = new.get_model("records", "CareTeamMembership")
    Grant = new.get_model("records", "ClientGroupObjectPermission")
    active = set(
        Membership.objects.filter(ended_at__isnull=True).values_list("provider_id", flat=True)
    )
    assert active == {doctor.pk}
    assert Membership.objects.count() == 3  # history kept
    assert set(Grant.objects.values_list("group_id", flat=True)) == {hospital.group_id}
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_stopped_waiting_backfill_takes_each_referral_from_what_it_holds():
    """Referrals made before `stopped_waiting_at` get it from their own times and
    the outbox: exact where those say it, the earliest possible moment where not
    (docs/capacity.md). Nothing else about them changes."""
    old = migrate([("referrals", "0005_referral_service_and_stopped_waiting")])
    Group = old.get_model("auth", "Group")
    Organization = old.get_model("records", "Organization")
    Provider = old.get_model("records", "Provider")
    Client = old.get_model("records", "Client")
    Referral = old.get_model("referrals", "Referral")
    OutboxEvent = old.get_model("core", "OutboxEvent")

    practice = Organization.objects.create(
        name="Riverside", sector="primary_care", group=Group.objects.create(name="g1")
    )
    centre = Organization.objects.create(
        name="Eastside", sector="mental_health", group=Group.objects.create(name="g2")
    )
    lee = Provider.objects.create(
        username="dr_lee", full_name="Dr. Lee", organization=practice, role="clinician"
    )
    ana = Client.objects.create(
        given_name="Ana", family_name="Silva", birth_date=datetime.date(1992, 3, 14)
    )
    t0 = timezone.now() - datetime.timedelta(days=60)

    def day(n: int) -> datetime.datetime:
        return t0 + datetime.timedelta(days=n)

    def referral(status: str, **times):
        return Referral.objects.create(
            client=ana,
            from_organization=practice,
            to_organization=centre,
            referred_by=lee,
            reason="CBT",
            urgency="routine",
            status=status,
            created_at=t0,
            **times,
        )

    def scheduled_event(referral_, at):
        OutboxEvent.objects.create(
            kind="referral_scheduled",
            subject_type="referrals.referral",
            subject_id=referral_.pk,
            created_at=at,
        )

    waiting = referral("accepted", accepted_at=day(1))
    declined = referral("declined", declined_at=day(3))
    cancelled = referral("cancelled", cancelled_at=day(4))
    completed = referral("completed", accepted_at=day(1), completed_at=day(9))
    rescheduled = referral("scheduled", accepted_at=day(1), appointment_at=day(40))
    scheduled_event(rescheduled, day(5))
    scheduled_event(rescheduled, day(12))  # the reschedule: not the moment it left
    then_completed = referral(
        "completed", accepted_at=day(1), appointment_at=day(20), completed_at=day(20)
    )
    scheduled_event(then_completed, day(6))
    then_cancelled = referral(
        "cancelled", accepted_at=day(1), appointment_at=day(30), cancelled_at=day(25)
    )
    scheduled_event(then_cancelled, day(7))
    unknown = referral("scheduled", accepted_at=day(2), appointment_at=day(30))

    new = migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    stopped = dict(
        new.get_model("referrals", "Referral").objects.values_list("pk", "stopped_waiting_at")
    )
    assert stopped == {
        waiting.pk: None,
        declined.pk: day(3),
        cancelled.pk: day(4),
        completed.pk: day(9),
        rescheduled.pk: day(5),
        then_completed.pk: day(6),
        then_cancelled.pk: day(7),
        unknown.pk: day(2),  # not known: its acceptance, the earliest it can have been
    }
    statuses = dict(new.get_model("referrals", "Referral").objects.values_list("pk", "status"))
    assert statuses[rescheduled.pk] == "scheduled" and statuses[unknown.pk] == "scheduled"


@pytest.mark.django_db(transaction=True)
def test_notifications_delivered_before_parties_existed_are_stamped():
    """A referral's notification to a provider of its receiving organization
    keeps showing in their inbox after the upgrade (docs/access-rules.md)."""
    old = migrate(
        [
            ("core", "0003_access_log_append_only"),
            ("referrals", "0008_referral_figures_covering_indexes"),
        ]
    )
    Group = old.get_model("auth", "Group")
    Organization = old.get_model("records", "Organization")
    Provider = old.get_model("records", "Provider")
    Client = old.get_model("records", "Client")
    Event = old.get_model("core", "OutboxEvent")
    Notification = old.get_model("core", "Notification")

    def organization(name):
        return Organization.objects.create(
            name=name, sector="housing", group=Group.objects.create(name=f"g:{name}")
        )

    practice, housing, bystander = (
        organization("Riverside"),
        organization("Harbour"),
        organization("Other"),
    )
    hal = Provider.objects.create(username="hal", organization=housing, role="intake_worker")
    otto = Provider.objects.create(username="otto", organization=bystander, role="clinician")
    ana = Client.objects.create(
        given_name="Ana", family_name="Silva", birth_date=datetime.date(1992, 3, 14)
    )
    event = Event.objects.create(
        kind="referral_received",
        client=ana,
        subject_type="referrals.referral",
        subject_id=uuid.uuid4(),
        detail={
            "from_organization": {"id": practice.pk, "name": "Riverside"},
            "to_organization": {"id": housing.pk, "name": "Harbour"},
            "referred_by": None,
        },
    )
    to_hal = Notification.objects.create(event=event, recipient=hal, kind=event.kind, client=ana)
    to_otto = Notification.objects.create(event=event, recipient=otto, kind=event.kind, client=ana)
    new = migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    Notification = new.get_model("core", "Notification")
    assert Notification.objects.get(pk=to_hal.pk).party_organization_id == housing.pk
    assert Notification.objects.get(pk=to_otto.pk).party_organization_id is None
