"""The daily-work additions of the API: search by birth date, editing a client's
demographics (PATCH, audited, matching kept consistent), an `occurred_at` in the
future refused, amending and retracting entries, and deactivating a provider."""

import datetime

import pytest
from django.utils import timezone

from core.models import AccessEvent
from records import services as record_services
from records.models import Client, Entry
from tests.factories import ClientFactory, ProviderFactory

# --- search by birth date --------------------------------------------------------------------


def test_search_by_birth_date(ana, dr_lee, api_as):
    other = ClientFactory(
        given_name="Ana",
        family_name="Other",
        birth_date=datetime.date(1971, 1, 2),
        registered_by=dr_lee,
    )
    found = api_as(dr_lee).get(f"/api/v1/clients/?q={ana.birth_date.isoformat()}").json()
    assert [c["id"] for c in found["results"]] == [str(ana.pk)]
    both = api_as(dr_lee).get("/api/v1/clients/?q=Ana 1971-01-02").json()
    assert [c["id"] for c in both["results"]] == [str(other.pk)]
    # Not a date: no match by birth date, and no error.
    none = api_as(dr_lee).get("/api/v1/clients/?q=1971-13-45").json()
    assert none["count"] == 0


def test_search_by_birth_date_stays_within_the_care_teams(ana, outsider, api_as):
    found = api_as(outsider).get(f"/api/v1/clients/?q={ana.birth_date.isoformat()}").json()
    assert found["count"] == 0


# --- demographics ----------------------------------------------------------------------------


def test_patch_demographics(ana, intake_kim, api_as):
    response = api_as(intake_kim).patch(
        f"/api/v1/clients/{ana.pk}/",
        {"phone": "416-555-0100", "email": "ana@example.org", "health_card_number": "99 88-77"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "416-555-0100"
    ana.refresh_from_db()
    assert (ana.phone, ana.email, ana.health_card_normalized) == (
        "416-555-0100",
        "ana@example.org",
        "998877",
    )
    assert AccessEvent.objects.filter(client=ana, actor=intake_kim, action="client.update").exists()
    # Matching follows the edit: the new card links at intake, the old does not.
    assert (
        record_services.find_matching_client(
            family_name="silva", birth_date=ana.birth_date, health_card_number="998877"
        )
        == ana
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"birth_date": "1899-12-31"}, "birth_date"),
        ({"given_name": "  "}, "given_name"),
        ({"email": "not-an-email"}, "email"),
        ({"health_card_number": "---"}, "health_card_number"),
        ({"family_name": "x" * 101}, "family_name"),
    ],
)
def test_bad_demographics_are_400_and_change_nothing(body, field, ana, dr_lee, api_as):
    before = Client.objects.filter(pk=ana.pk).values().get()
    response = api_as(dr_lee).patch(f"/api/v1/clients/{ana.pk}/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Client.objects.filter(pk=ana.pk).values().get() == before


def test_an_edit_that_would_duplicate_another_record_is_refused(ana, dr_lee, api_as):
    twin = ClientFactory(
        given_name="Ana",
        family_name="Silva",
        birth_date=datetime.date(1990, 5, 17),
        health_card_number="555-444",
        registered_by=dr_lee,
    )
    response = api_as(dr_lee).patch(
        f"/api/v1/clients/{twin.pk}/",
        {"health_card_number": ana.health_card_number},
        format="json",
    )
    assert response.status_code == 400
    assert "health_card_number" in response.json()


def test_patch_off_the_care_team_is_404(ana, outsider, api_as):
    response = api_as(outsider).patch(f"/api/v1/clients/{ana.pk}/", {"phone": "1"}, format="json")
    assert response.status_code == 404


# --- entries: occurred_at, amend, retract ------------------------------------------------------


def test_occurred_at_in_the_future_is_400(ana, dr_lee, api_as):
    future = (timezone.now() + datetime.timedelta(hours=2)).isoformat()
    response = api_as(dr_lee).post(
        f"/api/v1/clients/{ana.pk}/entries/",
        {"category": "housing", "kind": "note", "title": "Visit", "occurred_at": future},
        format="json",
    )
    assert response.status_code == 400
    assert "occurred_at" in response.json()
    assert not Entry.objects.exists()
    past = api_as(dr_lee).post(
        f"/api/v1/clients/{ana.pk}/entries/",
        {
            "category": "housing",
            "kind": "note",
            "title": "Visit",
            "occurred_at": "1900-01-01T00:00:00Z",
        },
        format="json",
    )
    assert past.status_code == 201


def test_amend_keeps_the_original_and_shows_it_as_amended(ana, dr_lee, note, api_as):
    api = api_as(dr_lee)
    response = api.post(
        f"/api/v1/clients/{ana.pk}/entries/{note.pk}/amend/",
        {"title": "PHQ-9 of 15", "body": "Low mood; score corrected.", "reason": "Typo in score"},
        format="json",
    )
    assert response.status_code == 201, response.content
    amended = response.json()
    assert amended["amends"] == str(note.pk)
    listed = api.get(f"/api/v1/clients/{ana.pk}/entries/").json()
    assert [e["title"] for e in listed["results"]] == ["PHQ-9 of 15"]
    original = api.get(f"/api/v1/clients/{ana.pk}/entries/{note.pk}/").json()
    assert original["title"] == "PHQ-9 of 17"
    assert original["amended_by"] == amended["id"]
    assert AccessEvent.objects.filter(action="entry.amend", client=ana).count() == 1
    # An amended version is not amended again: the newest is.
    again = api.post(
        f"/api/v1/clients/{ana.pk}/entries/{note.pk}/amend/", {"title": "x"}, format="json"
    )
    assert again.status_code == 409
    assert "amend the newest version instead" in again.content.decode()


def test_only_the_authoring_organization_amends_or_retracts(
    ana, intake_kim, note, centre_reads_mental_health, api_as
):
    api = api_as(intake_kim)
    base = f"/api/v1/clients/{ana.pk}/entries/{note.pk}"
    assert api.post(f"{base}/amend/", {"title": "x"}, format="json").status_code == 403
    assert api.post(f"{base}/retract/", {"reason": "wrong"}, format="json").status_code == 403


def test_an_entry_hidden_by_consent_cannot_be_amended_it_does_not_exist(ana, emp_jo, note, api_as):
    response = api_as(emp_jo).post(
        f"/api/v1/clients/{ana.pk}/entries/{note.pk}/amend/", {"title": "x"}, format="json"
    )
    assert response.status_code == 404


def test_retract_leaves_a_tombstone_for_those_who_could_see_it(ana, dr_lee, emp_jo, note, api_as):
    api = api_as(dr_lee)
    response = api.post(
        f"/api/v1/clients/{ana.pk}/entries/{note.pk}/retract/",
        {"reason": "Written in the wrong record."},
        format="json",
    )
    assert response.status_code == 200, response.content
    listed = api.get(f"/api/v1/clients/{ana.pk}/entries/").json()["results"]
    assert len(listed) == 1
    tombstone = listed[0]
    assert tombstone["retracted"]["reason"] == "Written in the wrong record."
    assert tombstone["title"] == "" and tombstone["body"] == ""
    assert Entry.objects.get(pk=note.pk).title == "PHQ-9 of 17"  # kept, never deleted
    # Those who could not see it see no tombstone either: it stays withheld.
    theirs = api_as(emp_jo).get(f"/api/v1/clients/{ana.pk}/entries/").json()
    assert theirs["results"] == [] and theirs["withheld_count"] == 1
    assert (
        api.post(
            f"/api/v1/clients/{ana.pk}/entries/{note.pk}/retract/",
            {"reason": "again"},
            format="json",
        ).status_code
        == 409
    )
    assert AccessEvent.objects.filter(action="entry.retract", client=ana).count() == 1


def test_withheld_count_counts_an_amended_entry_once(ana, dr_lee, emp_jo, note, api_as):
    record_services.amend_entry(provider=dr_lee, entry=note, title="PHQ-9 of 15")
    theirs = api_as(emp_jo).get(f"/api/v1/clients/{ana.pk}/entries/").json()
    assert theirs["withheld_count"] == 1


# --- staff ------------------------------------------------------------------------------------


def test_deactivated_provider_loses_token_and_session_at_once(dr_lee, ana, client):
    from rest_framework.test import APIClient

    token = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "dr_lee", "password": "correct horse battery staple"},
        format="json",
    )
    api = APIClient(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    assert api.get("/api/v1/me/").status_code == 200
    client.force_login(dr_lee)
    assert client.get("/").status_code == 200
    admin = ProviderFactory(organization=dr_lee.organization, role="org_admin")
    record_services.deactivate_provider(actor=admin, provider=dr_lee)
    assert api.get("/api/v1/me/").status_code == 401
    assert client.get("/").status_code == 302  # back to the sign-in page
    dr_lee.refresh_from_db()
    assert not dr_lee.is_active
    # Their name stays on what they wrote.
    assert Client.objects.get(pk=ana.pk).created_by.display_name == "Dr. Daniel Lee"


def test_the_entry_form_refuses_a_future_occurred_at(ana, dr_lee, client):
    client.force_login(dr_lee)
    future = timezone.localtime() + datetime.timedelta(days=1)
    response = client.post(
        f"/clients/{ana.pk}/entries/",
        {
            "category": "housing",
            "kind": "note",
            "title": "Visit",
            "occurred_at": future.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 400
    assert "This cannot be in the future." in response.content.decode()
    assert response.context["entry_form"].errors["occurred_at"]
    assert not Entry.objects.exists()
