"""The pages and the API docs work under the Content-Security-Policy, in a real
browser: nothing is refused, and Swagger UI renders the schema."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import ClientFactory, OrganizationFactory, ProviderFactory

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


def watch_for_refusals(page) -> list[str]:
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    return refused


def test_pages_run_under_the_policy(new_page, live_server):
    practice = OrganizationFactory(name="Riverside Family Practice", sector="primary_care")
    dr_lee = ProviderFactory(username="dr_lee", full_name="Dr. Daniel Lee", organization=practice)
    ana = ClientFactory(given_name="Ana", family_name="Silva", registered_by=dr_lee)
    page = new_page()
    refused = watch_for_refusals(page)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("dr_lee")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    for path in (f"/clients/{ana.pk}/", "/clients/", "/referrals/", "/inbox/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    # htmx (a static file) still works: the search swaps results in place.
    page.goto(f"{live_server.url}/clients/")
    page.get_by_role("searchbox").fill("Silva")
    expect(page.get_by_role("link", name=re.compile("Silva"))).to_be_visible()
    assert not refused, refused


def test_api_docs_render_under_the_policy(new_page, live_server, settings):
    page = new_page()
    refused = watch_for_refusals(page)
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.get_by_role("heading", name=re.compile("CareLink API"))).to_be_visible()
    expect(page.get_by_text("/api/v1/clients/{client_id}/entries/").first).to_be_visible()
    assert not refused, refused
