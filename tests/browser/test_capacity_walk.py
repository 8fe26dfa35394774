"""The issue's "done when", in Chromium on the loaded demo: Ana's doctor sees
on the referral form that the centre's counselling service waits N weeks and
is growing (housing shown but closed); the centre's intake worker finds the
warning in the inbox, the climbing chart and its table, the queue, and closes
intake with one click; every page passes axe and reads at 390 px."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from capacity.selectors import service_wait
from records.models import Client, Service
from tests.browser.conftest import assert_accessible, screenshot
from tests.browser.test_demo_walk import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("in_process_routing")]


@pytest.fixture
def demo(live_server):
    call_command("load_demo", stdout=open("/dev/null", "w"))
    return live_server.url


def test_waits_from_the_referral_form_to_the_intake_queue(new_page, demo):
    base = demo
    ana = Client.objects.get(given_name="Ana")
    counselling = Service.objects.get(name="Adult counselling")
    wait = service_wait(counselling)
    assert wait.growing

    lee = sign_in(new_page, base, "dr_lee")
    lee.goto(f"{base}/clients/{ana.pk}/")
    lee.locator("#referrals summary").click()
    # The form lists an organization's services, with their waits, once it is chosen.
    refer_to = lee.locator("#referrals").get_by_label("Refer to")
    refer_to.select_option(label="Eastside Community Mental Health")
    choice = lee.get_by_role("group", name="Eastside Community Mental Health")
    option = choice.get_by_label(re.compile("^Adult counselling"))
    expect(option).to_be_enabled()
    weeks = round(wait.median_wait_days / 7)
    expect(choice).to_contain_text(
        f"Median wait {wait.median_wait_days} days (about {weeks} weeks)"
    )
    expect(choice).to_contain_text("growing")
    assert_accessible(lee, "referral form with services")
    refer_to.select_option(label="Harbour Supportive Housing")
    housing = lee.get_by_role("group", name="Harbour Supportive Housing")
    expect(housing.get_by_label(re.compile("^Supportive housing"))).to_be_disabled()
    expect(housing).to_contain_text("Not accepting referrals now")
    expect(choice).to_have_count(0)  # only the chosen organization's services
    assert_accessible(lee, "referral form with a closed service")
    screenshot(lee, "referral-services")

    kim = sign_in(new_page, base, "intake_kim")
    kim.goto(f"{base}/inbox/")
    warning = kim.get_by_role("link", name=re.compile("The queue of Adult counselling"))
    expect(warning).to_be_visible()
    warning.click()
    expect(kim.get_by_role("heading", name="Adult counselling", level=1)).to_be_visible()
    expect(kim.get_by_role("img", name=re.compile("arrived and left per week"))).to_be_visible()
    expect(kim.locator("#history-table tbody tr")).to_have_count(26)
    assert_accessible(kim, "service page")
    screenshot(kim, "service-history")

    kim.get_by_role("link", name="Queue").click()
    expect(kim.get_by_role("heading", name=f"Waiting ({wait.waiting})")).to_be_visible()
    kim.get_by_role("button", name="Close intake of Adult counselling").click()
    expect(kim.locator("#intake-toggle")).to_contain_text("Not accepting referrals")
    expect(kim.get_by_role("button", name="Open intake of Adult counselling")).to_be_visible()
    counselling.refresh_from_db()
    assert counselling.accepting_referrals is False
    assert_accessible(kim, "service queue")

    kim.goto(f"{base}/services/")
    expect(kim.get_by_role("heading", name="Waits across the network")).to_be_visible()
    first = kim.locator("table.directory tbody tr").first
    expect(first).to_contain_text("Growing")
    assert_accessible(kim, "services directory")
    screenshot(kim, "services-directory")

    # A phone: the service page fits 390 px without sideways scrolling.
    phone = kim.context.browser.new_context(viewport={"width": 390, "height": 844})
    try:
        small = phone.new_page()
        small.goto(f"{base}/accounts/login/")
        small.get_by_label("Username").fill("intake_kim")
        small.get_by_label("Password").fill("carelink-demo")
        small.get_by_role("button", name="Sign in").click()
        small.goto(f"{base}/services/{counselling.pk}/")
        overflow = small.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the service page scrolls sideways by {overflow}px at 390 px"
        assert_accessible(small, "service page at 390 px")
        screenshot(small, "service-history-phone")
    finally:
        phone.close()
