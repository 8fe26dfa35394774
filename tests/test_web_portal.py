"""The portal's pages, for the client themself (docs/portal-pages.md): what each
page says in plain words, that every change goes through the portal's services
and bites on the next page of a provider, and the provider's invitation panel.

Personas: Ana (client) with her family doctor dr_lee, the mental-health intake
worker intake_kim and her employment counsellor emp_jo on the care team."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent import services as consent_services
from consent.models import ConsentDirective
from consent.selectors import visible_entries, withheld_count
from core.audit import Action, Channel, audit_channel, record_access
from core.models import AccessEvent
from portal import services as portal_services
from portal.models import ExperienceAnswer, PortalInvite
from portal.views import expected_wait_in_words
from records import services as record_services
from records.models import Provider
from referrals import services as referral_services
from tests.factories import ClientFactory, EntryFactory
from tests.portal_support import PASSWORD, open_portal_account

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    """The page as a person reads it: tags out, spaces folded."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def open_account(client, provider) -> Provider:
    return open_portal_account(client, provider, username="ana_s")


@pytest.fixture
def account(ana, dr_lee):
    return open_account(ana, dr_lee)


@pytest.fixture
def portal(client, account):
    client.force_login(account)
    return client


# --- activation ------------------------------------------------------------------------------


def activation(code, birth_date, **fields):
    return {
        "code": code,
        "birth_date": birth_date.isoformat(),
        "username": "ana_s",
        "password": PASSWORD,
        "password_again": PASSWORD,
    } | fields


def test_activation_page_opens_the_account_and_leads_to_sign_in(client, ana, dr_lee):
    page = client.get("/portal/activate/")
    assert page.status_code == 200
    text = text_of(page)
    assert "Open your account" in text and "Your code" in text and "Your birth date" in text
    _, code = portal_services.issue_portal_invite(provider=dr_lee, client=ana)

    response = client.post("/portal/activate/", activation(code, ana.birth_date))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    account = Provider.objects.get(username="ana_s")
    assert account.client == ana
    signed_in = client.post(
        "/accounts/login/", {"username": "ana_s", "password": PASSWORD}, follow=True
    )
    assert signed_in.redirect_chain[-1][0] == "/portal/"
    assert "Hello, Ana" in text_of(signed_in)


def test_a_wrong_code_and_a_wrong_birth_date_get_one_and_the_same_message(client, ana, dr_lee):
    _, code = portal_services.issue_portal_invite(provider=dr_lee, client=ana)
    wrong_code = client.post("/portal/activate/", activation("ABCD-EFGH-JKMN", ana.birth_date))
    wrong_birth = client.post(
        "/portal/activate/", activation(code, ana.birth_date - timedelta(days=1))
    )
    assert wrong_code.status_code == wrong_birth.status_code == 400
    first = re.search(r'id="activate-errors">(.*?)</div>', wrong_code.content.decode(), re.S)
    second = re.search(r'id="activate-errors">(.*?)</div>', wrong_birth.content.decode(), re.S)
    assert first.group(1) == second.group(1)
    assert "do not open an account" in first.group(1)
    assert not Provider.objects.filter(client=ana).exists()


def test_activation_names_the_password_field_and_keeps_nothing(client, ana, dr_lee):
    _, code = portal_services.issue_portal_invite(provider=dr_lee, client=ana)
    mismatch = client.post(
        "/portal/activate/", activation(code, ana.birth_date, password_again="something else")
    )
    assert mismatch.status_code == 400
    assert "The two passwords are not the same." in text_of(mismatch)
    weak = client.post(
        "/portal/activate/",
        activation(code, ana.birth_date, password="12345678", password_again="12345678"),
    )
    assert weak.status_code == 400
    assert 'id="id_password_error"' in weak.content.decode()
    assert not Provider.objects.filter(client=ana).exists()


def test_a_second_account_for_the_client_is_409(client, ana, dr_lee, account):
    _, code = portal_services.issue_portal_invite(provider=dr_lee, client=ana)
    response = client.post("/portal/activate/", activation(code, ana.birth_date, username="two"))
    assert response.status_code == 409
    assert "already" in text_of(response)


# --- the wall, as the pages show it -------------------------------------------------------


PORTAL_PAGES = ["/portal/", "/portal/who-looked/", "/portal/sharing/", "/portal/referrals/"]


@pytest.mark.parametrize("path", PORTAL_PAGES + ["/portal/emails/"])
def test_a_provider_reaches_no_portal_page(client, dr_lee, path):
    client.force_login(dr_lee)
    assert client.get(path).status_code == 403


def test_a_client_sees_the_portals_nav_never_the_providers(portal, ana):
    for path in PORTAL_PAGES:
        html = portal.get(path).content.decode()
        assert 'aria-label="Your portal"' in html
        assert 'aria-label="Main"' not in html and "Dashboard" not in html
    refused = portal.get(f"/clients/{ana.pk}/")
    assert refused.status_code == 403
    assert 'aria-label="Your portal"' in refused.content.decode()
    assert "Consent policies" not in refused.content.decode()


# --- home -------------------------------------------------------------------------------------


def test_home_shows_the_care_team_appointments_and_what_needs_an_answer(
    portal, ana, dr_lee, intake_kim
):
    referral = referral_services.refer_client(
        provider=dr_lee,
        client=ana,
        to_organization=intake_kim.organization,
        reason="Needs counselling.",
        urgency="routine",
    )
    referral_services.accept_referral(provider=intake_kim, referral=referral)
    appointment = timezone.now() + timedelta(days=3)
    referral_services.schedule_referral(
        provider=intake_kim, referral=referral, appointment_at=appointment
    )

    text = text_of(portal.get("/portal/"))

    assert "Hello, Ana" in text
    for who in (dr_lee, intake_kim):
        assert who.full_name in text and who.organization.name in text
    local = timezone.localtime(appointment)
    assert f"{local.day} {local:%b}, {local:%H:%M}" in text
    assert f"How did your referral to {intake_kim.organization.name} go?" in text
    assert "Answer 3 short questions" in text


# --- who looked at my record -------------------------------------------------------------------


def test_who_looked_tells_each_access_in_a_sentence_newest_first(portal, ana, dr_lee, emp_jo):
    record_access(emp_jo, ana, Action.CLIENT_READ)
    yesterday = timezone.now() - timedelta(days=1)
    AccessEvent.objects.create(
        client=ana,
        actor=dr_lee,
        organization=dr_lee.organization,
        action=Action.ENTRY_CREATE,
        channel=Channel.WEB,
        at=yesterday,
    )
    events = AccessEvent.objects.count()

    text = text_of(portal.get("/portal/who-looked/"))

    read = timezone.localtime(AccessEvent.objects.filter(actor=emp_jo).latest("at").at)
    sentence = (
        f"{emp_jo.full_name} at {emp_jo.organization.name} read your record — "
        f"{read.day} {read:%b}, {read:%H:%M}"
    )
    assert sentence in text
    assert "You opened your account" in text
    older = f"{dr_lee.full_name} at {dr_lee.organization.name} added a note to your record"
    assert text.index("Today") < text.index(sentence) < text.index("Yesterday") < text.index(older)
    # The client reading their own log is not an access event.
    assert AccessEvent.objects.count() == events


def test_emergency_reads_are_marked_and_explained(portal, ana, emp_jo):
    consent_services.grant_emergency_access(
        provider=emp_jo, client=ana, reason="Ana collapsed at a job interview, unconscious."
    )
    record_access(emp_jo, ana, Action.ENTRY_LIST)
    response = portal.get("/portal/who-looked/")
    html, text = response.content.decode(), text_of(response)
    assert 'id="emergency-explained"' in html
    assert "A privacy officer checks every time this happens." in text
    marked = re.search(r'<li class="is-emergency">(.*?)</li>', html, re.S).group(1)
    assert "Emergency" in marked and "looked at the notes in your record" in marked


def test_joining_by_matching_is_explained(portal, ana, dr_lee, outsider):
    with audit_channel(Channel.WEB):
        record_access(outsider, ana, Action.JOINED_BY_MATCHING)
    text = text_of(portal.get("/portal/who-looked/"))
    assert f"{outsider.full_name} at {outsider.organization.name} joined your care team" in text
    assert "your name, birth date and health card matched" in text


def test_who_looked_is_paginated_with_constant_queries(portal, ana, dr_lee):
    portal.get("/portal/who-looked/")
    with CaptureQueriesContext(connection) as few:
        portal.get("/portal/who-looked/")
    for _ in range(60):
        record_access(dr_lee, ana, Action.CLIENT_READ)
    with CaptureQueriesContext(connection) as many:
        first = portal.get("/portal/who-looked/")
    assert len(many.captured_queries) == len(few.captured_queries)
    assert "Page 1 of 2" in text_of(first)
    second = text_of(portal.get("/portal/who-looked/?page=2"))
    assert "You opened your account" in second


def test_the_same_access_again_and_again_is_one_line(portal, ana, dr_lee, emp_jo):
    """A provider paging through the record is one line with how many times, from
    when to when; someone else in between, or an emergency read, breaks the run."""
    start = timezone.now() - timedelta(minutes=30)
    for minutes in range(4):
        AccessEvent.objects.create(
            client=ana,
            actor=dr_lee,
            organization=dr_lee.organization,
            action=Action.CLIENT_READ,
            channel=Channel.WEB,
            at=start + timedelta(minutes=minutes),
        )
    AccessEvent.objects.create(
        client=ana,
        actor=emp_jo,
        organization=emp_jo.organization,
        action=Action.CLIENT_READ,
        channel=Channel.WEB,
        at=start + timedelta(minutes=10),
    )
    text = text_of(portal.get("/portal/who-looked/"))
    first, last = (timezone.localtime(start + timedelta(minutes=m)) for m in (0, 3))
    assert (
        f"{dr_lee.full_name} at {dr_lee.organization.name} read your record 4 times — "
        f"{first.day} {first:%b}, {first:%H:%M} to {last:%H:%M}"
    ) in text
    assert text.count(f"{dr_lee.full_name} at {dr_lee.organization.name} read your record") == 1
    assert f"{emp_jo.full_name} at {emp_jo.organization.name} read your record — " in text


def test_the_same_access_within_one_minute_shows_one_time(portal, ana, dr_lee):
    # Ten minutes back: nothing else of the test's own falls between the two.
    moment = (timezone.now() - timedelta(minutes=10)).replace(second=1)
    for seconds in (0, 30):
        AccessEvent.objects.create(
            client=ana,
            actor=dr_lee,
            organization=dr_lee.organization,
            action=Action.CLIENT_READ,
            channel=Channel.WEB,
            at=moment + timedelta(seconds=seconds),
        )
    text = text_of(portal.get("/portal/who-looked/"))
    local = timezone.localtime(moment)
    line = f"read your record 2 times — {local.day} {local:%b}, {local:%H:%M}"
    assert line in text and f"{line} to" not in text


# --- sharing choices ---------------------------------------------------------------------------


@pytest.fixture
def general_health_shared(ana, dr_lee, emp_jo):
    """Ana's doctor wrote down with her that employment may see general health."""
    EntryFactory(client=ana, author=dr_lee, category="general_health", title="Fit for work")
    return consent_services.record_consent(
        provider=dr_lee,
        client=ana,
        effect="permit",
        categories=["general_health"],
        grantee_organization=emp_jo.organization,
    )


def change_url(organization, kind, share):
    return f"/portal/sharing/change/?organization={organization.pk}&kind={kind}&share={share}"


def test_sharing_lists_each_care_team_place_and_kind(portal, emp_jo, general_health_shared):
    html = portal.get("/portal/sharing/").content.decode()
    place = re.search(
        rf'<section class="card sharing-place" aria-labelledby="place-{emp_jo.organization.pk}">'
        r"(.*?)</section>",
        html,
        re.S,
    ).group(1)
    general = re.search(r"<li class=\"kind is-shared\">(.*?)</li>", place, re.S).group(1)
    assert "General health" in general and "Can see" in general
    assert "Stop sharing" in general
    assert place.count("is-not-shared") == 7
    for word in ("directive", "grantee", "sector"):
        assert word not in text_of(portal.get("/portal/sharing/")).lower()


def test_stopping_sharing_asks_first_then_withholds_at_once(
    portal, ana, emp_jo, general_health_shared
):
    assert visible_entries(emp_jo, ana).filter(category="general_health").exists()
    withheld = withheld_count(emp_jo, ana)
    directives = ConsentDirective.objects.count()

    confirm = portal.get(change_url(emp_jo.organization, "general_health", "no"))

    assert confirm.status_code == 200
    assert f"{emp_jo.organization.name} will no longer see your general health notes." in text_of(
        confirm
    )
    assert ConsentDirective.objects.count() == directives  # asking changed nothing

    done = portal.post(
        "/portal/sharing/change/",
        {"organization": emp_jo.organization.pk, "kind": "general_health", "share": "no"},
        follow=True,
    )

    assert "will no longer see your general health notes" in text_of(done)
    assert not visible_entries(emp_jo, ana).filter(category="general_health").exists()
    assert withheld_count(emp_jo, ana) == withheld + 1
    deny = ConsentDirective.objects.get(effect="deny", grantee_organization=emp_jo.organization)
    assert deny.categories == ["general_health"] and deny.recorded_by.client == ana
    assert AccessEvent.objects.filter(
        client=ana, action=Action.CONSENT_RECORD, by_client=True, channel=Channel.PORTAL
    ).exists()
    # The page now says so.
    html = done.content.decode()
    assert (
        f'Share<span class="visually-hidden"> general health with {emp_jo.organization.name}'
        in html
    )


def test_sharing_again_takes_back_what_kept_it_and_says_what_else_changes(
    portal, ana, dr_lee, emp_jo, general_health_shared
):
    # A provider wrote down with Ana: employment may not see general health or medicines.
    consent_services.record_consent(
        provider=dr_lee,
        client=ana,
        effect="deny",
        categories=["general_health", "medications"],
        grantee_sector="employment",
    )
    permit_medications = consent_services.record_consent(
        provider=dr_lee,
        client=ana,
        effect="permit",
        categories=["medications"],
        grantee_organization=emp_jo.organization,
    )
    assert permit_medications
    text = text_of(portal.get(change_url(emp_jo.organization, "general_health", "yes")))
    # Taking back the sector-wide "no" also lets them see medicines: the page says so.
    assert (
        f"{emp_jo.organization.name} will be able to see your general health and medicines notes."
        in text
    )
    portal.post(
        "/portal/sharing/change/",
        {"organization": emp_jo.organization.pk, "kind": "general_health", "share": "yes"},
    )
    assert visible_entries(emp_jo, ana).filter(category="general_health").exists()


def test_sharing_a_kind_nobody_allowed_yet_records_a_yes(portal, ana, emp_jo):
    EntryFactory(client=ana, category="housing", title="Lease ends")
    portal.post(
        "/portal/sharing/change/",
        {"organization": emp_jo.organization.pk, "kind": "housing", "share": "yes"},
    )
    permit = ConsentDirective.objects.get(effect="permit", grantee_organization=emp_jo.organization)
    assert permit.categories == ["housing"]
    assert visible_entries(emp_jo, ana).filter(category="housing").exists()


def test_a_place_off_the_care_team_or_a_bad_kind_is_400_and_changes_nothing(
    portal, outsider, emp_jo
):
    directives = ConsentDirective.objects.count()
    for url in (
        change_url(outsider.organization, "housing", "no"),
        change_url(emp_jo.organization, "secrets", "no"),
        "/portal/sharing/change/",
    ):
        assert portal.get(url).status_code == 400
    response = portal.post(
        "/portal/sharing/change/",
        {"organization": outsider.organization.pk, "kind": "housing", "share": "no"},
    )
    assert response.status_code == 400
    assert ConsentDirective.objects.count() == directives


def test_taking_back_a_providers_choice_works_the_same(portal, ana, emp_jo, general_health_shared):
    url = f"/portal/sharing/{general_health_shared.pk}/take-back/"
    listing = portal.get("/portal/sharing/").content.decode()
    assert url in listing
    assert "Written down by" in text_of(portal.get("/portal/sharing/"))
    confirm = text_of(portal.get(url))
    assert f"{emp_jo.organization.name} will no longer see your general health notes." in confirm
    assert portal.post(url).status_code == 302
    general_health_shared.refresh_from_db()
    assert general_health_shared.revoked_at is not None
    assert general_health_shared.revoked_by.client == ana
    assert not visible_entries(emp_jo, ana).filter(category="general_health").exists()
    again = portal.post(url)
    assert again.status_code == 409
    assert "Nothing to take back" in text_of(again)


def test_another_clients_choice_is_404(portal, dr_lee):
    other = ClientFactory(registered_by=dr_lee)
    directive = consent_services.record_consent(
        provider=dr_lee,
        client=other,
        effect="permit",
        categories=["housing"],
        grantee_sector="housing",
    )
    url = f"/portal/sharing/{directive.pk}/take-back/"
    assert portal.get(url).status_code == 404
    assert portal.post(url).status_code == 404
    directive.refresh_from_db()
    assert directive.revoked_at is None


# --- referrals and "how did it go?" ---------------------------------------------------------


def test_expected_wait_in_words():
    figures = {"median_wait_days": 21, "p90_wait_days": 56}
    assert expected_wait_in_words(figures) == "Most people wait 3 to 8 weeks."
    assert expected_wait_in_words({"median_wait_days": 4, "p90_wait_days": 10}) == (
        "Most people wait 4 to 10 days."
    )
    assert expected_wait_in_words({"median_wait_days": 10, "p90_wait_days": 30}) == (
        "Most people wait 10 to 30 days."
    )
    assert expected_wait_in_words({"median_wait_days": 14, "p90_wait_days": 14}) == (
        "Most people wait about 2 weeks."
    )
    assert expected_wait_in_words({"median_wait_days": None, "p90_wait_days": None}) == ""
    assert expected_wait_in_words(None) == ""


@pytest.fixture
def counselling(ana, dr_lee, intake_kim):
    return referral_services.refer_client(
        provider=dr_lee,
        client=ana,
        to_organization=intake_kim.organization,
        reason="Needs counselling.",
        urgency="routine",
    )


def test_a_waiting_referral_without_figures_says_not_enough_data_yet(portal, counselling):
    text = text_of(portal.get("/portal/referrals/"))
    assert counselling.to_organization.name in text
    assert "Sent. Waiting for them to look at it." in text
    assert "We do not have enough data yet to say how long people wait." in text
    assert "How did it go?" not in text


def test_the_survey_is_answered_once_after_scheduling(portal, ana, intake_kim, counselling):
    url = f"/portal/referrals/{counselling.pk}/how-did-it-go/"
    answer = {"repeated_story": "no", "kept_informed": "4", "overall": "5"}
    early = portal.post(url, answer)
    assert early.status_code == 409
    assert "once the referral has an appointment" in text_of(early)

    referral_services.accept_referral(provider=intake_kim, referral=counselling)
    referral_services.schedule_referral(
        provider=intake_kim,
        referral=counselling,
        appointment_at=timezone.now() + timedelta(days=2),
    )
    form = text_of(portal.get(url))
    assert "Did you have to tell your story again?" in form
    assert "Did they keep you up to date?" in form and "Overall, how did it go?" in form
    incomplete = portal.post(url, {"repeated_story": "no"})
    assert incomplete.status_code == 400
    assert not ExperienceAnswer.objects.exists()

    done = portal.post(url, answer, follow=True)

    assert "Thank you" in text_of(done)
    saved = ExperienceAnswer.objects.get(referral=counselling)
    assert (saved.repeated_story, saved.kept_informed, saved.overall) == (False, 4, 5)
    assert "You told us how it went." in text_of(portal.get("/portal/referrals/"))
    again = portal.get(url)
    assert "You can answer only once." in text_of(again)
    assert 'class="survey"' not in again.content.decode()
    twice = portal.post(url, {"repeated_story": "yes", "kept_informed": "1", "overall": "1"})
    assert twice.status_code == 409
    assert ExperienceAnswer.objects.count() == 1


def test_another_clients_referral_survey_is_404(portal, dr_lee, intake_kim):
    other = ClientFactory(registered_by=dr_lee)
    referral = referral_services.refer_client(
        provider=dr_lee,
        client=other,
        to_organization=intake_kim.organization,
        reason="Help.",
        urgency="routine",
    )
    url = f"/portal/referrals/{referral.pk}/how-did-it-go/"
    assert portal.get(url).status_code == 404
    post = portal.post(url, {"repeated_story": "no", "kept_informed": "4", "overall": "5"})
    assert post.status_code == 404


# --- email notices ----------------------------------------------------------------------------


def test_email_notices_need_an_address_then_go_on_and_off(portal, ana):
    ana.email = ""
    ana.save()
    text = text_of(portal.get("/portal/emails/"))
    assert "you do not get these emails" in text and "First give us your email address" in text
    refused = portal.post("/portal/emails/", {"which": "notices", "email_notices": "yes"})
    assert refused.status_code == 400 and "Give your email address first." in text_of(refused)
    bad = portal.post("/portal/emails/", {"which": "address", "email": "not an address"})
    assert bad.status_code == 400 and "Enter a valid email address." in text_of(bad)

    portal.post("/portal/emails/", {"which": "address", "email": "ana@example.org"})
    response = portal.post(
        "/portal/emails/", {"which": "notices", "email_notices": "yes"}, follow=True
    )

    assert "You will get emails about your referrals." in text_of(response)
    now = text_of(portal.get("/portal/emails/"))
    assert "Now: you get these emails , at ana@example.org" in now
    portal.post("/portal/emails/", {"which": "notices", "email_notices": "no"})
    assert "you do not get these emails" in text_of(portal.get("/portal/emails/"))
    assert (
        AccessEvent.objects.filter(client=ana, action=Action.PORTAL_NOTICES, by_client=True).count()
        == 2
    )


def test_the_email_choice_swaps_in_place_with_htmx(portal, ana):
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "notices-choice"}
    ana.email = ""
    ana.save()
    refused = portal.post("/portal/emails/", {"which": "notices", "email_notices": "yes"}, **htmx)
    assert refused.status_code == 400
    html = refused.content.decode()
    assert html.lstrip().startswith('<section class="card"') and "<header" not in html
    assert "Give your email address first." in text_of(refused)
    ana.email = "ana@example.org"
    ana.save()
    saved = portal.post("/portal/emails/", {"which": "notices", "email_notices": "yes"}, **htmx)
    assert saved.status_code == 200
    text = text_of(saved)
    assert "Saved. You will get emails about your referrals." in text
    assert "Now: you get these emails" in text


# --- the provider's side ------------------------------------------------------------------------


def test_client_page_says_whether_there_is_an_account_not_what_was_done(client, ana, dr_lee):
    client.force_login(dr_lee)
    before = text_of(client.get(f"/clients/{ana.pk}/"))
    assert "The client has no portal account yet." in before
    assert "Invite to the portal" in before
    account = open_account(ana, dr_lee)
    client.force_login(account)
    client.post(
        "/portal/sharing/change/",
        {"organization": dr_lee.organization.pk, "kind": "housing", "share": "yes"},
    )
    client.force_login(dr_lee)
    after = text_of(client.get(f"/clients/{ana.pk}/"))
    assert "The client has a portal account." in after
    panel = re.search(
        r'<section class="card" id="portal".*?</section>',
        client.get(f"/clients/{ana.pk}/").content.decode(),
        re.S,
    ).group(0)
    assert "sharing" not in panel.lower() and "survey" not in panel.lower()


def test_the_invitation_handout_has_the_code_the_address_and_the_end(client, ana, dr_lee, settings):
    settings.CARELINK_BASE_URL = "https://carelink.example.org/"
    client.force_login(dr_lee)
    response = client.post(f"/clients/{ana.pk}/portal-invite/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html, text = response.content.decode(), text_of(response)
    code = re.search(r'id="invite-code">([A-Z0-9-]+)<', html).group(1)
    invite = PortalInvite.objects.get(client=ana)
    assert invite.is_live() and code not in invite.code_hash
    assert "https://carelink.example.org/portal/activate/" in text
    expires = timezone.localtime(invite.expires_at)
    assert f"until {expires.day} {expires:%b}, {expires:%H:%M}" in text
    assert "who looked at your record" in text
    # The code opens the account.
    client.logout()
    opened = client.post("/portal/activate/", activation(code, ana.birth_date))
    assert opened.status_code == 302


def test_an_organization_admin_sees_no_invite_button_and_may_not_invite(
    client, ana, family_practice
):
    admin = record_services.create_provider(
        username="admin_rita",
        password=PASSWORD,
        full_name="Rita Gomez",
        organization=family_practice,
        role="org_admin",
    )
    client.force_login(admin)
    page = client.get(f"/clients/{ana.pk}/")
    assert "The client has no portal account yet." in text_of(page)
    assert "Invite to the portal" not in text_of(page)
    assert client.post(f"/clients/{ana.pk}/portal-invite/").status_code == 403
    assert not PortalInvite.objects.exists()
