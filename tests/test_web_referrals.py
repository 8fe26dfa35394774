"""Referral pages and the inbox in the browser-facing web app: the closed loop
through the same referrals services as the API, with routing run after commit."""

# ruff: noqa: F811 - `routed` is a pytest fixture imported from tests.celery_worker

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AccessEvent, Notification
from records.models import Entry, Service
from referrals import services
from referrals.models import Referral
from referrals.selectors import referral_history
from tests.celery_worker import routed  # noqa: F401 - a fixture
from tests.factories import ClientFactory

REASON = "Low mood for six months; would benefit from CBT. Sensitive: recent loss."
REPORT_TITLE = "Intake assessment: moderate depression, CBT weekly"


def html_of(response) -> str:
    return response.content.decode()


@pytest.fixture
def report_shared(ana, dr_lee, intake_kim):
    """Ana agreed to share mental-health notes with her family practice."""
    from consent.services import record_consent

    record_consent(
        provider=intake_kim,
        client=ana,
        effect="permit",
        grantee_organization=dr_lee.organization,
        categories=["mental_health"],
    )
    return ana


def web_refer(client, routed, provider, ana, organization, urgency="urgent", share=()):
    client.force_login(provider)
    with routed():
        response = client.post(
            f"/clients/{ana.pk}/referrals/",
            {
                "refer-to_organization": organization.pk,
                "refer-urgency": urgency,
                "refer-reason": REASON,
                "refer-share_categories": list(share),
            },
        )
    assert response.status_code == 302, html_of(response)
    return Referral.objects.order_by("-created_at").first()


def test_the_closed_loop_in_the_browser_pages(
    client, routed, report_shared, dr_lee, intake_kim, emp_jo
):
    ana = report_shared
    referral = web_refer(client, routed, dr_lee, ana, intake_kim.organization)
    assert (referral.status, referral.urgency, referral.referred_by) == ("sent", "urgent", dr_lee)

    client.force_login(intake_kim)
    dashboard = html_of(client.get("/"))
    assert "Incoming referrals waiting" in dashboard
    assert f"/referrals/{referral.pk}/" in dashboard
    assert "New referral from Riverside Family Practice" in dashboard

    page = html_of(client.get(f"/referrals/{referral.pk}/"))
    assert REASON in page and "Accept referral" in page and "Decline" in page
    assert "Cancel this referral" not in page

    with routed():
        assert client.post(f"/referrals/{referral.pk}/accept/").status_code == 302
    appointment = timezone.localtime() + timedelta(days=3, hours=2)
    with routed():
        response = client.post(
            f"/referrals/{referral.pk}/schedule/",
            {"schedule-appointment_at": appointment.strftime("%Y-%m-%dT%H:%M")},
        )
    assert response.status_code == 302
    with routed():
        response = client.post(
            f"/referrals/{referral.pk}/complete/",
            {
                "complete-title": REPORT_TITLE,
                "complete-category": "mental_health",
                "complete-body": "Seen for intake. Weekly CBT from next week.",
                # The appointment is still ahead: completing now is confirmed.
                "complete-before_appointment": "on",
            },
        )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == "completed"
    assert referral.report_entry.kind == "intake_report"

    # The family doctor hears back: in the inbox and on Ana's timeline.
    client.force_login(dr_lee)
    dashboard = html_of(client.get("/"))
    assert "Intake report from Eastside Community Mental Health" in dashboard
    assert REPORT_TITLE in dashboard  # Ana shares mental-health notes with her doctor
    timeline = html_of(client.get(f"/clients/{ana.pk}/"))
    assert REPORT_TITLE in timeline
    page = html_of(client.get(f"/referrals/{referral.pk}/"))
    assert "Completed" in page and "3 days" in page and REPORT_TITLE in page
    history = [e.kind for e in referral_history(referral)]
    assert history == [
        "referral_received",
        "referral_accepted",
        "referral_scheduled",
        "intake_report",
    ]

    # The employment counsellor is on the team, hears of the report, sees none of it.
    client.force_login(emp_jo)
    inbox = html_of(client.get("/inbox/"))
    assert "Intake report from Eastside Community Mental Health" in inbox
    assert REPORT_TITLE not in inbox and "content withheld" in inbox
    assert REPORT_TITLE not in html_of(client.get(f"/clients/{ana.pk}/"))
    # ...and the referral itself (with its reason) is not theirs to read.
    assert client.get(f"/referrals/{referral.pk}/").status_code == 404


def test_receiving_org_sees_name_and_birth_date_until_it_accepts(
    client, routed, ana, dr_lee, intake_hal
):
    referral = web_refer(client, routed, dr_lee, ana, intake_hal.organization)
    client.force_login(intake_hal)
    page = html_of(client.get(f"/referrals/{referral.pk}/"))
    assert "Ana Silva" in page and "1990-05-17" in page
    assert f'href="/clients/{ana.pk}/"' not in page
    assert client.get(f"/clients/{ana.pk}/").status_code == 404
    with routed():
        client.post(f"/referrals/{referral.pk}/accept/")
    assert client.get(f"/clients/{ana.pk}/").status_code == 200
    assert f'href="/clients/{ana.pk}/"' in html_of(client.get(f"/referrals/{referral.pk}/"))


def test_referral_pages_are_404_for_non_parties(client, routed, ana, dr_lee, emp_jo, outsider):
    referral = web_refer(client, routed, dr_lee, ana, emp_jo.organization)
    for provider in (outsider,):
        client.force_login(provider)
        assert client.get(f"/referrals/{referral.pk}/").status_code == 404
        assert client.post(f"/referrals/{referral.pk}/accept/").status_code == 404
    client.force_login(dr_lee)
    assert client.get(f"/referrals/{uuid.uuid4()}/").status_code == 404


def test_wrong_side_is_403_and_wrong_state_is_409(client, routed, ana, dr_lee, intake_hal):
    referral = web_refer(client, routed, dr_lee, ana, intake_hal.organization)
    client.force_login(dr_lee)
    assert client.post(f"/referrals/{referral.pk}/accept/").status_code == 403
    client.force_login(intake_hal)
    response = client.post(f"/referrals/{referral.pk}/cancel/", {"cancel-reason": "No"})
    assert response.status_code == 403
    with routed():
        client.post(f"/referrals/{referral.pk}/decline/", {"decline-reason": "No capacity now."})
    response = client.post(f"/referrals/{referral.pk}/accept/")
    assert response.status_code == 409
    assert "declined" in html_of(response)
    referral.refresh_from_db()
    assert referral.status == "declined" and referral.decline_reason == "No capacity now."


def test_decline_needs_a_reason_shown_next_to_the_field(client, routed, ana, dr_lee, intake_hal):
    referral = web_refer(client, routed, dr_lee, ana, intake_hal.organization)
    client.force_login(intake_hal)
    response = client.post(f"/referrals/{referral.pk}/decline/", {"decline-reason": "  "})
    assert response.status_code == 400
    assert 'aria-describedby="id_decline-reason_error"' in html_of(response)
    referral.refresh_from_db()
    assert referral.status == "sent"


def test_refer_form_errors_and_consent_at_referral(client, routed, ana, dr_lee, intake_hal):
    client.force_login(dr_lee)
    response = client.post(
        f"/clients/{ana.pk}/referrals/",
        {"refer-to_organization": dr_lee.organization_id, "refer-urgency": "whenever"},
    )
    assert response.status_code == 400
    html = html_of(response)
    for field in ("to_organization", "urgency", "reason"):
        assert f'id="id_refer-{field}_error"' in html
    # The form comes back on a page of its own, as it was sent.
    assert "<h1>Refer Ana Silva</h1>" in html
    assert f'<option value="{dr_lee.organization_id}"' not in html  # one's own is not offered
    assert not Referral.objects.exists()

    referral = web_refer(
        client, routed, dr_lee, ana, intake_hal.organization, share=["housing", "social"]
    )
    assert referral.consent_directive.categories == ["housing", "social"]


def test_cancel_by_the_referrer(client, routed, ana, dr_lee, intake_hal):
    referral = web_refer(client, routed, dr_lee, ana, intake_hal.organization)
    client.force_login(dr_lee)
    assert "Cancel this referral" in html_of(client.get(f"/referrals/{referral.pk}/"))
    with routed():
        response = client.post(f"/referrals/{referral.pk}/cancel/", {"cancel-reason": "Moved."})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == "cancelled"


def test_intake_queue_sorted_by_urgency_then_age(client, dr_lee, intake_hal, db):
    now = timezone.now()
    order = []
    for days, urgency, name in [
        (9, "routine", "Rae"),
        (1, "urgent", "Uma"),
        (5, "urgent", "Ugo"),
        (0, "emergent", "Eli"),
        (2, "routine", "Ron"),
    ]:
        person = ClientFactory(given_name=name, family_name="Client", registered_by=dr_lee)
        referral = services.refer_client(
            provider=dr_lee,
            client=person,
            to_organization=intake_hal.organization,
            reason="Needs housing support.",
            urgency=urgency,
        )
        Referral.objects.filter(pk=referral.pk).update(created_at=now - timedelta(days=days))
        order.append(name)
    client.force_login(intake_hal)
    response = client.get("/")
    queue = response.context["queue"]
    assert [r.client.given_name for r in queue] == ["Eli", "Ugo", "Uma", "Rae", "Ron"]
    assert [r.days_waiting for r in queue] == [0, 5, 1, 9, 2]
    # Clients shown on the dashboard are audited, once each.
    assert (
        AccessEvent.objects.filter(actor=intake_hal, action="dashboard.read", channel="web").count()
        == 5
    )


def test_referral_list_directions_and_query_count(
    client, dr_lee, intake_hal, db, django_assert_num_queries
):
    def make(n):
        for i in range(n):
            person = ClientFactory(given_name=f"P{i}", family_name="List", registered_by=dr_lee)
            services.refer_client(
                provider=dr_lee,
                client=person,
                to_organization=intake_hal.organization,
                reason="Needs support.",
                urgency="routine",
            )

    make(2)
    client.force_login(dr_lee)
    assert len(client.get("/referrals/?direction=outgoing").context["referrals"]) == 2
    assert client.get("/referrals/?direction=incoming").context["referrals"] == []
    with CaptureQueriesContext(connection) as few:
        client.get("/referrals/?direction=outgoing")
    make(6)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get("/referrals/?direction=outgoing")
    assert len(response.context["referrals"]) == 8
    client.force_login(intake_hal)
    html = html_of(client.get("/referrals/?direction=incoming&status=sent"))
    assert html.count("Riverside Family Practice") == 8


def test_mark_read_with_htmx_and_without(client, routed, ana, dr_lee, intake_hal):
    referral = web_refer(client, routed, dr_lee, ana, intake_hal.organization)
    notification = Notification.objects.get(recipient=intake_hal, event__subject_id=referral.pk)
    client.force_login(dr_lee)
    # Someone else's notification does not exist for them.
    assert client.post(f"/inbox/{notification.pk}/read/").status_code == 404
    client.force_login(intake_hal)
    response = client.post(
        f"/inbox/{notification.pk}/read/",
        headers={"HX-Request": "true", "HX-Target": f"li#notification-{notification.pk}"},
    )
    assert response.status_code == 200
    assert "<html" not in html_of(response) and "Read" in html_of(response)
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert "Nothing unread" in html_of(client.get("/inbox/"))
    assert "New referral" in html_of(client.get("/inbox/?show=all"))


def test_entry_added_preview_in_the_inbox_follows_consent(
    client, routed, report_shared, dr_lee, intake_kim, emp_jo
):
    client.force_login(intake_kim)
    with routed():
        client.post(
            f"/clients/{report_shared.pk}/entries/",
            {"category": "mental_health", "kind": "note", "title": "Session 2 notes"},
        )
    assert Entry.objects.filter(title="Session 2 notes").exists()
    client.force_login(dr_lee)
    assert "New entry: Session 2 notes" in html_of(client.get("/"))
    client.force_login(emp_jo)
    html = html_of(client.get("/"))
    assert "Session 2 notes" not in html and "content withheld" in html


def test_the_refer_form_comes_when_its_panel_opens(client, ana, dr_lee, intake_hal):
    """The client page holds a panel that fetches the form; the form, fetched by
    htmx, is the form alone (services and their waits, nothing of the record,
    no access event); without htmx it is a page naming the client, audited as
    a read of the record."""
    client.force_login(dr_lee)
    page = html_of(client.get(f"/clients/{ana.pk}/"))
    assert f'hx-get="/clients/{ana.pk}/referrals/"' in page
    assert f'<a href="/clients/{ana.pk}/referrals/">' in page
    assert 'name="refer-reason"' not in page
    reads = AccessEvent.objects.filter(client=ana, actor=dr_lee, action="client.read")
    before = reads.count()
    fragment = client.get(
        f"/clients/{ana.pk}/referrals/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="div#refer-form"
    )
    assert fragment.status_code == 200
    html = html_of(fragment)
    assert "<html" not in html and "Silva" not in html
    assert 'name="refer-reason"' in html and "Send referral" in html
    assert f'<option value="{intake_hal.organization_id}"' in html
    assert reads.count() == before
    own_page = client.get(f"/clients/{ana.pk}/referrals/")
    assert own_page.status_code == 200
    assert "<h1>Refer Ana Silva</h1>" in html_of(own_page)
    assert reads.count() == before + 1


def test_the_refer_form_is_404_off_the_case(client, ana, outsider):
    client.force_login(outsider)
    for headers in ({}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "div#refer-form"}):
        response = client.get(f"/clients/{ana.pk}/referrals/", **headers)
        assert response.status_code == 404
        assert "Silva" not in html_of(response)


def test_without_javascript_the_chosen_organizations_services_are_listed_on_request(
    client, ana, dr_lee, intake_hal
):
    """The "Show the chosen organization's services" button sends the form to
    list them: it comes back as typed, with no error, and nothing is sent."""
    shelter = Service.objects.create(organization=intake_hal.organization, name="Shelter beds")
    elsewhere = Service.objects.create(organization=dr_lee.organization, name="Walk-in")
    client.force_login(dr_lee)
    form = html_of(client.get(f"/clients/{ana.pk}/referrals/"))
    assert "Show the chosen organization's services" in form
    assert f'value="{shelter.pk}"' not in form
    response = client.post(
        f"/clients/{ana.pk}/referrals/",
        {
            "refer-to_organization": intake_hal.organization_id,
            "refer-reason": "Typed before choosing a service.",
            "show_services": "1",
        },
    )
    assert response.status_code == 200
    html = html_of(response)
    assert f'value="{shelter.pk}"' in html and "Shelter beds" in html
    assert f'value="{elsewhere.pk}"' not in html
    assert "Typed before choosing a service.</textarea>" in html
    assert "This field is required" not in html and 'class="errorlist' not in html
    assert not Referral.objects.exists()


def test_the_redirect_form_lists_the_chosen_organizations_services(
    client, routed, ana, dr_lee, intake_hal, emp_jo, outsider
):
    referral = web_refer(client, routed, dr_lee, ana, intake_hal.organization)
    with routed():
        services.decline_referral(provider=intake_hal, referral=referral, reason="No room.")
    coaching = Service.objects.create(organization=emp_jo.organization, name="Job coaching")
    client.force_login(dr_lee)
    page = html_of(client.get(f"/referrals/{referral.pk}/"))
    assert "Send Ana elsewhere" in page and f'value="{coaching.pk}"' not in page
    url = f"/referrals/{referral.pk}/redirect/"
    assert f'hx-get="{url}"' in page
    fragment = client.get(
        url,
        {"redirect-to_organization": emp_jo.organization_id},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="div#id_redirect-service",
    )
    assert fragment.status_code == 200
    assert f'value="{coaching.pk}"' in html_of(fragment) and "<html" not in html_of(fragment)
    assert client.get(url).status_code == 302  # without htmx: the referral page
    listed = client.post(
        url, {"redirect-to_organization": emp_jo.organization_id, "show_services": "1"}
    )
    assert listed.status_code == 200 and f'value="{coaching.pk}"' in html_of(listed)
    assert not Referral.objects.filter(redirected_from=referral).exists()
    client.force_login(outsider)
    assert (
        client.get(
            url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="div#id_redirect-service"
        ).status_code
        == 404
    )
