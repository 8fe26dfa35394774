"""Issue 13 in a real browser: what a new user missed, role by role — minimum
necessary for a privacy officer, joining by matching, the care team, amending
and folding entries, redirecting a declined referral, the idle-logoff warning,
a note kept across an expired session, the privacy desk, 390 px screens.

Run: .venv/bin/python -m pytest tests/browser -m browser
"""

import re
from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from playwright.sync_api import Page, expect

from consent.services import grant_emergency_access
from records import services as record_services
from records.models import Entry, Service
from referrals import services as referral_services
from referrals.models import Referral
from tests.browser.conftest import assert_accessible, screenshot
from tests.browser.test_journeys import MENTAL_HEALTH_TITLE, PASSWORD, sign_in, story  # noqa: F401
from tests.factories import OrganizationFactory, ProviderFactory

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("in_process_routing")]

PHONE = 390


@pytest.fixture
def centre_on_team(story):  # noqa: F811
    """The mental-health centre serves Ana (its intake worker on her care team),
    so its privacy officer watches her record."""
    record_services.add_to_care_team(story["ana"], story["intake_kim"])
    return story


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def test_a_privacy_officer_sees_the_client_but_no_entry(new_page, story, centre_on_team):  # noqa: F811
    pat = sign_in(new_page, story, "privacy_pat")
    pat.goto(f"{story['url']}/clients/{story['ana'].pk}/")
    expect(pat.get_by_role("heading", name="Ana Silva", level=1)).to_be_visible()
    expect(pat.locator("#no-entries-for-role")).to_contain_text("you do not read the record")
    body = pat.locator("body").inner_text()
    for content in (MENTAL_HEALTH_TITLE, "Sertraline", "Return-to-work plan"):
        assert content not in body
    expect(pat.get_by_text("Break the glass")).to_have_count(0)
    expect(pat.get_by_role("heading", name="Care team")).to_be_visible()
    expect(pat.get_by_role("heading", name="Consent")).to_be_visible()
    assert_accessible(pat, "client page for a privacy officer")


def test_matching_at_intake_shows_on_the_care_team_and_reaches_the_privacy_officer(
    new_page,
    story,  # noqa: F811
    centre_on_team,
):
    hospital = OrganizationFactory(name="St. Mary's General Hospital", sector="hospital")
    ProviderFactory(username="dr_nguyen", full_name="Dr. Minh Nguyen", organization=hospital)
    ana = story["ana"]
    nguyen = sign_in(new_page, story, "dr_nguyen")
    nguyen.goto(f"{story['url']}/clients/new/")
    nguyen.get_by_label("Given name").fill("Ana")
    nguyen.get_by_label("Family name").fill("SILVA")
    nguyen.get_by_label("Birth date").fill(ana.birth_date.isoformat())
    nguyen.get_by_label("Health card number").fill(ana.health_card_number)
    nguyen.get_by_role("button", name="Register client").click()
    expect(nguyen.get_by_role("status")).to_contain_text("already registered")
    team = nguyen.locator("#care-team")
    expect(team).to_contain_text(re.compile(r"joined at intake by matching, \d{1,2} \w{3}"))

    pat = sign_in(new_page, story, "privacy_pat")
    pat.goto(f"{story['url']}/inbox/")
    expect(pat.locator("main")).to_contain_text(
        "Dr. Minh Nguyen of St. Mary's General Hospital joined the care team by matching"
    )
    assert_accessible(pat, "inbox with care_team_joined")


def test_care_team_amend_fold_and_wrap(new_page, story):  # noqa: F811
    ana = story["ana"]
    ProviderFactory(
        username="dr_moss", full_name="Dr. Ruth Moss", organization=story["dr_lee"].organization
    )
    unbreakable = "https://records.example.org/" + "x" * 240
    record_services.add_entry(
        provider=story["dr_lee"],
        client=ana,
        category="general_health",
        kind="note",
        title="Discharge letter received",
        body=("The hospital sent a long letter. " * 40) + unbreakable,
    )
    lee = sign_in(new_page, story, "dr_lee")
    lee.goto(f"{story['url']}/clients/{ana.pk}/")
    # Add a colleague.
    team = lee.locator("#care-team")
    team.get_by_text("Add a colleague").click()
    team.get_by_label("Colleague").select_option(label="Dr. Ruth Moss")
    team.get_by_role("button", name="Add to the care team").click()
    expect(lee.locator("#care-team")).to_contain_text("added by a colleague")
    # The long entry is folded and its long string wraps inside the card.
    entry = lee.locator("li", has=lee.get_by_role("heading", name="Discharge letter received"))
    expect(entry.locator(".show-more")).to_be_visible()
    entry.locator(".entry-fold > summary").click()
    expect(entry.locator(".show-less")).to_be_visible()
    lee.set_viewport_size({"width": PHONE, "height": 844})
    no_horizontal_scroll(lee)
    lee.set_viewport_size({"width": 1280, "height": 860})
    # Amend it: the original is kept and shown as amended.
    entry.get_by_text("Amend", exact=False).first.click()
    entry.get_by_label("Title").fill("Discharge letter received (from St. Mary's)")
    entry.get_by_role("button", name="Save amendment").click()
    amended = lee.locator("li", has=lee.get_by_role("heading", name=re.compile("from St. Mary")))
    expect(amended).to_contain_text("Amended")
    expect(amended.get_by_text("Earlier version")).to_be_visible()
    assert Entry.objects.filter(title="Discharge letter received").exists()
    assert_accessible(lee, "client page with an amended entry")


def test_redirect_a_declined_referral_and_read_waits_at_390px(new_page, story):  # noqa: F811
    ana, dr_lee = story["ana"], story["dr_lee"]
    housing = OrganizationFactory(name="Harbour Supportive Housing", sector="housing")
    coop = OrganizationFactory(name="Northside Housing Co-op", sector="housing")
    hal = ProviderFactory(organization=housing, role="intake_worker")
    referral = referral_services.refer_client(
        provider=dr_lee,
        client=ana,
        to_organization=housing,
        reason="Eviction notice; needs supported housing.",
        urgency="urgent",
        share_categories=["housing"],
    )
    referral_services.decline_referral(provider=hal, referral=referral, reason="No beds.")
    lee = sign_in(new_page, story, "dr_lee")
    lee.goto(f"{story['url']}/referrals/{referral.pk}/")
    expect(lee.locator("#shared-categories")).to_have_text(re.compile("^Housing"))
    expect(lee.get_by_text("Referral sent to Harbour Supportive Housing")).to_be_visible()
    lee.locator("#redirect").get_by_label("Send it to").select_option(label=coop.name)
    lee.get_by_role("button", name="Redirect the referral").click()
    expect(lee.locator("#referral-status")).to_have_text("Sent")
    expect(lee.locator("main")).to_contain_text("Northside Housing Co-op")
    expect(lee.locator("#shared-categories")).to_have_text(re.compile("^Housing"))
    # The list opens on the referrer's side, and fits a phone.
    lee.set_viewport_size({"width": PHONE, "height": 844})
    lee.goto(f"{story['url']}/referrals/")
    expect(lee.get_by_role("link", name="Outgoing")).to_have_attribute("aria-current", "page")
    expect(lee.locator("table")).to_contain_text("Waiting 0 days so far")
    expect(lee.locator("table")).to_contain_text("Declined after 0 days")
    no_horizontal_scroll(lee)
    assert_accessible(lee, "referral list at 390 px")
    screenshot(lee, "referrals-phone")


def test_the_idle_logoff_warns_and_stay_signed_in_extends(new_page, story, settings):  # noqa: F811
    settings.SESSION_COOKIE_AGE = 8  # the warning shows after half of it
    lee = sign_in(new_page, story, "dr_lee")
    warning = lee.locator("#session-warning")
    expect(warning).to_be_hidden()
    expect(warning).to_be_visible(timeout=8000)
    expect(warning.get_by_role("button", name="Stay signed in")).to_be_focused()
    assert_accessible(lee, "idle-logoff warning")
    with lee.expect_response(re.compile(r"/session/keepalive/$")) as kept:
        warning.get_by_role("button", name="Stay signed in").click()
    assert kept.value.ok
    expect(warning).to_be_hidden()
    expect(lee.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_a_page_read_late_in_its_session_warns_before_the_real_end(
    new_page,
    story,  # noqa: F811
    settings,
    monkeypatch,
):
    """A page read while the session's end has not moved (within the minute)
    counts down to that end, not a full period: the warning comes in time and
    the page goes to the sign-in form once the session is over (core.sessions)."""
    settings.SESSION_COOKIE_AGE = 60
    # The end moves only when ten minutes behind here, so the page below is read
    # without moving it, as one read within the minute is.
    monkeypatch.setattr("core.sessions.refresh_seconds", lambda: 600)
    lee = sign_in(new_page, story, "dr_lee")
    key = next(c["value"] for c in lee.context.cookies() if c["name"] == "sessionid")
    session = SessionStore(session_key=key)
    session.set_expiry(timezone.now() + timedelta(seconds=10))
    session.save()
    lee.goto(f"{story['url']}/clients/")
    left = int(lee.locator("body").get_attribute("data-idle-logout-left"))
    assert 7 <= left <= 10
    warning = lee.locator("#session-warning")
    expect(warning).to_be_visible(timeout=3000)
    assert int(warning.locator("[data-countdown]").inner_text()) <= 10
    expect(lee.get_by_role("heading", name="Sign in")).to_be_visible(timeout=20_000)


def sign_in_again_to_anas_record(lee: Page) -> None:
    """The form sent after the session ended landed on the sign-in page; signing
    in again goes back to the page it was sent from, Ana's record."""
    expect(lee.get_by_role("heading", name="Sign in")).to_be_visible()
    lee.get_by_label("Username").fill("dr_lee")
    lee.get_by_label("Password").fill(PASSWORD)
    lee.get_by_role("button", name="Sign in").click()
    expect(lee.get_by_role("heading", name="Ana Silva", level=1)).to_be_visible()


def test_a_note_typed_when_the_session_expired_is_restored(new_page, story):  # noqa: F811
    ana = story["ana"]
    lee = sign_in(new_page, story, "dr_lee")
    lee.goto(f"{story['url']}/clients/{ana.pk}/")
    lee.get_by_text("Add an entry").click()
    form = lee.locator("#add-entry")
    form.get_by_label("Title").fill("Phone call with Ana")
    form.get_by_label("Text").fill("Sleeping better; asks about reducing the dose.")
    # The session ended while she typed (its cookie is gone; the CSRF cookie stays).
    lee.context.clear_cookies(name="sessionid")
    form.get_by_role("button", name="Add entry").click()
    sign_in_again_to_anas_record(lee)
    form = lee.locator("#add-entry")
    expect(form.get_by_label("Text")).to_have_value(
        "Sleeping better; asks about reducing the dose."
    )
    expect(form.locator(".draft-restored")).to_be_visible()
    form.get_by_role("button", name="Add entry").click()
    expect(lee.get_by_role("status")).to_contain_text("added to the record")
    assert Entry.objects.filter(title="Phone call with Ana").count() == 1
    # Sent: nothing is kept any more, in this tab or after signing out.
    assert (
        lee.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('carelink-draft:'))")
        == []
    )


def test_an_amendment_typed_when_the_session_expired_is_restored(new_page, story):  # noqa: F811
    """The amend form is brought in when its panel opens; a draft of it brings
    the panel open (and the form in) again when the client page loads."""
    ana = story["ana"]
    entry = record_services.add_entry(
        provider=story["dr_lee"],
        client=ana,
        category="general_health",
        kind="note",
        title="Flu shot",
        body="Given.",
    )
    lee = sign_in(new_page, story, "dr_lee")
    lee.goto(f"{story['url']}/clients/{ana.pk}/")
    item = lee.locator(f"#entry-{entry.pk}")
    expect(item.get_by_label("Title")).to_have_count(0)  # not on the page until opened
    with lee.expect_response(re.compile(rf"/entries/{entry.pk}/amend/$")):
        item.locator("summary", has_text="Amend").click()
    item.get_by_label("Title").fill("Flu shot, left arm")
    lee.context.clear_cookies(name="sessionid")
    item.get_by_role("button", name="Save amendment").click()
    sign_in_again_to_anas_record(lee)
    item = lee.locator(f"#entry-{entry.pk}")
    expect(item.get_by_label("Title")).to_have_value("Flu shot, left arm")
    expect(item.locator(".draft-restored")).to_be_visible()
    assert_accessible(lee, "client page with a restored amendment")
    item.get_by_role("button", name="Save amendment").click()
    expect(lee.get_by_role("status")).to_contain_text("Entry amended")
    newest = Entry.objects.get(amends=entry)
    assert newest.title == "Flu shot, left arm"
    assert (
        lee.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('carelink-draft:'))")
        == []
    )
    # The form's page of its own (for a browser without JavaScript) is as accessible.
    lee.goto(f"{story['url']}/clients/{ana.pk}/entries/{newest.pk}/retract/")
    expect(lee.get_by_role("heading", name="Retract an entry of Ana Silva")).to_be_visible()
    assert_accessible(lee, "an entry's retract form on its own page")


def test_without_javascript_an_entry_is_amended_on_a_page_of_its_own(chromium, story):  # noqa: F811
    ana = story["ana"]
    entry = record_services.add_entry(
        provider=story["dr_lee"],
        client=ana,
        category="general_health",
        kind="note",
        title="Flu shot",
    )
    context = chromium.new_context(
        java_script_enabled=False, viewport={"width": PHONE, "height": 844}
    )
    try:
        page = context.new_page()
        page.goto(f"{story['url']}/accounts/login/")
        page.get_by_label("Username").fill("dr_lee")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{story['url']}/clients/{ana.pk}/")
        item = page.locator(f"#entry-{entry.pk}")
        item.locator("summary", has_text="Amend").click()
        item.get_by_role("link", name=re.compile("on a page of its own")).click()
        expect(page.get_by_role("heading", name="Amend an entry of Ana Silva")).to_be_visible()
        no_horizontal_scroll(page)
        page.get_by_label("Title").fill("")
        page.get_by_role("button", name="Save amendment").click()
        expect(page.get_by_text("This field is required.")).to_be_visible()
        page.get_by_label("Title").fill("Flu shot, left arm")
        page.get_by_role("button", name="Save amendment").click()
        expect(page.get_by_role("heading", name="Ana Silva", level=1)).to_be_visible()
        expect(page.locator("#timeline")).to_contain_text("Flu shot, left arm")
        assert Entry.objects.get(amends=entry).title == "Flu shot, left arm"
    finally:
        context.close()


def test_the_privacy_desk_and_the_access_log_at_390px(new_page, story, centre_on_team):  # noqa: F811
    ana = story["ana"]
    grant_emergency_access(
        provider=story["emp_jo"],
        client=ana,
        reason="Ana collapsed at the job site; paramedics ask about medications.",
    )
    pat = sign_in(new_page, story, "privacy_pat")
    pat.get_by_role("link", name="Privacy desk").click()
    review = pat.locator(".emergency-review").first
    expect(review).to_contain_text("Jo Martin")
    expect(review).to_contain_text("paramedics ask about medications")
    assert_accessible(pat, "privacy desk")
    screenshot(pat, "privacy-desk")
    review.get_by_label("What you found").fill("Confirmed with WorkBridge: a real emergency.")
    review.get_by_role("button", name=re.compile("^Acknowledge")).click()
    expect(pat.get_by_role("status")).to_contain_text("reviewed; your note is kept")
    pat.set_viewport_size({"width": PHONE, "height": 844})
    pat.goto(f"{story['url']}/clients/{ana.pk}/access-log/")
    pat.get_by_label("Action").select_option(label="broke the glass")
    pat.get_by_role("button", name="Filter").click()
    expect(pat.locator("#access-events")).to_contain_text("Broke the glass")
    expect(pat.locator("#access-events")).not_to_contain_text("Read the record")
    no_horizontal_scroll(pat)
    assert_accessible(pat, "access log at 390 px")
    screenshot(pat, "access-log-phone")


def test_an_org_admin_deactivates_someone_who_left(new_page, story):  # noqa: F811
    admin = sign_in(new_page, story, "admin_ria")
    admin.get_by_role("link", name="Providers").click()
    admin.get_by_role("link", name="Dr. Daniel Lee").click()
    assert_accessible(admin, "provider page")
    admin.get_by_role("button", name="Deactivate Dr. Daniel Lee").click()
    expect(admin.locator("#provider-status")).to_have_text("Deactivated")
    story["dr_lee"].refresh_from_db()
    assert not story["dr_lee"].is_active


def test_choosing_an_organization_lists_its_services_with_their_waits(new_page, story):  # noqa: F811
    """The refer form lists no service until an organization is chosen; then
    that organization's services, with their waits, come in its place."""
    ana = story["ana"]
    housing = OrganizationFactory(name="Harbour Supportive Housing", sector="housing")
    beds = Service.objects.create(organization=housing, name="Supported housing beds")
    Service.objects.create(organization=story["centre"], name="Adult counselling")
    lee = sign_in(new_page, story, "dr_lee")
    lee.goto(f"{story['url']}/clients/{ana.pk}/")
    lee.locator("#referrals summary").click()
    refer = lee.locator("#referrals")
    expect(refer.get_by_label("Reason for referral")).to_be_visible()
    expect(refer.get_by_label("Supported housing beds")).to_have_count(0)
    expect(refer.get_by_label("Adult counselling")).to_have_count(0)
    refer.get_by_label("Refer to").select_option(label="Harbour Supportive Housing")
    expect(refer.get_by_label(re.compile("Supported housing beds"))).to_be_visible()
    expect(refer.get_by_label(re.compile("Adult counselling"))).to_have_count(0)
    assert_accessible(lee, "refer form with an organization's services")
    refer.get_by_label(re.compile("Supported housing beds")).check()
    refer.get_by_label("Reason for referral").fill("Needs supported housing.")
    refer.get_by_role("button", name="Send referral").click()
    expect(lee.locator("#referral-status")).to_have_text("Sent")
    assert Referral.objects.get(client=ana).service == beds
