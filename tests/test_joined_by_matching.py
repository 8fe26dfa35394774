"""Joining a care team by matching at intake is legitimate and watched: the
privacy officers of the organizations already on the team hear of it
(`care_team_joined`, no record content), the access log says
`joined_by_matching`, and the care team shows how the membership began."""

import pytest
from django.utils import dateformat, timezone

from core.events import deliver
from core.models import AccessEvent, Notification, OutboxEvent
from records.models import CareTeamMembership
from tests.factories import ProviderFactory

ENTRY_TITLE = "Sertraline 50 mg daily"


@pytest.fixture
def watchers(ana, dr_lee, privacy_pat, hospital_privacy, employment_service, family_practice):
    """Privacy officers of the team's organizations (the centre, the employment
    service, the practice) and of the hospital that is about to join."""
    from records import services

    services.add_entry(
        provider=dr_lee,
        client=ana,
        category="medications",
        kind="medication",
        title=ENTRY_TITLE,
        body="Review in four weeks.",
    )
    return {
        "centre": privacy_pat,
        "employment": ProviderFactory(organization=employment_service, role="privacy_officer"),
        "practice": ProviderFactory(organization=family_practice, role="privacy_officer"),
        "hospital": hospital_privacy,
    }


def match(api, client, provider):
    return api(provider).post(
        "/api/v1/clients/",
        {
            "given_name": client.given_name,
            "family_name": client.family_name.upper(),
            "birth_date": client.birth_date.isoformat(),
            "health_card_number": client.health_card_number,
        },
        format="json",
    )


def deliver_all() -> None:
    for event_id in OutboxEvent.objects.filter(delivered_at__isnull=True).values_list(
        "pk", flat=True
    ):
        deliver(event_id)


def test_matching_tells_the_other_organizations_privacy_officers(ana, outsider, watchers, api_as):
    response = match(api_as, ana, outsider)
    assert response.status_code == 200 and response.json()["matched"] is True
    events = OutboxEvent.objects.filter(kind="care_team_joined")
    assert events.count() == 1
    deliver_all()
    notified = set(
        Notification.objects.filter(kind="care_team_joined").values_list("recipient", flat=True)
    )
    # Every privacy officer of the organizations already on the team; not the
    # joining organization's own, not the clinicians.
    assert notified == {
        watchers["centre"].pk,
        watchers["employment"].pk,
        watchers["practice"].pk,
    }
    inbox = api_as(watchers["centre"]).get("/api/v1/inbox/").json()["results"]
    assert [n["kind"] for n in inbox] == ["care_team_joined"]
    item = inbox[0]
    assert item["client"]["id"] == str(ana.pk)
    assert "General Hospital" in item["preview"]
    assert "matching" in item["preview"]
    assert ENTRY_TITLE not in item["preview"]
    assert item["entry"] is None


def test_the_access_log_says_joined_by_matching(ana, outsider, watchers, api_as):
    match(api_as, ana, outsider)
    actions = list(
        AccessEvent.objects.filter(client=ana, actor=outsider).values_list("action", flat=True)
    )
    assert actions == ["joined_by_matching"]
    log = api_as(watchers["centre"]).get(f"/api/v1/clients/{ana.pk}/access-log/").json()
    assert "joined_by_matching" in [row["action"] for row in log["results"]]


def test_a_match_by_a_provider_already_on_the_team_raises_nothing(
    ana, intake_kim, watchers, api_as
):
    assert match(api_as, ana, intake_kim).json()["matched"] is True
    assert not OutboxEvent.objects.filter(kind="care_team_joined").exists()
    assert not AccessEvent.objects.filter(action="joined_by_matching").exists()


def test_a_colleague_of_a_team_organization_joining_is_watched_by_the_others(
    ana, mh_centre, watchers, api_as
):
    """The provider is new to the case even if their organization is not: the
    other organizations' privacy officers hear of it, their own does not."""
    colleague = ProviderFactory(organization=mh_centre, role="clinician")
    match(api_as, ana, colleague)
    deliver_all()
    notified = set(
        Notification.objects.filter(kind="care_team_joined").values_list("recipient", flat=True)
    )
    assert notified == {watchers["employment"].pk, watchers["practice"].pk}


def test_the_care_team_shows_how_each_membership_began(ana, outsider, watchers, api_as, client):
    match(api_as, ana, outsider)
    membership = CareTeamMembership.objects.get(client=ana, provider=outsider)
    assert membership.began == "matching"
    assert CareTeamMembership.objects.get(client=ana, provider=ana.created_by).began == "intake"
    client.force_login(outsider)
    html = client.get(f"/clients/{ana.pk}/").content.decode()
    day = dateformat.format(timezone.localtime(membership.since), "j M")
    assert f"joined at intake by matching, {day}" in html
