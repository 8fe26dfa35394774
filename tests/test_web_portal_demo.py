"""The portal on the loaded demo (docs/portal-pages.md, "The demo"): Ana's own
account, what her pages say, and the counselling service's published figures
on the providers' pages — every figure the one the API gives."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from carelink.management.commands.load_demo import DEMO_PASSWORD, PORTAL_USERNAME
from portal.selectors import portal_referrals
from portal.views import expected_wait_in_words
from records.models import Provider, Service
from tests.test_web_portal import text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.CARELINK_REQUIRE_2FA = False
    call_command("load_demo", stdout=open("/dev/null", "w"))


def test_ana_signs_in_to_her_portal_with_the_printed_login(demo, client, capsys):
    call_command("print_demo_logins")
    assert re.search(rf"^\s+{PORTAL_USERNAME}\s+client \(portal\)", capsys.readouterr().out, re.M)
    response = client.post(
        "/accounts/login/",
        {"username": PORTAL_USERNAME, "password": DEMO_PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/portal/"
    text = text_of(response)
    assert "Hello, Ana" in text
    assert "How did your referral to Supported employment at WorkBridge" in text


def test_ana_sees_her_counsellor_read_her_record_yesterday(demo, client):
    client.force_login(Provider.objects.get(username=PORTAL_USERNAME))
    text = text_of(client.get("/portal/who-looked/"))
    yesterday = timezone.localdate() - timedelta(days=1)
    sentence = (
        "Jo Martin at WorkBridge Employment Services read your record — "
        f"{yesterday.day} {yesterday:%b}, 14:10"
    )
    assert sentence in text
    assert text.index("Yesterday") < text.index(sentence)
    assert "You opened your account" in text


def test_her_counselling_referral_waits_with_the_services_figures(demo, client):
    counselling = Service.objects.get(name="Adult counselling")
    lee = Provider.objects.get(username="dr_lee")
    client.force_login(lee)
    api = client.get(f"/api/v1/services/{counselling.pk}/").json()
    ana = Provider.objects.get(username=PORTAL_USERNAME)
    waiting = next(r for r in portal_referrals(ana.client) if r.service_id == counselling.pk)
    assert waiting.status == "accepted"
    assert waiting.expected_wait == {
        "median_wait_days": api["wait"]["median_wait_days"],
        "p90_wait_days": api["wait"]["p90_wait_days"],
    }
    words = expected_wait_in_words(waiting.expected_wait)
    client.force_login(ana)
    assert re.fullmatch(r"Most people wait \d+ to \d+ weeks\.", words)
    section = re.search(
        r"<h2[^>]*>Adult counselling</h2>(.*?)</section>",
        client.get("/portal/referrals/").content.decode(),
        re.S,
    ).group(1)
    assert words in section and "Accepted. You are on their waiting list." in section


def test_the_counselling_figures_publish_on_the_providers_pages(demo, client):
    counselling = Service.objects.get(name="Adult counselling")
    client.force_login(Provider.objects.get(username="intake_kim"))
    experience = client.get(f"/api/v1/services/{counselling.pk}/").json()["experience"]
    assert experience["responses"] >= 5 and experience["overall_mean"] is not None
    page = text_of(client.get(f"/services/{counselling.pk}/"))
    assert f"Overall {experience['overall_mean']} out of 5" in page
    assert f"Kept informed {experience['kept_informed_mean']} out of 5" in page
    assert f"Told their story again {experience['repeated_story_percent']}%" in page
    directory = client.get("/services/").content.decode()
    row = re.search(rf'href="/services/{counselling.pk}/".*?</tr>', directory, re.S).group(0)
    assert f"Overall {experience['overall_mean']}/5" in row
    group = Service.objects.get(name="Group therapy")
    group_row = re.search(rf'href="/services/{group.pk}/".*?</tr>', directory, re.S).group(0)
    assert "Not enough answers yet" in group_row
