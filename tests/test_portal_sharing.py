"""Sharing choices per organization, as the portal's pages offer them
(docs/portal.md, "Consent by the client"): what each care-team organization
may see now, what a change would do, and the change itself — all read from
the one consent engine, and checked against what a provider actually sees."""

import pytest
from django.test import Client

from consent import services as consent_services
from consent.selectors import categories_shared_with, visible_entries
from core.errors import InvalidInput
from portal import services as portal_services
from portal.selectors import care_team_organizations, sharing_after
from records import services as record_services
from tests.portal_support import PASSWORD, open_portal_account

KINDS = ["general_health", "housing", "mental_health"]


@pytest.fixture
def account(ana, dr_lee):
    return open_portal_account(ana, dr_lee)


@pytest.fixture
def notes(ana, dr_lee):
    """One note of each kind, written by the family practice."""
    for kind in KINDS:
        record_services.create_entry(
            client=ana, author=dr_lee, category=kind, kind="note", title=f"About {kind}"
        )


def engine_sees(provider, client) -> set[str]:
    """The kinds of other organizations' notes the provider actually sees
    (the engine's own answer)."""
    entries = visible_entries(provider, client).exclude(organization_id=provider.organization_id)
    return set(entries.values_list("category", flat=True))


SCENARIOS = [
    [],
    [("permit", "org", ["housing"])],
    [("permit", "sector", ["housing", "general_health"])],
    [("permit", "sector", KINDS), ("deny", "org", ["mental_health"])],
    [("permit", "org", KINDS), ("deny", "sector", ["housing"])],
    [("deny", "org", KINDS), ("permit", "org", KINDS)],
    [("permit", "org", ["general_health"]), ("permit", "sector", ["mental_health"])],
]


@pytest.mark.parametrize("choices", SCENARIOS)
def test_what_each_organization_may_see_is_what_it_sees(
    choices, ana, dr_lee, emp_jo, employment_service, notes
):
    for effect, grantee, kinds in choices:
        consent_services.record_consent(
            provider=dr_lee,
            client=ana,
            effect=effect,
            categories=kinds,
            **(
                {"grantee_organization": employment_service}
                if grantee == "org"
                else {"grantee_sector": "employment"}
            ),
        )
    shared = categories_shared_with(ana, [employment_service])
    assert shared[employment_service.pk] == engine_sees(emp_jo, ana)


def test_care_team_organizations(ana):
    names = [organization.name for organization in care_team_organizations(ana)]
    assert names == [
        "Eastside Community Mental Health",
        "Riverside Family Practice",
        "WorkBridge Employment",
    ]


def test_stop_then_let_again(account, ana, dr_lee, emp_jo, employment_service, notes):
    consent_services.record_consent(
        provider=dr_lee,
        client=ana,
        effect="permit",
        categories=["general_health", "housing"],
        grantee_sector="employment",
    )
    assert engine_sees(emp_jo, ana) == {"general_health", "housing"}
    organizations = care_team_organizations(ana)
    preview = sharing_after(
        ana, organizations, organization=employment_service, category="general_health", share=False
    )
    portal_services.change_sharing(
        account=account, organization=employment_service, category="general_health", share=False
    )
    assert engine_sees(emp_jo, ana) == {"housing"}
    assert categories_shared_with(ana, organizations) == preview

    preview = sharing_after(
        ana, organizations, organization=employment_service, category="general_health", share=True
    )
    changed = portal_services.change_sharing(
        account=account, organization=employment_service, category="general_health", share=True
    )
    # The client's own deny taken back is enough: the provider-recorded permit stands.
    assert [d.revoked_at is not None for d in changed] == [True]
    assert engine_sees(emp_jo, ana) == {"general_health", "housing"}
    assert categories_shared_with(ana, organizations) == preview


def test_let_records_a_permit_where_none_covers(account, ana, emp_jo, employment_service, notes):
    changed = portal_services.change_sharing(
        account=account, organization=employment_service, category="mental_health", share=True
    )
    assert [(d.effect, d.categories, d.recorded_by_id) for d in changed] == [
        ("permit", ["mental_health"], account.pk)
    ]
    assert engine_sees(emp_jo, ana) == {"mental_health"}


def test_bad_choice_changes_nothing(account, ana, employment_service):
    with pytest.raises(InvalidInput) as error:
        portal_services.change_sharing(
            account=account, organization=employment_service, category="astrology", share=True
        )
    assert "category" in error.value.fields
    assert not ana.consents.exists()


def test_the_client_page_says_the_client_recorded_it(account, ana, dr_lee, employment_service):
    portal_services.change_sharing(
        account=account, organization=employment_service, category="housing", share=False
    )
    dr_lee.set_password(PASSWORD)
    dr_lee.save()
    web = Client()
    web.force_login(dr_lee)
    page = web.get(f"/clients/{ana.pk}/").content.decode()
    assert "recorded by the client in the portal" in page
    assert "recorded by Ana Silva" not in page
