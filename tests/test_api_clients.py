"""Clients (registration, matching at intake, search, detail) and care teams."""

import pytest
from guardian.shortcuts import get_groups_with_perms

from core.models import AccessEvent
from records.models import CareTeamMembership, Client
from tests.factories import ClientFactory, ProviderFactory

CLIENTS = "/api/v1/clients/"


def new_client_payload(**extra) -> dict:
    return {
        "given_name": "Marcus",
        "family_name": "Reid",
        "birth_date": "1984-03-09",
        "health_card_number": "9876-543-210",
        "phone": "555-0100",
        "email": "marcus@example.org",
        **extra,
    }


def test_register_client(dr_lee, api_as):
    response = api_as(dr_lee).post(CLIENTS, new_client_payload(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    for field in (
        "id",
        "given_name",
        "family_name",
        "birth_date",
        "health_card_number",
        "phone",
        "email",
        "created_at",
    ):
        assert field in body
    assert body["birth_date"] == "1984-03-09"
    assert body.get("matched") is False
    client = Client.objects.get(pk=body["id"])
    assert CareTeamMembership.objects.filter(
        client=client, provider=dr_lee, ended_at__isnull=True
    ).exists()
    assert AccessEvent.objects.filter(client=client, actor=dr_lee, action="client.create").exists()
    assert api_as(dr_lee).get(f"{CLIENTS}{client.pk}/").status_code == 200


@pytest.mark.parametrize(
    ("card", "family_name"),
    [
        ("1234-567-890", "Silva"),
        ("1234 567 890", "SILVA"),
        ("1234567890", "silva"),
        (" 1234-567 890 ", " Silva "),
    ],
)
def test_matching_links_to_the_existing_record(card, family_name, ana, outsider, api_as):
    before = Client.objects.count()
    payload = new_client_payload(
        given_name="Ana", family_name=family_name, health_card_number=card, birth_date="1990-05-17"
    )
    response = api_as(outsider).post(CLIENTS, payload, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["matched"] is True
    assert response.json()["id"] == str(ana.pk)
    assert Client.objects.count() == before
    assert CareTeamMembership.objects.filter(client=ana, provider=outsider).exists()
    assert AccessEvent.objects.filter(
        client=ana, actor=outsider, action="joined_by_matching"
    ).exists()
    assert api_as(outsider).get(f"{CLIENTS}{ana.pk}/").status_code == 200


@pytest.mark.parametrize(
    "extra",
    [
        {"birth_date": "1990-05-18"},
        {"family_name": "Silvas"},
        {"health_card_number": "1234-567-891"},
        {"health_card_number": ""},
    ],
)
def test_a_health_card_alone_does_not_match(extra, ana, outsider, api_as):
    payload = new_client_payload(
        given_name="Ana",
        family_name="Silva",
        health_card_number="1234-567-890",
        birth_date="1990-05-17",
        **{},
    )
    payload.update(extra)
    before = Client.objects.count()
    response = api_as(outsider).post(CLIENTS, payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["matched"] is False
    assert response.json()["id"] != str(ana.pk)
    assert Client.objects.count() == before + 1
    assert api_as(outsider).get(f"{CLIENTS}{ana.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"given_name": "g" * 101}, "given_name"),
        ({"family_name": "f" * 101}, "family_name"),
        ({"family_name": "   "}, "family_name"),
        ({"given_name": None}, "given_name"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"birth_date": "17/05/1990"}, "birth_date"),
        ({"email": "not-an-email"}, "email"),
        ({"health_card_number": "----"}, "health_card_number"),
        ({"health_card_number": "1" * 33}, "health_card_number"),
    ],
)
def test_bad_clients_are_400(extra, field, dr_lee, api_as):
    before = (Client.objects.count(), AccessEvent.objects.count())
    response = api_as(dr_lee).post(CLIENTS, new_client_payload(**extra), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert (Client.objects.count(), AccessEvent.objects.count()) == before


def test_missing_client_fields_are_named(dr_lee, api_as):
    response = api_as(dr_lee).post(CLIENTS, {}, format="json")
    assert response.status_code == 400
    assert {"given_name", "family_name", "birth_date"} <= set(response.json())
    assert not Client.objects.exists()


def test_system_admin_cannot_register_clients(sysadmin, api_as):
    response = api_as(sysadmin).post(CLIENTS, new_client_payload(), format="json")
    assert response.status_code == 403
    assert not Client.objects.exists()


def test_list_and_search_cover_care_team_clients_only(ana, dr_lee, outsider, sysadmin, api_as):
    leo = ClientFactory(given_name="Leo", family_name="Novak", registered_by=dr_lee)
    ClientFactory(given_name="Ana", family_name="Silvano", registered_by=outsider)
    lee = api_as(dr_lee)

    page = lee.get(CLIENTS).json()
    assert page["count"] == 2
    assert {c["id"] for c in page["results"]} == {str(ana.pk), str(leo.pk)}
    assert [c["id"] for c in lee.get(CLIENTS, {"q": "silv"}).json()["results"]] == [str(ana.pk)]
    assert [c["id"] for c in lee.get(CLIENTS, {"q": "ana silva"}).json()["results"]] == [
        str(ana.pk)
    ]
    # Health card search ignores the dashes and spaces.
    for text in ("1234567890", "1234 567", "567-890"):
        assert [c["id"] for c in lee.get(CLIENTS, {"q": text}).json()["results"]] == [str(ana.pk)]
    assert lee.get(CLIENTS, {"q": "nobody"}).json()["count"] == 0
    # The outsider's own client is theirs alone; superusers see none.
    assert [c["given_name"] for c in api_as(outsider).get(CLIENTS).json()["results"]] == ["Ana"]
    assert api_as(outsider).get(CLIENTS, {"q": "Silva"}).json()["count"] == 1
    assert api_as(sysadmin).get(CLIENTS).json()["count"] == 0


def test_client_detail(ana, emp_jo, api_as):
    response = api_as(emp_jo).get(f"{CLIENTS}{ana.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["given_name"] == "Ana"
    assert body["family_name"] == "Silva"
    assert body["health_card_number"] == "1234-567-890"
    assert body["birth_date"] == "1990-05-17"
    assert AccessEvent.objects.filter(client=ana, actor=emp_jo, action="client.read").exists()


# --- care team ----------------------------------------------------------------------------


def care_team_url(client) -> str:
    return f"{CLIENTS}{client.pk}/care-team/"


def test_care_team_lists_active_members(ana, dr_lee, intake_kim, emp_jo, api_as):
    response = api_as(emp_jo).get(care_team_url(ana))
    assert response.status_code == 200
    members = response.json()
    members = members["results"] if isinstance(members, dict) else members
    assert [m["provider"]["id"] for m in members] == [dr_lee.pk, intake_kim.pk, emp_jo.pk]
    first = members[0]
    assert first["provider"] == {
        "id": dr_lee.pk,
        "full_name": "Dr. Daniel Lee",
        "role": "clinician",
    }
    assert first["organization"] == {
        "id": dr_lee.organization_id,
        "name": "Riverside Family Practice",
        "sector": "primary_care",
    }
    assert first["since"]


def test_add_a_colleague_of_own_organization(ana, dr_lee, family_practice, api_as):
    colleague = ProviderFactory(organization=family_practice, role="care_coordinator")
    response = api_as(dr_lee).post(care_team_url(ana), {"provider": colleague.pk}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["provider"]["id"] == colleague.pk
    assert AccessEvent.objects.filter(client=ana, actor=dr_lee, action="care_team.add").exists()
    # Already on the team: a second add is a conflict, and changes nothing.
    before = CareTeamMembership.objects.count()
    response = api_as(dr_lee).post(care_team_url(ana), {"provider": colleague.pk}, format="json")
    assert response.status_code == 409
    assert CareTeamMembership.objects.count() == before


def test_adding_another_organizations_provider_is_403(ana, dr_lee, outsider, api_as):
    response = api_as(dr_lee).post(care_team_url(ana), {"provider": outsider.pk}, format="json")
    assert response.status_code == 403
    assert not CareTeamMembership.objects.filter(provider=outsider).exists()
    assert api_as(outsider).get(f"{CLIENTS}{ana.pk}/").status_code == 404


@pytest.mark.parametrize("value", [None, "", "abc", 999999, [1]])
def test_bad_care_team_additions_are_400(value, ana, dr_lee, api_as):
    before = CareTeamMembership.objects.count()
    response = api_as(dr_lee).post(care_team_url(ana), {"provider": value}, format="json")
    assert response.status_code == 400
    assert "provider" in response.json()
    assert CareTeamMembership.objects.count() == before


def test_inactive_or_superuser_providers_cannot_be_added(
    ana, dr_lee, family_practice, sysadmin, api_as
):
    gone = ProviderFactory(organization=family_practice)
    gone.is_active = False
    gone.save()
    assert api_as(dr_lee).post(care_team_url(ana), {"provider": gone.pk}).status_code == 400
    assert api_as(dr_lee).post(care_team_url(ana), {"provider": sysadmin.pk}).status_code == 403


def test_last_provider_leaving_ends_organization_access(ana, emp_jo, employment_service, api_as):
    jo = api_as(emp_jo)
    response = jo.delete(f"{care_team_url(ana)}{emp_jo.pk}/")
    assert response.status_code == 204
    membership = CareTeamMembership.objects.get(client=ana, provider=emp_jo)
    assert membership.ended_at is not None  # kept in history
    assert jo.get(f"{CLIENTS}{ana.pk}/").status_code == 404
    assert str(ana.pk) not in {c["id"] for c in jo.get(CLIENTS).json()["results"]}
    assert employment_service.group not in get_groups_with_perms(ana)
    assert AccessEvent.objects.filter(client=ana, actor=emp_jo, action="care_team.remove").exists()
    # Rejoining (e.g. by matching) starts a new membership; history keeps the old one.
    response = jo.post(
        CLIENTS,
        {
            "given_name": "Ana",
            "family_name": "Silva",
            "birth_date": "1990-05-17",
            "health_card_number": "1234567890",
        },
        format="json",
    )
    assert response.status_code == 200
    assert CareTeamMembership.objects.filter(client=ana, provider=emp_jo).count() == 2
    assert jo.get(f"{CLIENTS}{ana.pk}/").status_code == 200


def test_organization_keeps_access_while_a_colleague_remains(ana, dr_lee, family_practice, api_as):
    colleague = ProviderFactory(organization=family_practice)
    from records.services import add_to_care_team

    add_to_care_team(ana, colleague)
    assert api_as(colleague).delete(f"{care_team_url(ana)}{dr_lee.pk}/").status_code == 204
    assert api_as(dr_lee).get(f"{CLIENTS}{ana.pk}/").status_code == 200
    assert family_practice.group in get_groups_with_perms(ana)


def test_removing_another_organizations_provider_is_403(ana, dr_lee, emp_jo, api_as):
    response = api_as(dr_lee).delete(f"{care_team_url(ana)}{emp_jo.pk}/")
    assert response.status_code == 403
    assert CareTeamMembership.objects.get(client=ana, provider=emp_jo).ended_at is None


def test_removing_someone_not_on_the_team_is_404(ana, dr_lee, outsider, family_practice, api_as):
    lee = api_as(dr_lee)
    stranger = ProviderFactory(organization=family_practice)
    for provider_id in (outsider.pk, stranger.pk, 999999, "abc"):
        assert lee.delete(f"{care_team_url(ana)}{provider_id}/").status_code == 404
    assert lee.delete(f"{care_team_url(ana)}{dr_lee.pk}/").status_code == 204
    # Leaving twice: the membership is no longer active, so there is nothing to remove.
    assert lee.delete(f"{care_team_url(ana)}{dr_lee.pk}/").status_code == 404


def test_provider_who_moved_organization_leaves_for_the_organization_they_joined_for(
    ana, emp_jo, employment_service, hospital, api_as
):
    """emp_jo joined Ana's case for the employment service, then moved to the
    hospital. When they leave, the employment service (whose last provider they
    were) loses access; the hospital never had it."""
    from records.services import sync_provider_group

    colleague = ProviderFactory(organization=employment_service)
    emp_jo.organization = hospital
    emp_jo.save()
    sync_provider_group(emp_jo)
    # Their old colleague may remove them: they are on the case for the employment service.
    response = api_as(colleague).delete(f"{care_team_url(ana)}{emp_jo.pk}/")
    assert response.status_code == 204
    assert employment_service.group not in get_groups_with_perms(ana)
    assert api_as(colleague).get(f"{CLIENTS}{ana.pk}/").status_code == 404
    assert api_as(emp_jo).get(f"{CLIENTS}{ana.pk}/").status_code == 404


def test_moved_provider_may_remove_themself(ana, emp_jo, employment_service, hospital, api_as):
    from records.services import sync_provider_group

    emp_jo.organization = hospital
    emp_jo.save()
    sync_provider_group(emp_jo)
    from records.services import leave_care_team

    # Through the service (the API would 404: the hospital does not see Ana).
    leave_care_team(actor=emp_jo, client=ana, provider=emp_jo)
    assert employment_service.group not in get_groups_with_perms(ana)
    assert hospital.group not in get_groups_with_perms(ana)
