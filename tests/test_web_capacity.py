"""The capacity pages on the loaded demo: every figure a page shows is the
API's, the referral form offers services with their waits (a closed one
disabled, saying why), and the pages keep their roles."""

import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.models import Provider, Service
from referrals.models import Referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("load_demo", stdout=open("/dev/null", "w"))


def signed_in(client, username):
    client.force_login(Provider.objects.get(username=username))
    return client


def api_wait(client, service):
    return client.get(f"/api/v1/services/{service.pk}/").json()["wait"]


def test_referral_form_lists_services_with_the_apis_waits(demo, client):
    counselling = Service.objects.get(name="Adult counselling")
    housing = Service.objects.get(name="Supportive housing")
    lee = signed_in(client, "dr_lee")
    ana = Referral.objects.filter(client__given_name="Ana").first().client
    page = lee.get(f"/clients/{ana.pk}/").content.decode()
    # The client page offers the form; the form (its services and their waits)
    # comes when the "Refer" panel is opened.
    assert f'hx-get="/clients/{ana.pk}/referrals/"' in page
    assert f'value="{counselling.pk}"' not in page
    form = lee.get(
        f"/clients/{ana.pk}/referrals/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="div#refer-form"
    ).content.decode()
    assert "<html" not in form
    # No service is listed until an organization is chosen; choosing one asks
    # for the form again (htmx keeps its list of services alone).
    assert f'value="{counselling.pk}"' not in form
    assert "its services and their waits are listed here" in form
    assert f'hx-get="/clients/{ana.pk}/referrals/"' in form
    assert 'hx-select="#id_refer-service"' in form

    def services_of(organization_id: int) -> str:
        return lee.get(
            f"/clients/{ana.pk}/referrals/",
            {"refer-to_organization": organization_id},
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="div#id_refer-service",
        ).content.decode()

    html = services_of(counselling.organization_id) + services_of(housing.organization_id)
    assert html.count('<div class="service-choice"') == 2
    assert Service.objects.exclude(
        organization__in=[counselling.organization_id, housing.organization_id]
    ).exists()
    for other in Service.objects.exclude(
        organization__in=[counselling.organization_id, housing.organization_id]
    ):
        assert f'value="{other.pk}"' not in html  # only the chosen organization's
    wait = api_wait(lee, counselling)
    assert wait["growing"] and wait["median_wait_days"] >= 14
    option = re.search(rf'value="{counselling.pk}".*?</label>', html, re.S).group(0)
    assert f"Median wait {wait['median_wait_days']} days" in option
    assert f"90th percentile {wait['p90_wait_days']} days" in option
    assert f"{wait['waiting']} waiting" in option and "growing" in option
    closed = re.search(rf'value="{housing.pk}"[^>]*>', html).group(0)
    assert "disabled" in closed
    assert "Not accepting referrals now: it cannot be chosen." in html
    assert "<legend>Eastside Community Mental Health</legend>" in html


def test_posting_a_closed_service_is_409_on_the_form_and_sends_nothing(demo, client):
    housing = Service.objects.get(name="Supportive housing")
    lee = signed_in(client, "dr_lee")
    ana = Referral.objects.filter(client__given_name="Ana").first().client
    before = Referral.objects.count()
    response = lee.post(
        f"/clients/{ana.pk}/referrals/",
        {"refer-service": str(housing.pk), "refer-urgency": "routine", "refer-reason": "Housing"},
    )
    assert response.status_code == 409
    assert "not accepting referrals" in response.content.decode()
    assert Referral.objects.count() == before


def test_directory_puts_growing_first_with_the_apis_figures(demo, client):
    kim = signed_in(client, "intake_kim")
    html = kim.get("/services/").content.decode()
    rows = re.findall(
        r"<tr(?: class=\"row-growing\")?>\s*<th scope=\"row\"><a href=\"/services/([0-9a-f-]+)/\"",
        html,
    )
    growing = [str(s.pk) for s in Service.objects.all() if api_wait(kim, s)["growing"]]
    assert growing and rows[: len(growing)] == sorted(rows[: len(growing)], key=rows.index)
    assert set(rows[: len(growing)]) == set(growing)
    counselling = Service.objects.get(name="Adult counselling")
    wait = api_wait(kim, counselling)
    row = re.search(rf'/services/{counselling.pk}/".*?</tr>', html, re.S).group(0)
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    assert cells == [
        str(wait["median_wait_days"]),
        str(wait["p90_wait_days"]),
        str(wait["waiting"]),
    ]
    assert f"{wait['arrivals_4w']} in, {wait['left_4w']} out" in row


def test_service_page_table_is_the_apis_history(demo, client):
    kim = signed_in(client, "intake_kim")
    counselling = Service.objects.get(name="Adult counselling")
    html = kim.get(f"/services/{counselling.pk}/").content.decode()
    table = re.search(r'<table id="history-table">.*?</table>', html, re.S).group(0)
    rows = re.findall(
        r'<th scope="row">([\d-]+)</th><td class="num">(\d+)</td><td class="num">(\d+)</td>'
        r'<td class="num">(\d+)</td><td class="num">([^<]+)</td>',
        table,
    )
    weeks = kim.get(f"/api/v1/services/{counselling.pk}/wait-history/").json()
    assert rows == [
        (
            w["week_start"],
            str(w["arrivals"]),
            str(w["left"]),
            str(w["waiting_at_end"]),
            "—" if w["median_wait_days"] is None else str(w["median_wait_days"]),
        )
        for w in weeks
    ]
    assert html.count('role="img"') == 2 and "<title id=" in html
    assert '<p id="history-summary">Over 26 weeks' in html


def test_queue_and_intake_toggle_by_role(demo, client):
    counselling = Service.objects.get(name="Adult counselling")
    kim = signed_in(client, "intake_kim")
    html = kim.get(f"/services/{counselling.pk}/queue/").content.decode()
    assert f"Waiting ({api_wait(kim, counselling)['waiting']})" in html
    urgencies = re.findall(r'<span class="badge badge-(routine|urgent|emergent)">', html)
    assert urgencies == sorted(urgencies, key=["emergent", "urgent", "routine"].index)
    response = kim.post(f"/services/{counselling.pk}/intake/", {"accepting_referrals": "false"})
    assert response.status_code == 302
    counselling.refresh_from_db()
    assert counselling.accepting_referrals is False
    # A clinician of the centre sees the queue but cannot close intake; another
    # organization's provider gets 403 on the queue.
    osei = signed_in(client, "dr_osei")
    assert osei.get(f"/services/{counselling.pk}/queue/").status_code == 200
    assert (
        osei.post(
            f"/services/{counselling.pk}/intake/", {"accepting_referrals": "true"}
        ).status_code
        == 403
    )
    lee = signed_in(client, "dr_lee")
    assert lee.get(f"/services/{counselling.pk}/queue/").status_code == 403
    counselling.refresh_from_db()
    assert counselling.accepting_referrals is False


def test_org_admin_adds_and_edits_services(demo, client):
    admin = signed_in(client, "admin_eastside")
    response = admin.post(
        "/services/new/", {"name": "Adult counselling", "accepting_referrals": "on"}
    )
    assert (
        response.status_code == 400 and "already has a service named" in response.content.decode()
    )
    response = admin.post("/services/new/", {"name": "Walk-in clinic", "eligibility": "Anyone 16+"})
    assert response.status_code == 302
    walk_in = Service.objects.get(name="Walk-in clinic")
    assert walk_in.accepting_referrals is False  # the box was left unticked
    assert admin.get(f"/services/{walk_in.pk}/edit/").status_code == 200
    kim = signed_in(client, "intake_kim")
    assert kim.get("/services/new/").status_code == 403
    assert kim.get(f"/services/{walk_in.pk}/edit/").status_code == 403


def test_a_service_queue_page_is_read_in_its_index_order(postgresql, demo, client):
    """The queue page's rows come from referral_service_queue in their order
    (most urgent, then longest waiting), not from sorting every referral
    waiting for the service: with sorting priced out, PostgreSQL still reads
    that index (it would not, had the index or the order changed)."""
    counselling = Service.objects.get(name="Adult counselling")
    kim = signed_in(client, "intake_kim")
    with CaptureQueriesContext(connection) as captured:
        assert kim.get(f"/services/{counselling.pk}/queue/").status_code == 200
    page = next(
        q["sql"]
        for q in captured.captured_queries
        if "ORDER BY" in q["sql"] and "referrals_referral" in q["sql"] and "LIMIT" in q["sql"]
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + page)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "referral_service_queue" in plan, plan
