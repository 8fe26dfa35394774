"""Minimum necessary: organization admins and privacy officers run organizations
and watch over privacy; they do not treat, so they never read entries — on any
path — and no path puts them on a care team (docs/access-rules.md, "Roles that
do not read the record").

The consent engine itself shows them nothing, so a page, a preview or an export
that forgets to ask the role still cannot leak; the faces answer 403 on top.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from consent.models import EmergencyAccess
from consent.selectors import visible_entries, visible_entries_anywhere, withheld_count
from core import events
from records import services as record_services
from records.models import CareTeamMembership, Client
from referrals import services as referral_services
from tests.factories import ClientFactory, ProviderFactory

OWN_ORG_TITLE = "Intake note written at the centre"


@pytest.fixture
def admin_mh(mh_centre):
    """The mental-health centre's organization admin (a care-team organization of Ana)."""
    return ProviderFactory(username="admin_mh", organization=mh_centre, role="org_admin")


@pytest.fixture
def centre_entry(ana, intake_kim):
    """An entry of the privacy officer's own organization: rule 2 alone would show it."""
    return record_services.add_entry(
        provider=intake_kim,
        client=ana,
        category="mental_health",
        kind="note",
        title=OWN_ORG_TITLE,
        body="Seen for intake; history taken from the shared record.",
    )


NON_READERS = ["privacy_pat", "admin_mh"]


@pytest.fixture
def non_reader(request, privacy_pat, admin_mh):
    return {"privacy_pat": privacy_pat, "admin_mh": admin_mh}[request.param]


# --- the engine ----------------------------------------------------------------------------


@pytest.mark.parametrize("non_reader", NON_READERS, indirect=True)
def test_engine_shows_them_no_entry_not_even_their_own_organizations(
    non_reader, ana, centre_entry, intake_kim
):
    assert not visible_entries(non_reader, ana).exists()
    assert not visible_entries_anywhere(non_reader).exists()
    assert withheld_count(non_reader, ana) == ana.entries.count()
    # Their organization's access through its clinicians is unchanged.
    assert centre_entry in visible_entries(intake_kim, ana)


@pytest.mark.parametrize("non_reader", NON_READERS, indirect=True)
def test_an_emergency_access_row_lifts_nothing_for_them(non_reader, ana, centre_entry, dr_lee):
    """Even a grant that got into the database some other way (an old row, the admin)."""
    record_services.add_entry(
        provider=dr_lee, client=ana, category="medications", kind="note", title="Sertraline"
    )
    now = timezone.now()
    EmergencyAccess.objects.create(
        client=ana,
        provider=non_reader,
        organization=non_reader.organization,
        reason="A grant made before the rule existed.",
        granted_at=now - timedelta(minutes=5),
        expires_at=now + timedelta(hours=4),
    )
    assert not visible_entries(non_reader, ana).exists()


# --- the API -------------------------------------------------------------------------------


@pytest.mark.parametrize("non_reader", NON_READERS, indirect=True)
def test_entry_endpoints_are_403(non_reader, ana, centre_entry, api_as):
    api = api_as(non_reader)
    base = f"/api/v1/clients/{ana.pk}/entries/"
    listed = api.get(base)
    assert listed.status_code == 403
    assert OWN_ORG_TITLE not in listed.content.decode()
    detail = api.get(f"{base}{centre_entry.pk}/")
    assert detail.status_code == 403
    assert OWN_ORG_TITLE not in detail.content.decode()
    written = api.post(
        base, {"category": "housing", "kind": "note", "title": "A note"}, format="json"
    )
    assert written.status_code == 403
    assert ana.entries.count() == 1


@pytest.mark.parametrize("non_reader", NON_READERS, indirect=True)
def test_off_the_care_team_is_still_404_before_403(non_reader, api_as, dr_lee):
    """Rule 1 first: a client their organization does not serve does not exist."""
    stranger = ClientFactory(registered_by=ProviderFactory())
    response = api_as(non_reader).get(f"/api/v1/clients/{stranger.pk}/entries/")
    assert response.status_code == 404


@pytest.mark.parametrize("non_reader", NON_READERS, indirect=True)
def test_no_emergency_access(non_reader, ana, api_as):
    response = api_as(non_reader).post(
        f"/api/v1/clients/{ana.pk}/emergency-access/",
        {"reason": "I need to see everything in this record right now."},
        format="json",
    )
    assert response.status_code == 403, response.content
    assert not EmergencyAccess.objects.exists()
    # 403 before 400: even without a reason the answer is the role's.
    response = api_as(non_reader).post(
        f"/api/v1/clients/{ana.pk}/emergency-access/", {}, format="json"
    )
    assert response.status_code == 403


@pytest.mark.parametrize("non_reader", NON_READERS, indirect=True)
def test_cannot_be_added_to_a_care_team(non_reader, ana, intake_kim, api_as):
    response = api_as(intake_kim).post(
        f"/api/v1/clients/{ana.pk}/care-team/", {"provider": non_reader.pk}, format="json"
    )
    assert response.status_code == 400
    assert "provider" in response.json()
    assert not CareTeamMembership.objects.filter(provider=non_reader).exists()
    # Nor by any service: no path puts them on a care team.
    with pytest.raises(record_services.InvalidInput) as error:
        record_services.add_to_care_team(ana, non_reader)
    assert "provider" in error.value.fields


@pytest.mark.parametrize("non_reader", NON_READERS, indirect=True)
def test_cannot_create_or_match_clients(non_reader, ana, api_as):
    api = api_as(non_reader)
    before = Client.objects.count()
    new = api.post(
        "/api/v1/clients/",
        {"given_name": "Nora", "family_name": "Quinn", "birth_date": "1980-01-01"},
        format="json",
    )
    assert new.status_code == 403
    match = api.post(
        "/api/v1/clients/",
        {
            "given_name": "Ana",
            "family_name": ana.family_name,
            "birth_date": ana.birth_date.isoformat(),
            "health_card_number": ana.health_card_number,
        },
        format="json",
    )
    assert match.status_code == 403
    assert Client.objects.count() == before
    assert not CareTeamMembership.objects.filter(provider=non_reader).exists()


def test_an_org_admin_cannot_accept_a_referral(ana, dr_lee, housing, api_as):
    admin_housing = ProviderFactory(organization=housing, role="org_admin")
    referral = referral_services.refer_client(
        provider=dr_lee,
        client=ana,
        to_organization=housing,
        reason="Needs supported housing.",
        urgency="routine",
    )
    response = api_as(admin_housing).post(f"/api/v1/referrals/{referral.pk}/accept/")
    assert response.status_code == 403
    referral.refresh_from_db()
    assert referral.status == "sent"
    assert not CareTeamMembership.objects.filter(provider=admin_housing).exists()
    # They still see their organization's referrals.
    assert api_as(admin_housing).get(f"/api/v1/referrals/{referral.pk}/").status_code == 200


@pytest.mark.parametrize("non_reader", NON_READERS, indirect=True)
def test_they_still_see_demographics_care_team_consents_and_referrals(
    non_reader, ana, dr_lee, mh_centre, api_as
):
    api = api_as(non_reader)
    assert api.get(f"/api/v1/clients/{ana.pk}/").json()["given_name"] == "Ana"
    assert api.get(f"/api/v1/clients/{ana.pk}/care-team/").status_code == 200
    assert api.get(f"/api/v1/clients/{ana.pk}/consents/").status_code == 200
    referral = referral_services.refer_client(
        provider=dr_lee, client=ana, to_organization=mh_centre, reason="CBT.", urgency="routine"
    )
    listed = api.get("/api/v1/referrals/?direction=incoming").json()["results"]
    assert [r["id"] for r in listed] == [str(referral.pk)]
    access_log = api.get(f"/api/v1/clients/{ana.pk}/access-log/")
    assert access_log.status_code == (200 if non_reader.role == "privacy_officer" else 403)


# --- previews and pages --------------------------------------------------------------------


def test_inbox_preview_never_shows_them_a_title(ana, privacy_pat, intake_kim, api_as):
    """A membership from before the rule (a row no service makes now) still gets
    `entry_added`; what the preview says is the engine's, and it says withheld."""
    CareTeamMembership.objects.create(
        client=ana, provider=privacy_pat, organization=privacy_pat.organization
    )
    entry = record_services.add_entry(
        provider=intake_kim, client=ana, category="mental_health", kind="note", title=OWN_ORG_TITLE
    )
    events.deliver(_event_of(entry))
    inbox = api_as(privacy_pat).get("/api/v1/inbox/").json()["results"]
    assert [n["kind"] for n in inbox] == ["entry_added"]
    assert OWN_ORG_TITLE not in inbox[0]["preview"]
    assert events.WITHHELD in inbox[0]["preview"]


def _event_of(entry):
    from core.models import OutboxEvent

    return OutboxEvent.objects.get(entry=entry).pk


@pytest.mark.parametrize("non_reader", NON_READERS, indirect=True)
def test_client_page_shows_them_no_entry(non_reader, ana, centre_entry, client):
    client.force_login(non_reader)
    response = client.get(f"/clients/{ana.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ana" in html
    assert OWN_ORG_TITLE not in html
    assert "Break the glass" not in html
    assert "Add an entry" not in html
    assert "do not read the record" in html
    # Nor through the emergency page or the intake form.
    assert (
        client.post(f"/clients/{ana.pk}/emergency-access/", {"reason": "x" * 40}).status_code == 403
    )
    assert client.get("/clients/new/").status_code == 403


def test_assessments_and_the_registry_are_403_for_roles_that_do_not_read(ana, privacy_pat, api_as):
    """The measures app asks the same rule (core.permissions.may_read_entries)."""
    api = api_as(privacy_pat)
    url = f"/api/v1/clients/{ana.pk}/assessments/"
    assert api.get(url).status_code == 403
    assert (
        api.post(url, {"instrument": "phq9", "answers": [0] * 9}, format="json").status_code == 403
    )
    assert api.get("/api/v1/registry/?instrument=phq9").status_code == 403
