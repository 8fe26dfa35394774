"""The demo is what a newcomer sees first: it must load twice safely and tell
the product's stories (the README) through the same consent engine as everything else."""

import datetime

import pytest
from django.core.management import call_command

from core.vocabulary import Role
from records.models import Client, Entry, Organization, Provider
from tests.celery_worker import routed  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(client, settings):
    # As `make demo` runs it: no second factor (docs/security.md).
    settings.CARELINK_REQUIRE_2FA = False
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
    # The three stories, the mental-health centre's measured caseload (measures.demo),
    # and the clients behind the services' six months of history (docs/capacity.md).
    stories = Client.objects.filter(given_name__in=["Ana", "Marcus", "Leo"])
    assert set(stories.values_list("given_name", flat=True)) == {"Ana", "Marcus", "Leo"}
    assert Client.objects.exclude(pk__in=stories).exists()
    providers = Provider.objects.filter(client__isnull=True)
    assert set(providers.values_list("role", flat=True)) == set(Role.values)
    # Ana's own portal account (docs/portal-pages.md), once.
    assert Provider.objects.filter(client__isnull=False).get().username == "ana"


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
    # Her employment plan, and the general health she shares with WorkBridge (until
    # she stops sharing it on the portal: tests/browser/test_portal_walk.py).
    assert {e["category"] for e in page["results"]} <= {"employment", "general_health"}
    assert page["withheld_count"] >= 5
    assert "sertraline" not in str(page).lower()


def test_demo_logins_are_printed(capsys):
    call_command("print_demo_logins")
    out = capsys.readouterr().out
    for username in ("dr_lee", "intake_kim", "emp_jo", "privacy_pat", "admin_riverside"):
        assert username in out
    assert "carelink-demo" in out


def test_no_admin_or_privacy_officer_is_on_a_care_team(demo):
    """Minimum necessary: the hospital's privacy officer watches Marcus's record
    (its access log, emergency accesses) without being on his care team."""
    from records.models import CareTeamMembership

    on_teams = CareTeamMembership.objects.filter(ended_at__isnull=True)
    assert not on_teams.filter(provider__role__in=["org_admin", "privacy_officer"]).exists()
    auth = token_client(demo, "privacy_stmarys")
    marcus = demo.get("/api/v1/clients/?q=Marcus", **auth).json()["results"][0]
    assert demo.get(f"/api/v1/clients/{marcus['id']}/entries/", **auth).status_code == 403
    assert demo.get(f"/api/v1/clients/{marcus['id']}/access-log/", **auth).status_code == 200


def test_demo_logins_name_the_address_actually_served(capsys):
    call_command("print_demo_logins", served_at="http://127.0.0.1:8123/")
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8123/accounts/login/" in out
    assert ":8000" not in out


def test_make_demo_takes_a_port():
    """`make demo PORT=…` binds there, prints that address and puts it in email links."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    plan = subprocess.run(
        ["make", "-n", "demo", "PORT=8123"], cwd=root, capture_output=True, text=True
    ).stdout
    assert "--bind 127.0.0.1:8123" in plan
    assert "print_demo_logins --served-at http://127.0.0.1:8123" in plan
    assert "--limit-request-line 0" in plan
    # A comment inside a continued recipe line reaches the shell as a command.
    assert not [line for line in plan.splitlines() if line.lstrip().startswith("@#")]


def test_demo_services_have_six_months_and_the_shapes_the_story_needs(demo):
    from capacity.selectors import service_wait, wait_history
    from records.models import Service
    from referrals.models import Referral

    services = {s.name: s for s in Service.objects.all()}
    assert len(services) >= 3
    for service in services.values():
        oldest = Referral.objects.filter(service=service).order_by("created_at").first()
        assert demo_now() - oldest.created_at >= datetime.timedelta(days=183), service.name
        statuses = set(Referral.objects.filter(service=service).values_list("status", flat=True))
        assert {"completed", "declined"} <= statuses, service.name
    counselling = services["Adult counselling"]
    assert counselling.organization.name == "Eastside Community Mental Health"
    wait = service_wait(counselling)
    assert wait.growing and wait.median_wait_days is not None
    weeks = wait_history(counselling)
    # After the partnership the arrivals jump and the queue and the wait climb.
    before, after = weeks[:10], weeks[-8:]
    assert sum(w.arrivals for w in after) / 8 > 1.5 * sum(w.arrivals for w in before) / 10
    assert weeks[-1].waiting_at_end > 3 * max(1, weeks[9].waiting_at_end)
    assert not services["Supportive housing"].accepting_referrals
    steady = service_wait(services["Group therapy"])
    assert not steady.growing and steady.waiting < 10


def test_intake_worker_has_the_warning_in_the_inbox(client, routed):  # noqa: F811
    # The routing queue runs when the demo's transaction commits, as in `make demo`.
    with routed():
        call_command("load_demo", stdout=open("/dev/null", "w"))
    auth = token_client(client, "intake_kim")
    items = client.get("/api/v1/inbox/", **auth).json()["results"]
    warning = next(item for item in items if item["kind"] == "service_queue_growing")
    assert warning["client"] is None and warning["service"]
    assert "Adult counselling" in warning["preview"]


def demo_now():
    from django.utils import timezone

    return timezone.now()
