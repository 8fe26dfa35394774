"""The provider web app in a real browser: the referral loop of the README's Ana
story, consent as each provider sees it, the access log, and accessibility.

Run: .venv/bin/python -m pytest tests/browser -m browser
"""

import datetime
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from consent import services as consent_services
from records import services as record_services
from records.models import Entry
from referrals.models import Referral
from tests.browser.conftest import assert_accessible, screenshot
from tests.factories import ClientFactory, EntryFactory, OrganizationFactory, ProviderFactory

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("in_process_routing")]

PASSWORD = "correct horse battery staple"
MENTAL_HEALTH_TITLE = "PHQ-9 of 17: moderately severe depression"
REPORT_TITLE = "Intake assessment: CBT weekly with Dr. Moreau"


@pytest.fixture
def story(live_server, settings):
    """Ana: her family doctor, the community mental-health centre's
    intake worker and privacy officer, her employment counsellor, an outsider."""
    # These journeys are about the record; the second factor has its own
    # (tests/browser/test_second_factor.py).
    settings.CARELINK_REQUIRE_2FA = False
    practice = OrganizationFactory(name="Riverside Family Practice", sector="primary_care")
    centre = OrganizationFactory(name="Eastside Community Mental Health", sector="mental_health")
    work = OrganizationFactory(name="WorkBridge Employment", sector="employment")
    people = {
        "dr_lee": ProviderFactory(
            username="dr_lee", full_name="Dr. Daniel Lee", organization=practice
        ),
        "intake_kim": ProviderFactory(
            username="intake_kim", full_name="Kim Park", organization=centre, role="intake_worker"
        ),
        "privacy_pat": ProviderFactory(
            username="privacy_pat",
            full_name="Pat Okafor",
            organization=centre,
            role="privacy_officer",
        ),
        "emp_jo": ProviderFactory(username="emp_jo", full_name="Jo Martin", organization=work),
        "admin_ria": ProviderFactory(
            username="admin_ria", full_name="Ria Das", organization=practice, role="org_admin"
        ),
    }
    dr_lee, emp_jo = people["dr_lee"], people["emp_jo"]
    ana = ClientFactory(
        given_name="Ana",
        family_name="Silva",
        birth_date=datetime.date(1991, 3, 8),
        health_card_number="4321-876-509",
        registered_by=dr_lee,
    )
    record_services.add_to_care_team(ana, emp_jo)
    EntryFactory(
        client=ana,
        author=dr_lee,
        category="mental_health",
        kind="assessment",
        title=MENTAL_HEALTH_TITLE,
        body="Low mood for six months, poor sleep. No safety concerns today.",
    )
    EntryFactory(
        client=ana,
        author=dr_lee,
        category="medications",
        kind="medication",
        title="Sertraline 50 mg daily",
        body="Started today; review in four weeks.",
    )
    EntryFactory(
        client=ana,
        author=emp_jo,
        category="employment",
        kind="care_plan",
        title="Return-to-work plan: part-time from next month",
        body="Three mornings a week at first.",
    )
    consent_services.record_consent(
        provider=dr_lee,
        client=ana,
        effect="permit",
        grantee_sector="employment",
        categories=["employment"],
    )
    for given, family in (("Marcus", "Bell"), ("Leo", "Tran")):
        ClientFactory(given_name=given, family_name=family, registered_by=dr_lee)
    consent_services.save_consent_policy(
        name="Mental-health team sharing",
        description="Share clinical notes with every mental-health service on the case.",
        rules=[
            {
                "effect": "permit",
                "grantee_sector": "mental_health",
                "categories": ["mental_health", "medications"],
            },
            {"effect": "deny", "grantee_sector": "employment", "categories": ["mental_health"]},
        ],
    )
    return {"ana": ana, "centre": centre, "url": live_server.url, **people}


def sign_in(new_page: Callable[[], Page], story: dict, username: str) -> Page:
    page = new_page()
    page.goto(f"{story['url']}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    return page


def test_wrong_password_shows_an_error(new_page, story):
    page = new_page()
    page.goto(f"{story['url']}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    assert_accessible(page, "login")
    screenshot(page, "login")
    page.get_by_label("Username").fill("dr_lee")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_ana_referral_loop(new_page, story):
    ana = story["ana"]
    base = story["url"]

    # The family doctor records Ana's consent and refers her to the centre.
    lee = sign_in(new_page, story, "dr_lee")
    lee.get_by_role("link", name="Clients").click()
    expect(lee.locator("#client-results")).to_contain_text("Tran, Leo")
    # Live search (htmx): the results narrow as one types, without submitting.
    lee.get_by_label("Search by name, birth date").fill("silva")
    expect(lee.locator("#client-results")).not_to_contain_text("Tran, Leo")
    expect(lee).to_have_url(re.compile(r"/clients/\?q=silva$"))
    lee.get_by_role("link", name="Silva, Ana").click()
    expect(lee.get_by_role("heading", name="Ana Silva", level=1)).to_be_visible()
    expect(lee.locator("#timeline")).to_contain_text(MENTAL_HEALTH_TITLE)
    # The timeline filter swaps the timeline only (htmx).
    lee.get_by_label("Show category").select_option("medications")
    expect(lee.locator("#timeline")).not_to_contain_text(MENTAL_HEALTH_TITLE)
    expect(lee.locator("#timeline")).to_contain_text("Sertraline 50 mg daily")
    lee.get_by_label("Show category").select_option("")

    lee.get_by_text("Record the client's decision").click()
    consent = lee.locator("#consent")
    consent.get_by_label("Permit: share").check()
    consent.get_by_label("With whom").select_option(label="Every primary care service")
    consent.get_by_role("group", name="Which parts of the record").get_by_label(
        "Mental health"
    ).check()
    consent.get_by_role("button", name="Record decision").click()
    expect(lee.get_by_role("status")).to_contain_text("decision to permit was recorded")

    lee.get_by_text("Refer Ana").click()
    refer = lee.locator("#referrals")
    refer.get_by_label("Refer to").select_option(label="Eastside Community Mental Health")
    refer.get_by_label("Urgent").check()
    refer.get_by_label("Reason for referral").fill(
        "Depression, started sertraline; would benefit from CBT. Please see soon."
    )
    refer.get_by_role("group", name="The client agrees to share with them").get_by_label(
        "Mental health"
    ).check()
    refer.get_by_role("button", name="Send referral").click()
    expect(lee.locator("#referral-status")).to_have_text("Sent")
    referral = Referral.objects.get(client=ana)
    assert referral.urgency == "urgent"

    # The intake worker finds it in the queue, accepts, schedules and files the report.
    kim = sign_in(new_page, story, "intake_kim")
    queue = kim.locator("section", has=kim.get_by_role("heading", name="Incoming referrals"))
    expect(queue).to_contain_text("Riverside Family Practice")
    queue.get_by_role("link", name="Ana Silva").click()
    expect(kim.get_by_text("the record opens to your organization when you accept")).to_be_visible()
    kim.get_by_role("button", name="Accept referral").click()
    expect(kim.locator("#referral-status")).to_have_text("Accepted")
    # Six days and two hours after sending: the wait is 6 whole days.
    appointment = datetime.datetime.now() + datetime.timedelta(days=6, hours=2)
    kim.get_by_label("Appointment").fill(appointment.strftime("%Y-%m-%dT%H:%M"))
    kim.get_by_role("button", name="Save appointment").click()
    expect(kim.locator("#referral-status")).to_have_text("Scheduled")
    kim.get_by_text("File the intake report").click()
    kim.get_by_label("Report title").fill(REPORT_TITLE)
    kim.get_by_label("Intake report").fill(
        "Met Ana. Moderate depression. Weekly CBT for 12 weeks; review medication with GP."
    )
    # The appointment is still ahead: the page asks to confirm completing now.
    kim.get_by_label("The appointment has not taken place yet").check()
    kim.get_by_role("button", name="File report and complete").click()
    expect(kim.locator("#referral-status")).to_have_text("Completed")
    assert Entry.objects.get(title=REPORT_TITLE).kind == "intake_report"
    assert_accessible(kim, "referral page")
    kim.goto(f"{base}/referrals/?direction=incoming")
    expect(kim.get_by_role("table")).to_contain_text("Completed")
    assert_accessible(kim, "referral list")

    # The family doctor hears back: in the inbox and on Ana's timeline.
    lee.goto(f"{base}/")
    inbox = lee.locator("#dashboard-inbox")
    expect(inbox).to_contain_text("Intake report from Eastside Community Mental Health")
    expect(inbox).to_contain_text(REPORT_TITLE)
    assert_accessible(lee, "dashboard")
    screenshot(lee, "dashboard")
    # Marking one read swaps that item in place (htmx), the rest stay unread.
    inbox.locator("li").filter(has_text="accepted the referral").get_by_role(
        "button", name=re.compile("^Mark as read")
    ).click()
    expect(inbox.locator("li").filter(has_text="accepted the referral")).to_contain_text("Read")
    expect(lee.get_by_role("heading", name="Dashboard")).to_have_count(1)
    lee.goto(f"{base}/referrals/{referral.pk}/")
    # The wait says what it measures: the appointment is six days ahead of now
    # (the contract's wait_days, 6, counts from sending to the appointment).
    expect(lee.locator("#referral-wait")).to_have_text(re.compile(r"^Appointment in [56] days$"))
    expect(lee.locator("#shared-categories")).to_be_visible()
    screenshot(lee, "referral")
    lee.goto(f"{base}/clients/")
    assert_accessible(lee, "client search")
    lee.goto(f"{base}/clients/{ana.pk}/")
    expect(lee.locator("#timeline")).to_contain_text(REPORT_TITLE)
    expect(lee.locator("#timeline")).to_contain_text("Intake report")
    assert_accessible(lee, "client page")
    screenshot(lee, "client")
    lee.set_viewport_size({"width": 820, "height": 1180})  # a tablet, portrait
    screenshot(lee, "client-tablet")
    lee.set_viewport_size({"width": 1280, "height": 860})
    lee.goto(f"{base}/consent-policies/")
    assert_accessible(lee, "consent policies")

    # The employment counsellor: the withheld notice, and no mental-health content.
    jo = sign_in(new_page, story, "emp_jo")
    jo.goto(f"{base}/clients/{ana.pk}/")
    notice = jo.locator("#withheld-notice")
    expect(notice).to_have_text(
        "3 entries are not shown because of the client's consent directives."
    )
    expect(jo.locator("#timeline")).to_contain_text("Return-to-work plan")
    body = jo.locator("body").inner_text()
    for secret in (MENTAL_HEALTH_TITLE, "PHQ-9", "Sertraline", REPORT_TITLE, "CBT"):
        assert secret not in body
    screenshot(jo, "client-withheld")
    # An emergency: Jo breaks the glass, with a reason, and sees everything for a while.
    jo.locator("#emergency summary").click()
    jo.get_by_label("Reason for emergency access").fill("too short")
    jo.get_by_role("button", name="Break the glass").click()
    expect(jo.get_by_label("Reason for emergency access")).to_have_attribute("aria-invalid", "true")
    expect(jo.locator("#id_reason_error")).to_contain_text("at least 20 characters")
    jo.get_by_label("Reason for emergency access").fill(
        "Ana collapsed at the job site; paramedics ask about her medications."
    )
    jo.get_by_role("button", name="Break the glass").click()
    expect(jo.locator("#emergency-active")).to_contain_text("Emergency access is active until")
    expect(jo.locator("#timeline")).to_contain_text("Sertraline 50 mg daily")

    # The centre's privacy officer reads Ana's access log.
    pat = sign_in(new_page, story, "privacy_pat")
    pat.goto(f"{base}/clients/{ana.pk}/")
    pat.get_by_role("link", name="Access log").click()
    log = pat.get_by_role("table")
    expect(log).to_contain_text("Jo Martin")
    # In plain words, not codes.
    expect(log).to_contain_text("Read the record")
    expect(log).to_contain_text("Completed a referral")
    expect(log).to_contain_text("Broke the glass")
    expect(log).not_to_contain_text("emergency_access.grant")
    expect(pat.locator("tr.emergency-row").first).to_contain_text("Jo Martin")
    assert_accessible(pat, "access log")
    screenshot(pat, "access-log")

    # The organization admin's providers page.
    ria = sign_in(new_page, story, "admin_ria")
    ria.get_by_role("link", name="Providers").click()
    expect(ria.get_by_role("table")).to_contain_text("Dr. Daniel Lee")
    assert_accessible(ria, "providers")
