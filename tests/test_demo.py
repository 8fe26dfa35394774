"""The demo is what a newcomer sees first: it must load twice safely and tell
the product's stories (the README) through the same consent engine as everything else."""

import pytest
from django.core.management import call_command

from core.vocabulary import Role
from records.models import Client, Entry, Organization, Provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(client):
    call_command("load_demo", stdout=open("/dev/null", "w"))
    return client


def token_client(client, username):
    response = client.post(
        "/api/v1/auth/token/",
        {"username": username, "password": "carelink-demo"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return {"HTTP_AUTHORIZATION": f"Token {response.json()['token']}"}


def test_load_demo_twice_changes_nothing(demo):
    counts = (Organization.objects.count(), Provider.objects.count(), Entry.objects.count())
    call_command("load_demo", stdout=open("/dev/null", "w"))
    assert (Organization.objects.count(), Provider.objects.count(), Entry.objects.count()) == counts
    # The three stories, and the mental-health centre's measured caseload (measures.demo).
    assert {"Ana", "Marcus", "Leo"} <= set(Client.objects.values_list("given_name", flat=True))
    assert set(Provider.objects.values_list("role", flat=True)) == set(Role.values)


def test_intake_worker_reads_ana_with_what_she_keeps_private(demo):
    auth = token_client(demo, "intake_kim")
    ana = demo.get("/api/v1/clients/?q=Ana", **auth).json()["results"][0]
    page = demo.get(f"/api/v1/clients/{ana['id']}/entries/", **auth).json()
    titles = {e["title"] for e in page["results"]}
    categories = {e["category"] for e in page["results"]}
    assert "PHQ-9: moderately severe depression" in titles
    # Her alcohol-use note and her employment plan are not shared with the centre.
    assert page["withheld_count"] == 2
    assert not categories & {"substance_use", "employment"}
    assert "Alcohol use discussed" not in str(page)


def test_employment_counsellor_sees_no_mental_health_content(demo):
    auth = token_client(demo, "emp_jo")
    ana = demo.get("/api/v1/clients/?q=Silva", **auth).json()["results"][0]
    page = demo.get(f"/api/v1/clients/{ana['id']}/entries/", **auth).json()
    assert {e["category"] for e in page["results"]} <= {"employment"}
    assert page["withheld_count"] >= 5
    assert "sertraline" not in str(page).lower()


def test_demo_logins_are_printed(capsys):
    call_command("print_demo_logins")
    out = capsys.readouterr().out
    for username in ("dr_lee", "intake_kim", "emp_jo", "privacy_pat", "admin_riverside"):
        assert username in out
    assert "carelink-demo" in out
