"""The daily work in the web app (Django's test client; the browser walks are in
tests/browser/test_daily_work.py): the care team, demographics, staff, entries."""

import pytest

from core.models import AccessEvent
from records import services as record_services
from records.models import CareTeamMembership, Entry, Provider
from tests.factories import ProviderFactory


@pytest.fixture
def signed_in(client):
    def sign_in(provider):
        client.force_login(provider)
        return client

    return sign_in


def test_add_a_colleague_and_leave_with_the_history_kept(ana, dr_lee, family_practice, signed_in):
    colleague = ProviderFactory(full_name="Dr. Maya Colleague", organization=family_practice)
    admin = ProviderFactory(organization=family_practice, role="org_admin")
    web = signed_in(dr_lee)
    page = web.get(f"/clients/{ana.pk}/").content.decode()
    assert "Dr. Maya Colleague" in page  # offered
    assert f'value="{admin.pk}"' not in page  # an org admin is never offered
    response = web.post(f"/clients/{ana.pk}/care-team/", {"provider": colleague.pk})
    assert response.status_code == 302
    membership = CareTeamMembership.objects.get(client=ana, provider=colleague)
    assert membership.began == "colleague"
    response = web.post(f"/clients/{ana.pk}/care-team/{colleague.pk}/leave/")
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.ended_at is not None and membership.ended_by == dr_lee
    page = web.get(f"/clients/{ana.pk}/").content.decode()
    assert "Past members (1)" in page
    assert "removed by Dr. Daniel Lee" in page


def test_another_organizations_member_cannot_be_removed_from_the_page(
    ana, dr_lee, emp_jo, signed_in
):
    web = signed_in(dr_lee)
    assert web.post(f"/clients/{ana.pk}/care-team/{emp_jo.pk}/leave/").status_code == 403
    assert CareTeamMembership.objects.get(client=ana, provider=emp_jo).ended_at is None


def test_leaving_as_the_last_of_an_organization_goes_to_the_dashboard(ana, emp_jo, signed_in):
    web = signed_in(emp_jo)
    response = web.post(f"/clients/{ana.pk}/care-team/{emp_jo.pk}/leave/")
    assert response.status_code == 302 and response.url == "/"
    assert web.get(f"/clients/{ana.pk}/").status_code == 404


def test_edit_demographics_in_the_page(ana, intake_kim, signed_in):
    web = signed_in(intake_kim)
    fields = {
        "demographics-given_name": "Ana",
        "demographics-family_name": "Silva",
        "demographics-birth_date": ana.birth_date.isoformat(),
        "demographics-health_card_number": ana.health_card_number,
        "demographics-phone": "416-555-0177",
        "demographics-email": "",
    }
    assert web.post(f"/clients/{ana.pk}/demographics/", fields).status_code == 302
    ana.refresh_from_db()
    assert ana.phone == "416-555-0177"
    assert AccessEvent.objects.filter(action="client.update", actor=intake_kim).exists()
    bad = web.post(
        f"/clients/{ana.pk}/demographics/", {**fields, "demographics-birth_date": "2999-01-01"}
    )
    assert bad.status_code == 400
    assert "Birth date cannot be in the future." in bad.content.decode()


def test_amend_and_retract_in_the_timeline(ana, dr_lee, emp_jo, signed_in):
    entry = record_services.add_entry(
        provider=dr_lee, client=ana, category="general_health", kind="note", title="Flu shot"
    )
    web = signed_in(dr_lee)
    response = web.post(
        f"/clients/{ana.pk}/entries/{entry.pk}/amend/",
        {f"amend-{entry.pk}-title": "Flu shot, left arm", f"amend-{entry.pk}-body": "Given."},
    )
    assert response.status_code == 302
    newest = Entry.objects.get(amends=entry)
    page = web.get(f"/clients/{ana.pk}/").content.decode()
    assert "Flu shot, left arm" in page and "Amended" in page and "Earlier version" in page
    response = web.post(
        f"/clients/{ana.pk}/entries/{newest.pk}/retract/",
        {f"retract-{newest.pk}-reason": "Given to another patient."},
    )
    assert response.status_code == 302
    page = web.get(f"/clients/{ana.pk}/").content.decode()
    assert "Retracted by Dr. Daniel Lee" in page
    assert "Given to another patient." in page
    assert "Flu shot, left arm" not in page
    # Another organization's provider gets no amend or retract forms.
    other = signed_in(emp_jo).get(f"/clients/{ana.pk}/").content.decode()
    assert "entries/" + str(newest.pk) + "/amend/" not in other


def test_long_text_is_folded(ana, dr_lee, signed_in):
    body = "Long history. " * 100
    record_services.add_entry(
        provider=dr_lee,
        client=ana,
        category="general_health",
        kind="note",
        title="History",
        body=body,
    )
    page = signed_in(dr_lee).get(f"/clients/{ana.pk}/").content.decode()
    assert 'class="entry-fold"' in page and "Show more" in page


def test_an_org_admin_manages_their_providers(dr_lee, family_practice, signed_in):
    admin = ProviderFactory(organization=family_practice, role="org_admin")
    web = signed_in(admin)
    page = web.get(f"/providers/{dr_lee.pk}/")
    assert page.status_code == 200
    response = web.post(
        f"/providers/{dr_lee.pk}/",
        {"action": "edit", "full_name": "Dr. Dan Lee", "role": "care_coordinator"},
    )
    assert response.status_code == 302
    dr_lee.refresh_from_db()
    assert (dr_lee.full_name, dr_lee.role) == ("Dr. Dan Lee", "care_coordinator")
    response = web.post(f"/providers/{dr_lee.pk}/", {"action": "password", "password": "short"})
    assert response.status_code == 400
    response = web.post(
        f"/providers/{dr_lee.pk}/", {"action": "password", "password": "a new long passphrase"}
    )
    assert response.status_code == 302
    assert Provider.objects.get(pk=dr_lee.pk).check_password("a new long passphrase")
    response = web.post(f"/providers/{dr_lee.pk}/", {"action": "deactivate"})
    assert response.status_code == 302
    assert not Provider.objects.get(pk=dr_lee.pk).is_active
    assert "Deactivated" in web.get(f"/providers/{dr_lee.pk}/").content.decode()


def test_a_provider_on_a_case_cannot_become_a_privacy_officer(
    ana, dr_lee, family_practice, signed_in
):
    admin = ProviderFactory(organization=family_practice, role="org_admin")
    response = signed_in(admin).post(
        f"/providers/{dr_lee.pk}/",
        {"action": "edit", "full_name": dr_lee.full_name, "role": "privacy_officer"},
    )
    assert response.status_code == 400
    assert "care team" in response.content.decode()
    dr_lee.refresh_from_db()
    assert dr_lee.role == "clinician"


def test_another_organizations_provider_is_404_to_an_admin(dr_lee, mh_centre, signed_in):
    admin = ProviderFactory(organization=mh_centre, role="org_admin")
    assert signed_in(admin).get(f"/providers/{dr_lee.pk}/").status_code == 404
    assert signed_in(dr_lee).get(f"/providers/{dr_lee.pk}/").status_code == 403


def test_search_page_by_birth_date(ana, dr_lee, signed_in):
    page = signed_in(dr_lee).get("/clients/", {"q": ana.birth_date.isoformat()})
    assert "Silva, Ana" in page.content.decode()


def test_an_over_long_search_is_the_apps_own_400_page(dr_lee, signed_in):
    response = signed_in(dr_lee).get("/clients/", {"q": "a" * 5000})
    assert response.status_code == 400
    page = response.content.decode()
    assert "This search cannot be run" in page
    assert "at most 200 characters" in page
    assert "<nav" in page  # the app's page, with its header


def test_deactivating_on_the_staff_page_revokes_every_token_now(dr_lee, family_practice, signed_in):
    from accounts.models import DeviceToken
    from accounts.services import issue_token

    issue_token(dr_lee)
    issue_token(dr_lee)
    admin = ProviderFactory(organization=family_practice, role="org_admin")
    response = signed_in(admin).post(f"/providers/{dr_lee.pk}/", {"action": "deactivate"})
    assert response.status_code == 302
    assert not DeviceToken.objects.filter(user=dr_lee).exists()
