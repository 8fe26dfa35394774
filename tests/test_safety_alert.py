"""The safety alert: a PHQ-9 whose item 9 is answered above 0 raises
`safety_alert` to every other care-team provider who may see its entry and
`entry_added` to the others — nobody both, never the author — decided by the
consent engine when the assessment is recorded, routed like every event
(docs/measures.md)."""

# ruff: noqa: F811 - the worker fixtures are imported from tests.celery_worker

from collections import Counter

import pytest
from django.core import mail
from django.db import close_old_connections
from django.utils import timezone

from access.inbox import inbox, with_previews
from consent.services import grant_emergency_access, record_consent, revoke_consent
from core.events import email_body
from core.models import Notification, OutboxEvent
from measures import services
from records.services import add_to_care_team, leave_care_team
from tests.celery_worker import (  # noqa: F401 - fixtures
    routed,
    routing_worker,
    spawn_worker,
    wait_for,
    worker_queue,
)
from tests.factories import ClientFactory, OrganizationFactory, ProviderFactory

POSITIVE = [2, 2, 1, 1, 1, 1, 0, 0, 1]  # item 9: "Several days"
NEGATIVE = [2, 2, 1, 1, 1, 1, 0, 0, 0]


def kinds_by_recipient() -> dict[str, Counter]:
    received: dict[str, Counter] = {}
    for kind, username in Notification.objects.values_list("kind", "recipient__username"):
        received.setdefault(username, Counter())[kind] += 1
    return received


@pytest.fixture
def team(db, ana, dr_lee, intake_kim, emp_jo, family_practice):
    """Ana's care team: her doctor (the author), a colleague of his, the
    centre's intake worker (mental health is shared with mental-health
    organizations), her employment counsellor (denied mental health), a second
    employment counsellor who broke the glass, and an inactive provider."""
    record_consent(
        provider=dr_lee,
        client=ana,
        effect="permit",
        categories=["mental_health"],
        grantee_sector="mental_health",
    )
    record_consent(
        provider=dr_lee,
        client=ana,
        effect="deny",
        categories=["mental_health"],
        grantee_sector="employment",
    )
    colleague = ProviderFactory(username="dr_colleague", organization=family_practice)
    add_to_care_team(ana, colleague)
    glass = ProviderFactory(username="emp_glass", organization=emp_jo.organization)
    add_to_care_team(ana, glass)
    grant_emergency_access(provider=glass, client=ana, reason="Client in crisis at the office.")
    gone = ProviderFactory(username="kim_gone", organization=intake_kim.organization)
    add_to_care_team(ana, gone)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    Notification.objects.all().delete()
    OutboxEvent.objects.all().delete()
    return {"client": ana, "author": dr_lee}


@pytest.mark.django_db
def test_positive_item_9_partitions_the_care_team(team, routed):
    with routed():
        services.record_assessment(
            provider=team["author"], client=team["client"], instrument="phq9", answers=POSITIVE
        )
    assert kinds_by_recipient() == {
        # Who may see the entry: own organization, permit, emergency access.
        "dr_colleague": Counter({"safety_alert": 1}),
        "intake_kim": Counter({"safety_alert": 1}),
        "emp_glass": Counter({"safety_alert": 1}),
        # Who may not: employment is denied mental health.
        "emp_jo": Counter({"entry_added": 1}),
    }
    # The author hears nothing, the inactive provider neither.
    alert = OutboxEvent.objects.get(kind="safety_alert")
    added = OutboxEvent.objects.get(kind="entry_added")
    assert alert.entry_id == added.entry_id
    assert sorted(alert.detail["recipients"]) == sorted(added.detail["told_elsewhere"])


@pytest.mark.django_db
def test_previews_show_the_alert_only_to_those_who_may_see_it(team, intake_kim, emp_jo, routed):
    with routed():
        assessment = services.record_assessment(
            provider=team["author"], client=team["client"], instrument="phq9", answers=POSITIVE
        )
    [kim_item] = with_previews(intake_kim, list(inbox(intake_kim)))
    assert kim_item.kind == "safety_alert"
    assert kim_item.preview == (
        "Safety alert: PHQ-9 item 9 answered above 0 — PHQ-9: score 9 of 27, mild."
    )
    assert kim_item.link.endswith("#safety-alert")
    [jo_item] = with_previews(emp_jo, list(inbox(emp_jo)))
    assert jo_item.kind == "entry_added"
    assert jo_item.preview == "New entry — content withheld."
    # The API's inbox says the same (and names the entry only by its id).
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(emp_jo)
    shown = api.get("/api/v1/inbox/").json()["results"]
    assert [(n["kind"], n["preview"]) for n in shown] == [
        ("entry_added", "New entry — content withheld.")
    ]
    assert "PHQ" not in str(shown) and "item 9" not in str(shown)
    assert shown[0]["entry"] == str(assessment.entry_id)


@pytest.mark.django_db
def test_email_never_carries_the_alert(team, intake_kim, routed):
    intake_kim.email = "kim@centre.example"
    intake_kim.save(update_fields=["email"])
    with routed():
        services.record_assessment(
            provider=team["author"], client=team["client"], instrument="phq9", answers=POSITIVE
        )
    [message] = [m for m in mail.outbox if "kim@centre.example" in m.to]
    assert message.body == email_body()
    for secret in ("PHQ", "Safety", "item 9", "Ana", "score"):
        assert secret not in message.body and secret not in message.subject


@pytest.mark.django_db
def test_item_9_at_0_is_an_entry_like_any(team, routed):
    with routed():
        services.record_assessment(
            provider=team["author"], client=team["client"], instrument="phq9", answers=NEGATIVE
        )
    assert not OutboxEvent.objects.filter(kind="safety_alert").exists()
    assert OutboxEvent.objects.get(kind="entry_added").detail == {}
    assert {user: dict(kinds) for user, kinds in kinds_by_recipient().items()} == {
        user: {"entry_added": 1} for user in ("dr_colleague", "intake_kim", "emp_glass", "emp_jo")
    }


@pytest.mark.django_db
def test_gad7_has_no_safety_item(team, routed):
    with routed():
        services.record_assessment(
            provider=team["author"], client=team["client"], instrument="gad7", answers=[3] * 7
        )
    assert set(OutboxEvent.objects.values_list("kind", flat=True)) == {"entry_added"}


@pytest.mark.django_db
def test_when_nobody_else_may_see_it_no_alert_is_raised(routed):
    practice = OrganizationFactory(sector="primary_care")
    school = OrganizationFactory(sector="education")
    doctor = ProviderFactory(organization=practice)
    teacher = ProviderFactory(organization=school)
    client = ClientFactory(registered_by=doctor)
    add_to_care_team(client, teacher)
    with routed():
        services.record_assessment(
            provider=doctor, client=client, instrument="phq9", answers=POSITIVE
        )
    assert not OutboxEvent.objects.filter(kind="safety_alert").exists()
    assert kinds_by_recipient() == {teacher.username: Counter({"entry_added": 1})}


@pytest.mark.django_db
def test_the_partition_is_decided_when_recorded(team, intake_kim, routed):
    """Consent revoked and the team changed between recording and delivery: the
    alert still reaches exactly whom it was decided for, nobody joins it late,
    and the inbox's preview follows consent as it is now."""
    directive = team["client"].consents.filter(effect="permit").first()
    services.record_assessment(
        provider=team["author"], client=team["client"], instrument="phq9", answers=POSITIVE
    )
    late = ProviderFactory(username="late_joiner", organization=intake_kim.organization)
    add_to_care_team(team["client"], late)
    revoke_consent(provider=team["author"], directive=directive)
    with routed():
        from core.events import deliver

        for event in OutboxEvent.objects.filter(delivered_at__isnull=True):
            deliver(event.pk)
    received = kinds_by_recipient()
    assert received["intake_kim"] == Counter({"safety_alert": 1})
    assert "late_joiner" not in received
    [kim_item] = with_previews(intake_kim, list(inbox(intake_kim).filter(kind="safety_alert")))
    assert kim_item.preview == "Safety alert — content withheld."


@pytest.mark.django_db
def test_a_provider_who_left_before_is_not_told(team, intake_kim, routed):
    leave_care_team(actor=intake_kim, client=team["client"], provider=intake_kim)
    with routed():
        services.record_assessment(
            provider=team["author"], client=team["client"], instrument="phq9", answers=POSITIVE
        )
    assert "intake_kim" not in kinds_by_recipient()


@pytest.mark.django_db
def test_other_entries_are_routed_exactly_as_before(team, routed):
    from records.services import add_entry

    with routed():
        add_entry(
            provider=team["author"],
            client=team["client"],
            category="mental_health",
            kind="note",
            title="Follow-up",
        )
    event = OutboxEvent.objects.get()
    assert event.detail == {}
    assert set(kinds_by_recipient()) == {"dr_colleague", "intake_kim", "emp_glass", "emp_jo"}


# --- a real worker ------------------------------------------------------------------------


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_the_partition_once_each(routing_worker):
    practice = OrganizationFactory(name="Practice", sector="primary_care")
    centre = OrganizationFactory(name="Centre", sector="mental_health")
    work = OrganizationFactory(name="Work", sector="employment")
    lee = ProviderFactory(username="lee", organization=practice)
    kim = ProviderFactory(username="kim", organization=centre, role="intake_worker")
    jo = ProviderFactory(username="jo", organization=work)
    client = ClientFactory(registered_by=lee)
    add_to_care_team(client, kim)
    add_to_care_team(client, jo)
    record_consent(
        provider=lee,
        client=client,
        effect="permit",
        categories=["mental_health"],
        grantee_sector="mental_health",
    )
    for answers in (POSITIVE, POSITIVE, NEGATIVE):
        services.record_assessment(provider=lee, client=client, instrument="phq9", answers=answers)

    def delivered() -> bool:
        close_old_connections()
        return (
            OutboxEvent.objects.count() == 5
            and not OutboxEvent.objects.filter(delivered_at=None).exists()
        )

    wait_for(delivered, 30, "the safety alerts to be delivered", step=0.2)
    assert kinds_by_recipient() == {
        "kim": Counter({"safety_alert": 2, "entry_added": 1}),
        "jo": Counter({"entry_added": 3}),
    }
    assert OutboxEvent.objects.filter(delivered_at__lte=timezone.now()).count() == 5
