"""Referrals in daily work: the shared categories shown, the history from the
reader's side, the list opening on the side the user works, redirecting a
declined referral in one step, confirming an early completion, waits in words."""

from datetime import timedelta

import pytest
from django.utils import timezone

from referrals import services
from referrals.models import Referral
from referrals.views import wait_text
from tests.factories import OrganizationFactory


@pytest.fixture
def referral(ana, dr_lee, housing, intake_hal):
    return services.refer_client(
        provider=dr_lee,
        client=ana,
        to_organization=housing,
        reason="Needs supported housing after eviction notice.",
        urgency="urgent",
        share_categories=["housing", "social"],
    )


@pytest.fixture
def other_housing(db):
    return OrganizationFactory(name="Northside Housing Co-op", sector="housing")


def test_the_referral_page_shows_what_was_shared_and_speaks_from_the_senders_side(
    referral, dr_lee, intake_hal, client
):
    client.force_login(dr_lee)
    page = client.get(f"/referrals/{referral.pk}/").content.decode()
    assert "Housing, Social" in page
    assert "Referral sent to Harbour Supportive Housing" in page
    client.force_login(intake_hal)
    page = client.get(f"/referrals/{referral.pk}/").content.decode()
    assert "Referral received" in page
    assert "Referral sent to" not in page


def test_the_referrals_page_opens_on_the_side_the_user_works(referral, dr_lee, intake_hal, client):
    client.force_login(dr_lee)
    assert client.get("/referrals/").context["direction"] == "outgoing"
    client.force_login(intake_hal)
    assert client.get("/referrals/").context["direction"] == "incoming"
    assert client.get("/referrals/?direction=outgoing").context["direction"] == "outgoing"


def test_redirect_a_declined_referral_in_one_step(
    referral, dr_lee, intake_hal, other_housing, api_as
):
    services.decline_referral(provider=intake_hal, referral=referral, reason="No beds.")
    response = api_as(dr_lee).post(
        f"/api/v1/referrals/{referral.pk}/redirect/",
        {"to_organization": other_housing.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    new = response.json()
    assert new["status"] == "sent"
    assert new["reason"] == referral.reason
    assert new["redirected_from"] == str(referral.pk)
    assert sorted(new["shared_categories"]) == ["housing", "social"]
    assert new["to_organization"] == other_housing.pk
    old = api_as(dr_lee).get(f"/api/v1/referrals/{referral.pk}/").json()
    assert old["redirected_to"] == new["id"]
    # Once only; the declining organization cannot; an open referral cannot.
    again = api_as(dr_lee).post(
        f"/api/v1/referrals/{referral.pk}/redirect/",
        {"to_organization": other_housing.pk},
        format="json",
    )
    assert again.status_code == 409
    assert (
        api_as(intake_hal)
        .post(
            f"/api/v1/referrals/{referral.pk}/redirect/",
            {"to_organization": other_housing.pk},
            format="json",
        )
        .status_code
        == 403
    )
    open_one = api_as(dr_lee).post(
        f"/api/v1/referrals/{new['id']}/redirect/",
        {"to_organization": referral.to_organization_id},
        format="json",
    )
    assert open_one.status_code == 409
    assert Referral.objects.count() == 2


def test_redirect_from_the_page(referral, dr_lee, intake_hal, other_housing, client):
    services.decline_referral(provider=intake_hal, referral=referral, reason="No beds.")
    client.force_login(dr_lee)
    page = client.get(f"/referrals/{referral.pk}/").content.decode()
    assert "Redirect the referral" in page
    response = client.post(
        f"/referrals/{referral.pk}/redirect/", {"redirect-to_organization": other_housing.pk}
    )
    assert response.status_code == 302
    new = Referral.objects.get(redirected_from=referral)
    assert response.url == f"/referrals/{new.pk}/"


def test_completing_before_the_appointment_asks_for_confirmation(referral, intake_hal, client):
    services.accept_referral(provider=intake_hal, referral=referral)
    services.schedule_referral(
        provider=intake_hal, referral=referral, appointment_at=timezone.now() + timedelta(days=5)
    )
    client.force_login(intake_hal)
    report = {
        "complete-title": "Intake done",
        "complete-category": "housing",
        "complete-body": "Placed on the list.",
    }
    response = client.post(f"/referrals/{referral.pk}/complete/", report)
    assert response.status_code == 400
    assert "The appointment is still ahead" in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == "scheduled"
    response = client.post(
        f"/referrals/{referral.pk}/complete/", {**report, "complete-before_appointment": "on"}
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == "completed"


def test_waits_say_what_they_measure(referral, intake_hal):
    now = timezone.now()
    referral.created_at = now - timedelta(days=3, hours=1)
    assert wait_text(referral, now) == "waiting 3 days so far"
    referral.appointment_at = now + timedelta(days=5, hours=1)
    assert wait_text(referral, now) == "appointment in 5 days"
    referral.appointment_at = now - timedelta(days=1)
    assert wait_text(referral, now) == "waited 2 days"
    referral.status, referral.appointment_at = "declined", None
    referral.declined_at = now - timedelta(days=2)
    assert wait_text(referral, now) == "declined after 1 day"


def test_an_intake_worker_of_a_team_without_the_redirect_sees_no_form(referral, intake_hal, client):
    client.force_login(intake_hal)
    assert "Redirect the referral" not in client.get(f"/referrals/{referral.pk}/").content.decode()


def test_redirected_referral_keeps_the_reason_within_limits(
    referral, dr_lee, intake_hal, other_housing
):
    services.decline_referral(provider=intake_hal, referral=referral, reason="Full.")
    new = services.redirect_referral(
        provider=dr_lee, referral=referral, to_organization=other_housing, note="Urgent now."
    )
    assert new.reason.endswith("Urgent now.")
    assert new.consent_directive.categories == ["housing", "social"]


def test_redirect_a_declined_referral_to_another_service(
    referral, dr_lee, intake_hal, other_housing, api_as
):
    """The one step can name a service: its organization follows, its waits count it,
    and a closed one is refused (409) with nothing made."""
    from records.models import Service

    services.decline_referral(provider=intake_hal, referral=referral, reason="No beds.")
    closed = Service.objects.create(
        organization=other_housing, name="Family units", accepting_referrals=False
    )
    url = f"/api/v1/referrals/{referral.pk}/redirect/"
    refused = api_as(dr_lee).post(url, {"service": str(closed.pk)}, format="json")
    assert refused.status_code == 409
    assert Referral.objects.count() == 1
    rooms = Service.objects.create(organization=other_housing, name="Rooms")
    response = api_as(dr_lee).post(url, {"service": str(rooms.pk)}, format="json")
    assert response.status_code == 201, response.content
    new = response.json()
    assert new["service"] == {"id": str(rooms.pk), "name": "Rooms"}
    assert new["to_organization"] == other_housing.pk
    assert new["redirected_from"] == str(referral.pk)


def test_a_service_of_the_declining_organization_is_no_way_around_the_decline(
    referral, dr_lee, intake_hal, api_as
):
    from records.models import Service

    services.decline_referral(provider=intake_hal, referral=referral, reason="No beds.")
    beds = Service.objects.create(organization=referral.to_organization, name="Beds")
    response = api_as(dr_lee).post(
        f"/api/v1/referrals/{referral.pk}/redirect/", {"service": str(beds.pk)}, format="json"
    )
    assert response.status_code == 400 and "service" in response.json()
    assert not Referral.objects.filter(redirected_from=referral).exists()
