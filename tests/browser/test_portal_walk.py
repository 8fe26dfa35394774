"""The client portal's "done when", in Chromium on the loaded demo, on a phone
(390 px): Ana signs in, sees that her employment counsellor read her record
yesterday, stops sharing her general-health notes with the employment service
— and the counsellor's next page shows them withheld — finds her counselling
referral with its expected wait, and answers the survey once. Every portal
page is axe-clean, fits 390 px without sideways scrolling, and every control
on it is reached with the Tab key."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from carelink.management.commands.load_demo import DEMO_PASSWORD, PORTAL_USERNAME
from portal.models import ExperienceAnswer
from records.models import Client, Service
from tests.browser.conftest import assert_accessible, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("in_process_routing")]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo(live_server, settings):
    settings.CARELINK_REQUIRE_2FA = False  # as make demo's .env
    call_command("load_demo", stdout=open("/dev/null", "w"))
    return live_server.url


@pytest.fixture
def phone(chromium, live_server):
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


# Every control a keyboard should reach: one stop per radio group (the browser's
# own rule: arrows move within a group), skipping what is hidden.
_CONTROLS = """() => {
    const seen = new Set();
    const out = [];
    for (const el of document.querySelectorAll(
        'a[href], button, input:not([type=hidden]), select, textarea, [tabindex="0"]')) {
        if (el.disabled || el.closest('[hidden]') || !el.getClientRects().length) continue;
        const style = getComputedStyle(el);
        if (style.visibility === 'hidden' || style.display === 'none') continue;
        const key = el.type === 'radio' ? 'radio:' + el.name : el;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(el);
    }
    return out.length;
}"""
_MARK_FOCUS = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const key = el.type === 'radio' ? 'radio:' + el.name : null;
    if (!el.dataset.tabbed) { el.dataset.tabbed = key || '1'; }
    if (key) document.querySelectorAll('input[name="' + el.name + '"]')
        .forEach(r => { r.dataset.tabbed = key; });
    return true;
}"""
_REACHED = """() => {
    const groups = new Set();
    let n = 0;
    for (const el of document.querySelectorAll('[data-tabbed]')) {
        if (el.type === 'radio') { groups.add(el.name); } else { n += 1; }
    }
    return n + groups.size;
}"""


def check_portal_page(page: Page, name: str) -> None:
    """axe clean, no sideways scroll at 390 px, every control reached by Tab."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at 390 px"
    assert_accessible(page, name)
    controls = page.evaluate(_CONTROLS)
    page.locator("body").focus()
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(controls + 10):
        page.keyboard.press("Tab")
        page.evaluate(_MARK_FOCUS)
    reached = page.evaluate(_REACHED)
    assert reached >= controls, f"{name}: Tab reaches {reached} of {controls} controls"
    # Large targets: every button and button-like link is at least 44 px tall.
    small = page.evaluate(
        """() => [...document.querySelectorAll('main .button, main button')]
            .filter(el => el.getClientRects().length && el.getBoundingClientRect().height < 44)
            .map(el => el.textContent.trim())"""
    )
    assert not small, f"{name}: targets under 44 px: {small}"


def test_ana_on_her_phone(new_page, phone, demo):
    base = demo
    ana = Client.objects.get(given_name="Ana", family_name="Silva")

    # Before: the counsellor sees the general-health note Ana shares with WorkBridge.
    jo = new_page()
    sign_in(jo, base, "emp_jo")
    jo.goto(f"{base}/clients/{ana.pk}/")
    expect(jo.locator("#timeline")).to_contain_text("Fit for part-time work")
    withheld_before = int(re.match(r"\d+", jo.locator("#withheld-notice").inner_text()).group(0))

    # Ana signs in with the printed login and lands on her portal.
    sign_in(phone, base, PORTAL_USERNAME)
    expect(phone.get_by_role("heading", name="Hello, Ana", level=1)).to_be_visible()
    expect(phone.get_by_role("navigation", name="Your portal")).to_be_visible()
    expect(phone.get_by_role("navigation", name="Main")).to_have_count(0)
    check_portal_page(phone, "portal home")
    screenshot(phone, "portal-home-phone")

    # Who looked: the employment counsellor read her record yesterday.
    phone.get_by_role("link", name="Who looked").click()
    expect(phone.get_by_role("heading", name="Who looked at your record")).to_be_visible()
    yesterday = timezone.localdate() - timedelta(days=1)
    day = phone.locator("ol", has=phone.get_by_text("Jo Martin"))
    expect(phone.get_by_role("list", name="Yesterday")).to_contain_text(
        "Jo Martin at WorkBridge Employment Services read your record — "
        f"{yesterday.day} {yesterday:%b}, 14:10"
    )
    assert day.count() >= 1
    check_portal_page(phone, "who looked")
    screenshot(phone, "portal-who-looked-phone")

    # Sharing: stop sharing general health with the employment service, after a
    # confirmation that says what will change.
    phone.get_by_role("link", name="Sharing", exact=True).click()
    expect(phone.get_by_role("heading", name="Who can see what", level=1)).to_be_visible()
    check_portal_page(phone, "sharing choices")
    screenshot(phone, "portal-sharing-phone")
    phone.get_by_role(
        "link", name="Stop sharing general health with WorkBridge Employment Services"
    ).click()
    expect(phone.locator("#changes")).to_have_text(
        "WorkBridge Employment Services will no longer see your general health notes."
    )
    check_portal_page(phone, "sharing confirmation")
    screenshot(phone, "portal-confirm-phone")
    phone.get_by_role("button", name="Yes, stop sharing").click()
    expect(phone.get_by_role("status")).to_contain_text(
        "WorkBridge Employment Services will no longer see your general health notes."
    )
    place = phone.get_by_role("region", name="WorkBridge Employment Services")
    expect(
        place.get_by_role("link", name="Share general health with WorkBridge Employment Services")
    ).to_be_visible()

    # The counsellor's next page: the general-health notes are withheld.
    jo.reload()
    expect(jo.locator("#timeline")).not_to_contain_text("Fit for part-time work")
    withheld_after = int(re.match(r"\d+", jo.locator("#withheld-notice").inner_text()).group(0))
    assert withheld_after == withheld_before + 2  # her two general-health notes

    # Referrals: counselling, waiting, with the expected wait as a range.
    phone.get_by_role("link", name="Referrals", exact=True).click()
    counselling = phone.get_by_role("region", name="Adult counselling")
    expect(counselling).to_contain_text("Accepted. You are on their waiting list.")
    expect(counselling.locator(".expected-wait")).to_contain_text(
        re.compile(r"Most people wait \d+ to \d+ weeks\.")
    )
    check_portal_page(phone, "referrals")
    screenshot(phone, "portal-referrals-phone")

    # How did it go? The three questions, with the keyboard, once.
    coaching = phone.get_by_role("region", name="Supported employment")
    coaching.get_by_role("link", name=re.compile("How did it go")).click()
    expect(phone.get_by_role("heading", name="How did it go?")).to_be_visible()
    check_portal_page(phone, "survey")
    screenshot(phone, "portal-survey-phone")
    phone.get_by_label("No, they already knew it").focus()
    phone.keyboard.press("Space")
    phone.keyboard.press("Tab")  # the next question's first answer
    for _ in range(3):
        phone.keyboard.press("ArrowDown")  # 1 → 4
    phone.keyboard.press("Tab")
    for _ in range(4):
        phone.keyboard.press("ArrowDown")  # 1 → 5
    phone.keyboard.press("Tab")
    expect(phone.get_by_role("button", name="Send my answers")).to_be_focused()
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("status")).to_contain_text("Thank you")
    answer = ExperienceAnswer.objects.get(referral__client=ana)
    assert (answer.repeated_story, answer.kept_informed, answer.overall) == (False, 4, 5)
    survey_url = f"{base}/portal/referrals/{answer.referral_id}/how-did-it-go/"
    phone.goto(survey_url)
    expect(phone.locator("#experience-closed")).to_contain_text("You can answer only once.")
    expect(phone.get_by_role("button", name="Send my answers")).to_have_count(0)
    assert ExperienceAnswer.objects.filter(referral__client=ana).count() == 1

    # The email setting.
    phone.get_by_role("link", name="Emails").click()
    expect(phone.locator("#notices-state")).to_contain_text("you do not get these emails")
    check_portal_page(phone, "emails")
    phone.get_by_label("Yes, email me").check()
    phone.get_by_role("button", name="Save my choice").click()  # htmx swaps the choice
    expect(phone.locator("#notices-choice [role=status]")).to_have_text(
        "Saved. You will get emails about your referrals."
    )
    expect(phone.locator("#notices-state")).to_contain_text("you get these emails")
    assert_accessible(phone, "emails after saving")


def test_a_handout_opens_marcus_account_on_his_phone(new_page, phone, demo, settings):
    base = demo
    settings.CARELINK_BASE_URL = base
    marcus = Client.objects.get(given_name="Marcus")

    cho = new_page()
    sign_in(cho, base, "dr_cho")
    cho.goto(f"{base}/clients/{marcus.pk}/")
    panel = cho.locator("#portal")
    expect(panel).to_contain_text("The client has no portal account yet.")
    panel.get_by_role("button", name="Invite to the portal").click()
    expect(cho.get_by_role("heading", name="Your CareLink account, Marcus")).to_be_visible()
    expect(cho.locator(".handout")).to_contain_text(f"{base}/portal/activate/")
    code = cho.locator("#invite-code").inner_text()
    assert_accessible(cho, "invitation handout")
    cho.emulate_media(media="print")
    expect(cho.locator(".site-header")).to_be_hidden()
    expect(cho.locator(".handout")).to_be_visible()
    screenshot(cho, "portal-handout-print")
    cho.emulate_media(media="screen")

    phone.goto(f"{base}/portal/activate/")
    check_portal_page(phone, "activation")
    phone.get_by_label("Your code").fill("WRNG-CODE-HERE")
    phone.get_by_label("Your birth date").fill("1985-09-02")
    phone.get_by_label("Choose a username").fill("marcus_b")
    phone.get_by_label(re.compile("^Choose a password")).fill("harbour house 2024")
    phone.get_by_label("Type the password again").fill("harbour house 2024")
    phone.get_by_role("button", name="Open my account").click()
    expect(phone.locator("#activate-errors")).to_contain_text("do not open an account")
    assert_accessible(phone, "activation with an error")
    phone.get_by_label("Your code").fill(code)
    phone.get_by_label(re.compile("^Choose a password")).fill("harbour house 2024")
    phone.get_by_label("Type the password again").fill("harbour house 2024")
    phone.get_by_role("button", name="Open my account").click()
    expect(phone.get_by_role("status")).to_contain_text("Your account is ready")
    phone.get_by_label("Username").fill("marcus_b")
    phone.get_by_label("Password").fill("harbour house 2024")
    phone.get_by_role("button", name="Sign in").click()
    expect(phone.get_by_role("heading", name="Hello, Marcus")).to_be_visible()
    # Emails need an address first: the refusal shows in place (htmx swaps the 400).
    phone.get_by_role("link", name="Emails").click()
    phone.get_by_label("Yes, email me").check()
    phone.get_by_role("button", name="Save my choice").click()
    expect(phone.locator("#notices-choice")).to_contain_text("Give your email address first.")
    assert_accessible(phone, "emails with an error")

    cho.goto(f"{base}/clients/{marcus.pk}/")
    expect(cho.locator("#portal")).to_contain_text("The client has a portal account.")


def test_the_services_pages_show_what_clients_said(new_page, demo):
    base = demo
    counselling = Service.objects.get(name="Adult counselling")
    kim = new_page()
    sign_in(kim, base, "intake_kim")
    kim.goto(f"{base}/services/{counselling.pk}/")
    figures = kim.get_by_role("region", name="What clients said")
    expect(figures).to_contain_text(re.compile(r"Overall\s*\d\.\d out of 5"))
    assert_accessible(kim, "service page with experience")
    kim.goto(f"{base}/services/")
    expect(kim.locator("table.directory")).to_contain_text("Not enough answers yet")
    assert_accessible(kim, "services directory with experience")
