"""The Django admin is a system admin's tool for organizations, providers and
consent policies — and shows them no client record."""

import pytest
from django.contrib.auth.models import Group

from consent.models import ConsentPolicy
from records.models import Organization, Provider
from tests.second_factor import verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def sysadmin(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.org", "pw-for-root-1")


@pytest.fixture
def admin_client_(client, sysadmin):
    return verified_login(client, sysadmin)


def test_superuser_creates_an_organization_with_its_group(admin_client_):
    response = admin_client_.post(
        "/admin/records/organization/add/", {"name": "Harbour House", "sector": "housing"}
    )
    assert response.status_code == 302, response.content[:2000]
    organization = Organization.objects.get(name="Harbour House")
    assert organization.sector == "housing"
    assert Group.objects.filter(pk=organization.group_id).exists()


def test_superuser_adds_a_provider_who_joins_the_organization_group(admin_client_, family_practice):
    response = admin_client_.post(
        "/admin/records/provider/add/",
        {
            "username": "new_nurse",
            "full_name": "Nora Nurse",
            "organization": family_practice.pk,
            "role": "clinician",
            "password1": "a-long-unusual-passphrase",
            "password2": "a-long-unusual-passphrase",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    provider = Provider.objects.get(username="new_nurse")
    assert list(provider.groups.all()) == [family_practice.group]


def test_superuser_edits_consent_policies(admin_client_, mh_centre):
    response = admin_client_.post(
        "/admin/consent/consentpolicy/add/",
        {
            "name": "Clinical sharing",
            "description": "Clinicians share clinical notes.",
            "rules-TOTAL_FORMS": "1",
            "rules-INITIAL_FORMS": "0",
            "rules-MIN_NUM_FORMS": "0",
            "rules-MAX_NUM_FORMS": "1000",
            "rules-0-effect": "permit",
            "rules-0-grantee_sector": "mental_health",
            "rules-0-categories": '["mental_health", "medications"]',
        },
    )
    assert response.status_code == 302, response.content[:3000]
    policy = ConsentPolicy.objects.get(name="Clinical sharing")
    assert [r.categories for r in policy.rules.all()] == [["mental_health", "medications"]]


def test_policy_rule_with_unknown_category_is_refused(admin_client_):
    response = admin_client_.post(
        "/admin/consent/consentpolicy/add/",
        {
            "name": "Bad",
            "rules-TOTAL_FORMS": "1",
            "rules-INITIAL_FORMS": "0",
            "rules-0-effect": "permit",
            "rules-0-grantee_sector": "housing",
            "rules-0-categories": '["astrology"]',
        },
    )
    assert response.status_code == 200
    assert b"Unknown categories: astrology" in response.content
    assert not ConsentPolicy.objects.exists()


def test_admin_shows_no_client_records_and_no_way_to_edit_the_audit(admin_client_, ana):
    assert admin_client_.get("/admin/records/client/").status_code == 404
    assert admin_client_.get("/admin/records/entry/").status_code == 404
    assert admin_client_.get("/admin/core/accessevent/").status_code == 200
    assert admin_client_.get("/admin/core/accessevent/add/").status_code == 403
