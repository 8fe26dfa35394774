"""Shared fixtures: the personas and API clients logged in as them.

- dr_lee: family doctor (primary care), registers Ana and is on her care team
- intake_kim: intake worker at the community mental-health centre, on Ana's team
- emp_jo: employment counsellor, on Ana's team
- outsider: a clinician of a hospital that is not on Ana's case
"""

import os

import pytest
from rest_framework.test import APIClient

from consent.services import record_consent
from records import services as record_services
from tests.factories import ClientFactory, OrganizationFactory, ProviderFactory


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database; at the end, on PostgreSQL, no connection
    left to block its removal: a Celery worker's or a served page's backend can
    outlive its process by a moment, and DROP DATABASE refuses while it does."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _no_lockouts(settings):
    settings.AXES_ENABLED = False


@pytest.fixture
def family_practice(db):
    return OrganizationFactory(name="Riverside Family Practice", sector="primary_care")


@pytest.fixture
def mh_centre(db):
    return OrganizationFactory(name="Eastside Community Mental Health", sector="mental_health")


@pytest.fixture
def employment_service(db):
    return OrganizationFactory(name="WorkBridge Employment", sector="employment")


@pytest.fixture
def hospital(db):
    return OrganizationFactory(name="General Hospital", sector="hospital")


@pytest.fixture
def housing(db):
    return OrganizationFactory(name="Harbour Supportive Housing", sector="housing")


@pytest.fixture
def dr_lee(family_practice):
    return ProviderFactory(
        username="dr_lee", full_name="Dr. Daniel Lee", organization=family_practice
    )


@pytest.fixture
def intake_kim(mh_centre):
    return ProviderFactory(
        username="intake_kim", full_name="Kim Park", organization=mh_centre, role="intake_worker"
    )


@pytest.fixture
def emp_jo(employment_service):
    return ProviderFactory(
        username="emp_jo", full_name="Jo Martin", organization=employment_service
    )


@pytest.fixture
def outsider(hospital):
    return ProviderFactory(username="outsider", full_name="Olive Outsider", organization=hospital)


@pytest.fixture
def intake_hal(housing):
    """The housing program's intake worker: not on Ana's case until a referral is accepted."""
    return ProviderFactory(
        username="intake_hal",
        full_name="Hal Intake",
        organization=housing,
        role="intake_worker",
        email="hal@harbour.example",
    )


@pytest.fixture
def ana(dr_lee, intake_kim, emp_jo):
    """Ana, registered by her family doctor, with intake_kim and emp_jo on her care team."""
    client = ClientFactory(
        given_name="Ana",
        family_name="Silva",
        health_card_number="1234-567-890",
        registered_by=dr_lee,
    )
    record_services.add_to_care_team(client, intake_kim)
    record_services.add_to_care_team(client, emp_jo)
    return client


def api_client_for(provider) -> APIClient:
    client = APIClient()
    client.force_authenticate(provider)
    return client


@pytest.fixture
def api_as():
    return api_client_for


# --- added for the API suite (issue 2) ---------------------------------------------------


@pytest.fixture
def sysadmin(db):
    """A system admin made like `manage.py createsuperuser`: no organization, no role."""
    from records.models import Provider

    return Provider.objects.create_superuser(
        username="sysadmin", email="admin@example.org", password="correct horse battery staple"
    )


@pytest.fixture
def privacy_pat(mh_centre):
    """The privacy officer of the mental-health centre (a care-team organization of Ana)."""
    return ProviderFactory(
        username="privacy_pat",
        full_name="Pat Privacy",
        organization=mh_centre,
        role="privacy_officer",
    )


@pytest.fixture
def hospital_privacy(hospital):
    """A privacy officer of an organization that is not on Ana's case."""
    return ProviderFactory(
        username="hospital_privacy", organization=hospital, role="privacy_officer"
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The demo and the factories hash many passwords; PBKDF2's cost buys nothing in tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _static_files_without_collectstatic(settings):
    # Production serves hashed, compressed files after `collectstatic`; tests
    # render pages straight from the source folders.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def postgresql(db):
    """Tests of PostgreSQL's own guarantees (triggers, row locks). On a developer's
    SQLite run they skip; in CI (the CI variable set) a missing PostgreSQL fails."""
    from django.db import connection

    if connection.vendor != "postgresql":
        message = "needs PostgreSQL (DATABASE_URL=postgres://…)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return connection


@pytest.fixture
def note(ana, dr_lee):
    """A mental-health note by Ana's family doctor."""
    return record_services.add_entry(
        provider=dr_lee,
        client=ana,
        category="mental_health",
        kind="note",
        title="PHQ-9 of 17",
        body="Low mood.",
    )


@pytest.fixture
def centre_reads_mental_health(ana, intake_kim):
    """Ana permits her mental-health entries (`note`, say) to the mental-health
    centre: an organization that reads them without having written them."""
    return record_consent(
        provider=intake_kim,
        client=ana,
        effect="permit",
        categories=["mental_health"],
        grantee_organization=intake_kim.organization,
    )
