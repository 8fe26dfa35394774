"""The README's walk, on the demo `make demo` loads: a newcomer signs in with the
printed logins and follows Ana's story end to end without touching the API."""

import datetime
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from carelink.management.commands.load_demo import DEMO_PASSWORD
from records.models import Client

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("in_process_routing")]

REPORT_TITLE = "Housing intake: shared flat near the centre"


@pytest.fixture
def demo(live_server, settings):
    settings.CARELINK_REQUIRE_2FA = False  # as make demo's .env
    call_command("load_demo", stdout=open("/dev/null", "w"))
    return live_server.url


def sign_in(new_page, base: str, username: str) -> Page:
    page = new_page()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    return page


def test_readme_walk_through_anas_story(new_page, demo):
    base = demo
    ana = Client.objects.get(given_name="Ana")

    # Her family doctor refers her to the housing program, sharing housing notes.
    lee = sign_in(new_page, base, "dr_lee")
    lee.get_by_role("link", name="Silva, Ana").click()
    expect(lee.get_by_role("heading", name="Ana Silva", level=1)).to_be_visible()
    lee.get_by_text("Refer Ana").click()
    refer = lee.locator("#referrals")
    refer.get_by_label("Refer to").select_option(label="Harbour Supportive Housing")
    refer.get_by_label("Routine").check()
    refer.get_by_label("Reason for referral").fill("Ana's lease ends next month; needs housing.")
    refer.get_by_role("group", name="The client agrees to share with them").get_by_label(
        "Housing"
    ).check()
    refer.get_by_role("button", name="Send referral").click()
    expect(lee.locator("#referral-status")).to_have_text("Sent")

    # The housing intake worker accepts, schedules and files the intake report.
    hana = sign_in(new_page, base, "intake_harbour")
    queue = hana.locator("section", has=hana.get_by_role("heading", name="Incoming referrals"))
    queue.get_by_role("link", name="Ana Silva").click()
    hana.get_by_role("button", name="Accept referral").click()
    expect(hana.locator("#referral-status")).to_have_text("Accepted")
    appointment = datetime.datetime.now() + datetime.timedelta(days=3)
    hana.get_by_label("Appointment").fill(appointment.strftime("%Y-%m-%dT%H:%M"))
    hana.get_by_role("button", name="Save appointment").click()
    expect(hana.locator("#referral-status")).to_have_text("Scheduled")
    hana.get_by_text("File the intake report").click()
    hana.get_by_label("Report title").fill(REPORT_TITLE)
    hana.get_by_label("Intake report").fill("Eligible for a supported flat; move-in in May.")
    hana.get_by_label("Category").select_option("housing")
    # The appointment is still ahead: the page asks to confirm completing now.
    hana.get_by_label("The appointment has not taken place yet").check()
    hana.get_by_role("button", name="File report and complete").click()
    expect(hana.locator("#referral-status")).to_have_text("Completed")
    # Housing sees housing, not Ana's mental-health or substance-use notes.
    hana.goto(f"{base}/clients/{ana.pk}/")
    expect(hana.locator("#withheld-notice")).to_contain_text("not shown because of the client")
    assert "PHQ-9" not in hana.locator("body").inner_text()

    # The doctor hears back at once; the report's content is withheld, as Ana shares
    # housing notes with the housing program, not with her doctor...
    lee.goto(f"{base}/")
    inbox = lee.locator("#dashboard-inbox")
    expect(inbox).to_contain_text("Intake report from Harbour Supportive Housing")
    expect(inbox).to_contain_text("content withheld")
    expect(inbox).not_to_contain_text(REPORT_TITLE)
    # ...until she agrees to, and her doctor records it: the next read shows it.
    lee.goto(f"{base}/clients/{ana.pk}/")
    lee.get_by_text("Record the client's decision").click()
    consent = lee.locator("#consent")
    consent.get_by_label("Permit: share").check()
    consent.get_by_label("With whom").select_option(label="Riverside Family Practice")
    consent.get_by_role("group", name="Which parts of the record").get_by_label("Housing").check()
    consent.get_by_role("button", name="Record decision").click()
    expect(lee.get_by_role("status")).to_contain_text("decision to permit was recorded")
    expect(lee.locator("#timeline")).to_contain_text(REPORT_TITLE)
    lee.goto(f"{base}/")
    expect(lee.locator("#dashboard-inbox")).to_contain_text(REPORT_TITLE)

    # The employment counsellor sees the withheld notice and no mental-health content.
    jo = sign_in(new_page, base, "emp_jo")
    jo.goto(f"{base}/clients/{ana.pk}/")
    expect(jo.locator("#withheld-notice")).to_have_text(
        re.compile(r"\d+ entries are not shown because of the client's consent directives\.")
    )
    body = jo.locator("body").inner_text()
    for secret in ("PHQ-9", "Sertraline", "Alcohol", "CBT"):
        assert secret not in body

    # The privacy officer reads who looked at Ana's record.
    pat = sign_in(new_page, base, "privacy_pat")
    pat.goto(f"{base}/clients/{ana.pk}/access-log/")
    log = pat.get_by_role("table")
    expect(log).to_contain_text("Hana Ito")
    expect(log).to_contain_text("Completed a referral")  # in words, not codes
