"""Measurement-based care in a real browser: a PHQ-9 recorded with the
keyboard (errors first, then the score), the safety alert in the inbox and the
banner for who may see it, only "an entry was added" for who may not, the
trend chart with its table, the registry with its filter — axe-clean, and
usable at 390 px (docs/measures.md).

Run: .venv/bin/python -m pytest tests/browser/test_measures.py -m browser
"""

import datetime
import re
from collections.abc import Callable

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from consent import services as consent_services
from measures import services as measure_services
from records import services as record_services
from tests.browser.conftest import assert_accessible, screenshot
from tests.factories import ClientFactory, OrganizationFactory, ProviderFactory

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("in_process_routing")]

PASSWORD = "correct horse battery staple"
PHONE = {"width": 390, "height": 844}


def answers_for(score: int, items: int = 9, last: int = 0) -> list[int]:
    answers = []
    for _ in range(items - 1):
        answers.append(min(3, score))
        score -= answers[-1]
    return [*answers, last]


@pytest.fixture
def story(live_server):
    """Ana shares mental health with mental-health organizations and denies it to
    employment; her doctor has measured her three times; the centre has a
    caseload of its own."""
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
        "emp_jo": ProviderFactory(username="emp_jo", full_name="Jo Martin", organization=work),
    }
    ana = ClientFactory(given_name="Ana", family_name="Silva", registered_by=people["dr_lee"])
    record_services.add_to_care_team(ana, people["intake_kim"])
    record_services.add_to_care_team(ana, people["emp_jo"])
    for effect, sector in (("permit", "mental_health"), ("deny", "employment")):
        consent_services.record_consent(
            provider=people["dr_lee"],
            client=ana,
            effect=effect,
            grantee_sector=sector,
            categories=["mental_health"],
        )
    now = timezone.now()
    for days, score in ((84, 22), (56, 17), (21, 10)):
        measure_services.record_assessment(
            provider=people["dr_lee"],
            client=ana,
            instrument="phq9",
            answers=answers_for(score),
            administered_at=now - datetime.timedelta(days=days),
        )
    for name, series in (
        ("Stuck", ((90, 16), (50, 15), (5, 16))),
        ("Lost", ((60, 14),)),
        ("Well", ((70, 12), (6, 3))),
    ):
        person = ClientFactory(
            given_name=name, family_name="Case", registered_by=people["intake_kim"]
        )
        for days, score in series:
            measure_services.record_assessment(
                provider=people["intake_kim"],
                client=person,
                instrument="phq9",
                answers=answers_for(score),
                administered_at=now - datetime.timedelta(days=days),
            )
    return {"ana": ana, "url": live_server.url, **people}


def sign_in(new_page: Callable[[], Page], story: dict, username: str) -> Page:
    page = new_page()
    page.goto(f"{story['url']}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    return page


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page is {width} px wide"


def test_phq9_with_item_9_alerts_who_may_see_it(new_page, story):
    ana, base = story["ana"], story["url"]

    # The family doctor records a PHQ-9, with the keyboard.
    lee = sign_in(new_page, story, "dr_lee")
    lee.goto(f"{base}/clients/{ana.pk}/")
    lee.get_by_role("link", name="Record a questionnaire").click()
    expect(lee.get_by_role("heading", name="Patient Health Questionnaire (PHQ-9)")).to_be_visible()
    assert_accessible(lee, "questionnaire")
    first = lee.get_by_role("group", name="1. Little interest or pleasure in doing things")
    first.get_by_label("Not at all").focus()
    lee.keyboard.press("ArrowRight")  # arrows move within a radio group and choose
    expect(first.get_by_label("Several days")).to_be_checked()
    lee.keyboard.press("Tab")  # on to the next group's first answer
    lee.keyboard.press("Space")
    expect(
        lee.get_by_role("group", name="2. Feeling down, depressed, or hopeless").get_by_label(
            "Not at all"
        )
    ).to_be_checked()
    answers = {3: "More than half the days", 4: "Several days", 5: "Not at all", 6: "Several days"}
    for number, label in answers.items():
        lee.locator("fieldset").nth(number - 1).get_by_label(label).check()
    lee.get_by_role("button", name="Save PHQ-9").click()

    # Items 7 to 9 are missing: said at the top and at each group; nothing saved.
    expect(lee.get_by_role("alert")).to_contain_text("3 questions still need an answer")
    expect(lee.locator("fieldset").nth(6)).to_contain_text("Choose an answer to this question.")
    expect(lee.locator("fieldset").nth(0).get_by_label("Several days")).to_be_checked()
    assert_accessible(lee, "questionnaire with errors")
    for number, label in ((7, "Not at all"), (8, "Not at all"), (9, "Several days")):
        lee.locator("fieldset").nth(number - 1).get_by_label(label).check()
    screenshot(lee, "questionnaire")
    lee.get_by_role("button", name="Save PHQ-9").click()

    expect(lee.get_by_role("status")).to_contain_text(
        "PHQ-9 recorded for Ana Silva: score 6 of 27, mild."
    )
    expect(lee.get_by_role("status")).to_contain_text("safety alert in their inbox")
    chart = lee.locator("#trend-phq9")
    expect(chart.locator("svg[role=img]")).to_be_visible()
    expect(chart.get_by_role("table")).to_contain_text("Several days")
    expect(chart).to_contain_text("PHQ-9: 4 scores from")
    expect(lee.locator("#safety-alert")).to_contain_text("item 9 answered above 0")
    assert_accessible(lee, "client page with the trend chart and the safety banner")
    screenshot(lee, "client-measures")

    # The centre's intake worker may see it: the alert in the inbox, the banner.
    kim = sign_in(new_page, story, "intake_kim")
    inbox = kim.locator("#dashboard-inbox")
    expect(inbox).to_contain_text("Safety alert: PHQ-9 item 9 answered above 0")
    kim.get_by_role("link", name=re.compile("Safety alert: PHQ-9")).click()
    expect(kim.locator("#safety-alert")).to_be_visible()
    expect(kim.locator("#safety-alert")).to_contain_text("Several days")
    expect(kim.locator("#safety-alert")).to_contain_text("Dr. Daniel Lee")

    # The employment counsellor may not: an entry was added, nothing more.
    jo = sign_in(new_page, story, "emp_jo")
    expect(jo.locator("#dashboard-inbox")).to_contain_text("New entry — content withheld.")
    expect(jo.locator("#dashboard-inbox")).not_to_contain_text("Safety")
    jo.goto(f"{base}/clients/{ana.pk}/")
    expect(jo.locator("#measures-withheld")).to_contain_text("4 questionnaire scores are not shown")
    body = jo.locator("body").inner_text()
    for secret in ("PHQ-9", "Safety alert", "Several days", "score 6"):
        assert secret not in body
    assert jo.locator("#safety-alert").count() == 0

    # At 390 px the chart and its table fit; the page never scrolls sideways.
    lee.set_viewport_size(PHONE)
    lee.goto(f"{base}/clients/{ana.pk}/#measures")
    no_sideways_scroll(lee)
    box = lee.locator("#trend-phq9 svg").bounding_box()
    assert box is not None and box["width"] <= PHONE["width"]
    screenshot(lee, "client-measures-phone")


def test_registry_walks_who_is_not_improving_first(new_page, story):
    base = story["url"]
    kim = sign_in(new_page, story, "intake_kim")
    kim.get_by_role("link", name="Registry").click()
    expect(kim.get_by_role("heading", name="Registry: PHQ-9")).to_be_visible()
    rows = kim.locator("#registry tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text("Case, Stuck")
    expect(rows.nth(0)).to_contain_text("Not improving")
    expect(rows.nth(1)).to_contain_text("No follow-up")
    statuses = [rows.nth(i).locator(".badge").inner_text() for i in range(4)]
    assert statuses == ["Not improving", "No follow-up", "Response", "Remission"]
    assert_accessible(kim, "registry")
    screenshot(kim, "registry")

    # The filter (htmx): only those responding; the summary stays whole.
    kim.get_by_role("link", name=re.compile(r"^Response")).click()
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("Silva, Ana")
    expect(kim.locator("#summary-not_improving")).to_have_text("1")
    expect(kim).to_have_url(re.compile(r"status=response"))
    kim.get_by_role("link", name="Silva, Ana").click()
    expect(kim.get_by_role("heading", name="Ana Silva", level=1)).to_be_visible()

    kim.set_viewport_size(PHONE)
    kim.goto(f"{base}/registry/?instrument=phq9")
    no_sideways_scroll(kim)
    assert_accessible(kim, "registry at 390 px")
    screenshot(kim, "registry-phone")


def test_closing_walk_on_the_demo(new_page, live_server):
    """`make demo`'s data: Dr. Lee records a PHQ-9 for Ana with item 9 answered
    "Several days"; the centre's intake worker gets the alert and sees the
    banner; her employment counsellor only hears that an entry was added; the
    centre's registry puts who is not improving first."""
    from django.core.management import call_command

    from carelink.management.commands.load_demo import DEMO_PASSWORD
    from records.models import Client

    call_command("load_demo", stdout=open("/dev/null", "w"))
    base = live_server.url
    ana = Client.objects.get(given_name="Ana")

    def demo_sign_in(username: str) -> Page:
        page = new_page()
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
        return page

    lee = demo_sign_in("dr_lee")
    lee.goto(f"{base}/clients/{ana.pk}/assessments/new/?instrument=phq9")
    for number, label in enumerate(
        ["Several days", "Several days", "More than half the days", "Several days"]
        + ["Not at all"] * 4
        + ["Several days"],
        start=1,
    ):
        lee.locator("fieldset").nth(number - 1).get_by_label(label, exact=True).check()
    lee.get_by_role("button", name="Save PHQ-9").click()
    expect(lee.get_by_role("status")).to_contain_text("score 6 of 27, mild")

    kim = demo_sign_in("intake_kim")
    expect(kim.locator("#dashboard-inbox")).to_contain_text("Safety alert: PHQ-9 item 9")
    kim.goto(f"{base}/clients/{ana.pk}/")
    expect(kim.locator("#safety-alert")).to_contain_text("Several days")

    jo = demo_sign_in("emp_jo")
    expect(jo.locator("#dashboard-inbox")).to_contain_text("New entry — content withheld.")
    jo.goto(f"{base}/clients/{ana.pk}/")
    assert jo.locator("#safety-alert").count() == 0
    assert "PHQ-9" not in jo.locator("body").inner_text()

    coordinator = demo_sign_in("coord_rivera")
    coordinator.goto(f"{base}/registry/?instrument=phq9")
    rows = coordinator.locator("#registry tbody tr")
    expect(rows.first).to_contain_text("Not improving")
    for status in ("not_improving", "no_follow_up", "in_treatment", "response", "remission"):
        assert int(coordinator.locator(f"#summary-{status}").inner_text()) >= 1
    screenshot(coordinator, "registry-demo")
    coordinator.goto(f"{base}/clients/{Client.objects.get(given_name='Sofia').pk}/")
    expect(coordinator.locator("#safety-alert")).to_be_visible()
    assert_accessible(coordinator, "client page with a safety alert (demo)")
    screenshot(coordinator, "client-safety-demo")
