"""Provider web pages: the client gate (404), role pages (403), the consent
engine's withheld notice, consent and emergency access, intake matching, audit."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consent import services as consent_services
from consent.models import ConsentDirective, ConsentPolicy, EmergencyAccess
from core.audit import Action, record_access
from core.models import AccessEvent
from records.models import Client, Entry, Provider
from tests.factories import EntryFactory, ProviderFactory

MENTAL_HEALTH_TITLE = "PHQ-9 of 17: moderately severe depression"


@pytest.fixture
def ana_record(ana, dr_lee, emp_jo):
    """Ana's record: a mental-health note, a medication, and an employment note that
    Ana agreed to share with her employment counsellor's organization."""
    EntryFactory(client=ana, author=dr_lee, category="mental_health", title=MENTAL_HEALTH_TITLE)
    EntryFactory(client=ana, author=dr_lee, category="medications", title="Sertraline 50 mg")
    EntryFactory(client=ana, author=dr_lee, category="employment", title="Off work two weeks")
    consent_services.record_consent(
        provider=dr_lee,
        client=ana,
        effect="permit",
        grantee_organization=emp_jo.organization,
        categories=["employment"],
    )
    return ana


def html_of(response) -> str:
    return response.content.decode()


# --- rule 1: every client page is a 404 for an outsider, exactly like an unknown id ---------

CLIENT_PAGES = [
    ("get", "/clients/{id}/", None),
    ("get", "/clients/{id}/access-log/", None),
    ("post", "/clients/{id}/entries/", {"category": "housing", "kind": "note", "title": "Visit"}),
    (
        "post",
        "/clients/{id}/referrals/",
        {"refer-to_organization": "{org}", "refer-urgency": "routine", "refer-reason": "Help"},
    ),
    (
        "post",
        "/clients/{id}/consents/",
        {"effect": "permit", "grantee": "sector:hospital", "categories": ["housing"]},
    ),
    ("post", "/clients/{id}/consents/policy/", {"policy": "{policy}"}),
    (
        "post",
        "/clients/{id}/emergency-access/",
        {"reason": "Client unconscious in the emergency room."},
    ),
    ("get", "/clients/{id}/assessments/new/", None),
    ("post", "/clients/{id}/portal-invite/", None),
    (
        "post",
        "/clients/{id}/assessments/new/?instrument=gad7",
        {f"item_{n}": "1" for n in range(1, 8)},
    ),
]


@pytest.fixture
def policy(db, family_practice):
    return consent_services.save_consent_policy(
        name="Share with housing",
        description="",
        rules=[{"effect": "permit", "grantee_sector": "housing", "categories": ["housing"]}],
    )


def _fill(value, ana_id, org_id, policy_id):
    if isinstance(value, list):
        return value
    return value.format(id=ana_id, org=org_id, policy=policy_id)


@pytest.mark.parametrize("method,path,data", CLIENT_PAGES)
@pytest.mark.parametrize("who", ["outsider", "hospital_privacy"])
def test_every_client_page_is_404_off_the_care_team(
    client, request, ana_record, policy, family_practice, method, path, data, who
):
    provider = request.getfixturevalue(who)
    client.force_login(provider)
    counts = {model: model.objects.count() for model in (Entry, ConsentDirective, EmergencyAccess)}
    events = AccessEvent.objects.count()
    for client_id in (ana_record.pk, uuid.uuid4()):
        url = path.format(id=client_id)
        body = (
            {k: _fill(v, client_id, family_practice.pk, policy.pk) for k, v in data.items()}
            if data
            else None
        )
        response = getattr(client, method)(url, body) if body else getattr(client, method)(url)
        assert response.status_code == 404, url
        assert "Ana" not in html_of(response)
    assert counts == {m: m.objects.count() for m in counts}
    assert AccessEvent.objects.count() == events


def test_revoking_a_directive_of_an_invisible_client_is_404(client, outsider, ana_record):
    directive = ConsentDirective.objects.get(client=ana_record)
    client.force_login(outsider)
    assert client.post(f"/consents/{directive.pk}/revoke/").status_code == 404
    assert client.post(f"/consents/{uuid.uuid4()}/revoke/").status_code == 404
    directive.refresh_from_db()
    assert directive.revoked_at is None


def test_outsider_never_finds_the_client_in_search(client, outsider, ana_record):
    client.force_login(outsider)
    response = client.get("/clients/", {"q": "1234-567-890"})
    html = html_of(response)
    assert "Ana" not in html and "1990-05-17" not in html
    assert response.context["clients"] == []


def test_search_lists_visible_clients_and_audits_each(client, dr_lee, ana_record):
    client.force_login(dr_lee)
    response = client.get("/clients/", {"q": "silva"})
    assert [c.pk for c in response.context["clients"]] == [ana_record.pk]
    assert AccessEvent.objects.filter(
        client=ana_record, actor=dr_lee, action="client.search", channel="web"
    ).exists()


def test_search_partial_for_htmx(client, dr_lee, ana_record):
    client.force_login(dr_lee)
    response = client.get(
        "/clients/",
        {"q": "ana"},
        headers={"HX-Request": "true", "HX-Target": "section#client-results"},
    )
    html = html_of(response)
    assert 'id="client-results"' in html
    assert "<html" not in html


# --- rule 5 and rule 3 on the client page --------------------------------------------------


def test_employment_worker_sees_withheld_notice_and_no_mental_health(client, emp_jo, ana_record):
    client.force_login(emp_jo)
    response = client.get(f"/clients/{ana_record.pk}/")
    html = html_of(response)
    assert response.status_code == 200
    assert "Off work two weeks" in html
    assert "2 entries are not shown because of the client's consent directives." in html
    assert MENTAL_HEALTH_TITLE not in html
    assert "PHQ-9" not in html
    assert "Sertraline" not in html


def test_withheld_notice_singular(client, emp_jo, dr_lee, ana):
    EntryFactory(client=ana, author=dr_lee, category="mental_health", title=MENTAL_HEALTH_TITLE)
    client.force_login(emp_jo)
    html = html_of(client.get(f"/clients/{ana.pk}/"))
    assert "1 entry is not shown because of the client's consent directives." in html


def test_withheld_count_is_the_same_whatever_the_filter(client, emp_jo, ana_record):
    client.force_login(emp_jo)
    html = html_of(client.get(f"/clients/{ana_record.pk}/", {"category": "housing"}))
    assert "2 entries are not shown" in html
    assert "Off work two weeks" not in html


def test_no_withheld_notice_when_nothing_is_hidden(client, dr_lee, ana_record):
    client.force_login(dr_lee)
    html = html_of(client.get(f"/clients/{ana_record.pk}/"))
    assert MENTAL_HEALTH_TITLE in html
    assert "not shown because" not in html


def test_timeline_partial_for_htmx(client, dr_lee, ana_record):
    client.force_login(dr_lee)
    response = client.get(
        f"/clients/{ana_record.pk}/",
        {"category": "medications"},
        headers={"HX-Request": "true", "HX-Target": "section#timeline"},
    )
    html = html_of(response)
    assert 'id="timeline"' in html and "<html" not in html
    assert "Sertraline" in html and MENTAL_HEALTH_TITLE not in html


def test_client_page_shows_team_and_entry_details_and_is_audited(client, dr_lee, ana_record):
    client.force_login(dr_lee)
    html = html_of(client.get(f"/clients/{ana_record.pk}/"))
    for text in ("Kim Park", "Jo Martin", "Riverside Family Practice", "Mental health", "Note"):
        assert text in html
    assert (
        AccessEvent.objects.filter(
            client=ana_record, actor=dr_lee, action="client.read", channel="web"
        ).count()
        == 1
    )


def test_client_page_query_count_does_not_grow_with_entries(
    client, dr_lee, ana_record, django_assert_num_queries
):
    client.force_login(dr_lee)
    client.get(f"/clients/{ana_record.pk}/")  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        client.get(f"/clients/{ana_record.pk}/")
    for n in range(10):
        EntryFactory(client=ana_record, author=dr_lee, category="housing", title=f"Visit {n}")
    consent_services.record_consent(
        provider=dr_lee,
        client=ana_record,
        effect="deny",
        grantee_sector="hospital",
        categories=["housing", "social"],
    )
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(f"/clients/{ana_record.pk}/")


# --- writes through the services ------------------------------------------------------------


def test_add_entry_goes_through_the_service(client, intake_kim, ana):
    client.force_login(intake_kim)
    response = client.post(
        f"/clients/{ana.pk}/entries/",
        {"category": "mental_health", "kind": "assessment", "title": "Intake call", "body": "Ok"},
    )
    assert response.status_code == 302
    entry = Entry.objects.get(client=ana)
    assert (entry.author, entry.organization) == (intake_kim, intake_kim.organization)
    assert AccessEvent.objects.filter(client=ana, action="entry.create").count() == 1


def test_invalid_entry_shows_the_error_next_to_the_field(client, dr_lee, ana):
    client.force_login(dr_lee)
    response = client.post(
        f"/clients/{ana.pk}/entries/", {"category": "astrology", "kind": "note", "title": ""}
    )
    html = html_of(response)
    assert response.status_code == 400
    assert 'aria-describedby="id_title_error"' in html
    assert 'id="id_title_error"' in html
    assert 'aria-describedby="id_category_error"' in html
    assert Entry.objects.count() == 0


def test_recording_and_revoking_consent_changes_what_emp_jo_sees(
    client, dr_lee, emp_jo, ana_record
):
    client.force_login(dr_lee)
    response = client.post(
        f"/clients/{ana_record.pk}/consents/",
        {
            "effect": "permit",
            "grantee": f"organization:{emp_jo.organization_id}",
            "categories": ["medications"],
        },
    )
    assert response.status_code == 302
    directive = ConsentDirective.objects.filter(client=ana_record).order_by("-recorded_at").first()
    assert directive.categories == ["medications"]

    client.force_login(emp_jo)
    html = html_of(client.get(f"/clients/{ana_record.pk}/"))
    assert "Sertraline" in html and "1 entry is not shown" in html

    client.force_login(dr_lee)
    assert client.post(f"/consents/{directive.pk}/revoke/").status_code == 302
    # A second revoke is a disallowed transition.
    assert client.post(f"/consents/{directive.pk}/revoke/").status_code == 409

    client.force_login(emp_jo)
    html = html_of(client.get(f"/clients/{ana_record.pk}/"))
    assert "Sertraline" not in html and "2 entries are not shown" in html


def test_consent_form_needs_exactly_one_grantee_and_a_category(client, dr_lee, ana):
    client.force_login(dr_lee)
    response = client.post(f"/clients/{ana.pk}/consents/", {"effect": "permit", "grantee": ""})
    assert response.status_code == 400
    assert 'id="id_grantee_error"' in html_of(response)
    assert 'id="id_categories_error"' in html_of(response)
    # The form comes back on a page of its own, with the policy form beside it.
    assert "<h1>Record Ana Silva's consent decision</h1>" in html_of(response)
    assert ConsentDirective.objects.count() == 0


def test_the_consent_forms_come_when_their_panel_opens(client, dr_lee, ana, outsider):
    """The client page lists the decisions and holds a panel that fetches the
    forms (every organization is a possible grantee); the fragment holds
    nothing of the record and writes no access event; the page of its own,
    which names the client, writes client.read."""
    client.force_login(dr_lee)
    page = html_of(client.get(f"/clients/{ana.pk}/"))
    assert f'hx-get="/clients/{ana.pk}/consents/"' in page
    assert 'name="grantee"' not in page
    reads = AccessEvent.objects.filter(client=ana, actor=dr_lee, action="client.read")
    before = reads.count()
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "div#consent-forms"}
    fragment = client.get(f"/clients/{ana.pk}/consents/", **htmx)
    assert fragment.status_code == 200
    html = html_of(fragment)
    assert 'name="grantee"' in html and "Record decision" in html
    assert "<html" not in html and "Silva" not in html
    assert reads.count() == before
    own = client.get(f"/clients/{ana.pk}/consents/")
    assert own.status_code == 200 and 'name="grantee"' in html_of(own)
    assert reads.count() == before + 1
    client.force_login(outsider)
    for headers in ({}, htmx):
        assert client.get(f"/clients/{ana.pk}/consents/", **headers).status_code == 404


def test_applying_a_policy_copies_its_rules(client, dr_lee, ana, policy):
    client.force_login(dr_lee)
    response = client.post(f"/clients/{ana.pk}/consents/policy/", {"policy": policy.pk})
    assert response.status_code == 302
    directive = ConsentDirective.objects.get(client=ana)
    assert (directive.policy, directive.grantee_sector, directive.categories) == (
        policy,
        "housing",
        ["housing"],
    )


def test_break_the_glass_needs_a_reason_then_shows_until_when(client, emp_jo, ana_record):
    client.force_login(emp_jo)
    response = client.post(f"/clients/{ana_record.pk}/emergency-access/", {"reason": "urgent"})
    assert response.status_code == 400
    assert 'aria-describedby="id_reason_helptext id_reason_error"' in html_of(response)
    assert "at least 20 characters" in html_of(response)
    assert not EmergencyAccess.objects.exists()

    response = client.post(
        f"/clients/{ana_record.pk}/emergency-access/",
        {"reason": "Client collapsed at the job site; paramedics ask for medications."},
        follow=True,
    )
    html = html_of(response)
    grant = EmergencyAccess.objects.get()
    assert "Emergency access is active until" in html
    assert grant.provider == emp_jo
    assert MENTAL_HEALTH_TITLE in html and "not shown because" not in html
    # Reads under emergency access are marked in the audit.
    assert AccessEvent.objects.filter(
        client=ana_record, actor=emp_jo, action="client.read", channel="web", emergency=True
    ).exists()


def test_intake_says_plainly_when_it_links_to_an_existing_record(client, outsider, ana):
    client.force_login(outsider)
    response = client.post(
        "/clients/new/",
        {
            "given_name": "Ana",
            "family_name": "SILVA",
            "birth_date": "1990-05-17",
            "health_card_number": "1234567890",
        },
        follow=True,
    )
    html = html_of(response)
    assert Client.objects.count() == 1
    assert response.redirect_chain[-1][0] == f"/clients/{ana.pk}/"
    assert "already registered" in html and "No new record was created" in html


def test_intake_creates_a_new_client(client, dr_lee, db):
    client.force_login(dr_lee)
    response = client.post(
        "/clients/new/",
        {"given_name": "Leo", "family_name": "Tran", "birth_date": "2013-02-01"},
        follow=True,
    )
    leo = Client.objects.get(given_name="Leo")
    assert response.redirect_chain[-1][0] == f"/clients/{leo.pk}/"
    assert "already registered" not in html_of(response)


def test_intake_errors_next_to_fields(client, dr_lee, db):
    client.force_login(dr_lee)
    response = client.post("/clients/new/", {"given_name": "Leo", "birth_date": "2999-01-01"})
    assert response.status_code == 400
    html = html_of(response)
    assert 'id="id_family_name_error"' in html and 'id="id_birth_date_error"' in html
    assert not Client.objects.exists()


# --- role pages -------------------------------------------------------------------------------


def test_access_log_is_403_for_other_care_team_providers(client, dr_lee, ana_record):
    client.force_login(dr_lee)
    response = client.get(f"/clients/{ana_record.pk}/access-log/")
    assert response.status_code == 403
    assert "privacy officers" in html_of(response)


def test_privacy_officer_reads_the_access_log_with_emergency_marked(
    client, privacy_pat, emp_jo, ana_record
):
    consent_services.grant_emergency_access(
        provider=emp_jo, client=ana_record, reason="Collapsed at work, need medications."
    )
    record_access(emp_jo, ana_record, Action.CLIENT_READ)
    client.force_login(privacy_pat)
    response = client.get(f"/clients/{ana_record.pk}/access-log/")
    html = html_of(response)
    assert response.status_code == 200
    # In plain words, not codes.
    assert "Jo Martin" in html and '<td data-label="What">Read the record</td>' in html
    assert 'class="emergency-row"' in html
    assert AccessEvent.objects.filter(
        action="access_log.read", channel="web", actor=privacy_pat
    ).exists()


def test_sysadmin_reads_any_access_log_but_no_client_page(client, sysadmin, ana_record):
    client.force_login(sysadmin)
    assert client.get(f"/clients/{ana_record.pk}/access-log/").status_code == 200
    assert client.get(f"/clients/{ana_record.pk}/").status_code == 404
    assert client.get("/clients/").status_code == 403


def test_access_log_query_count_is_constant(
    client, privacy_pat, dr_lee, ana_record, django_assert_num_queries
):
    client.force_login(privacy_pat)
    client.get(f"/clients/{ana_record.pk}/access-log/")
    with CaptureQueriesContext(connection) as few:
        client.get(f"/clients/{ana_record.pk}/access-log/")
    for _ in range(5):
        record_access(dr_lee, ana_record, Action.CLIENT_READ)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(f"/clients/{ana_record.pk}/access-log/")


@pytest.mark.parametrize("path", ["/consent-policies/new/", "/consent-policies/{policy}/edit/"])
def test_policy_editing_is_403_for_non_privacy_officers(client, dr_lee, policy, path):
    client.force_login(dr_lee)
    url = path.format(policy=policy.pk)
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "Changed"}).status_code == 403
    assert ConsentPolicy.objects.get().name == "Share with housing"


def test_everyone_reads_the_policies(client, emp_jo, policy):
    client.force_login(emp_jo)
    html = html_of(client.get("/consent-policies/"))
    assert "Share with housing" in html and "New policy" not in html


def test_privacy_officer_creates_and_edits_a_policy(client, privacy_pat, employment_service):
    client.force_login(privacy_pat)
    form = {
        "name": "Employment supports",
        "description": "Share work-related notes.",
        "rules-TOTAL_FORMS": "2",
        "rules-INITIAL_FORMS": "0",
        "rules-0-effect": "permit",
        "rules-0-grantee": "sector:employment",
        "rules-0-categories": ["employment", "social"],
        "rules-1-effect": "deny",
        "rules-1-grantee": f"organization:{employment_service.pk}",
        "rules-1-categories": ["mental_health"],
    }
    assert client.post("/consent-policies/new/", form).status_code == 302
    policy = ConsentPolicy.objects.get(name="Employment supports")
    rules = list(policy.rules.order_by("id").values_list("effect", "grantee_sector", "categories"))
    assert rules == [
        ("permit", "employment", ["employment", "social"]),
        ("deny", "", ["mental_health"]),
    ]

    edit = client.get(f"/consent-policies/{policy.pk}/edit/")
    assert edit.status_code == 200 and "Employment supports" in html_of(edit)
    form |= {"name": "Employment supports v2", "rules-TOTAL_FORMS": "1"}
    assert client.post(f"/consent-policies/{policy.pk}/edit/", form).status_code == 302
    policy.refresh_from_db()
    assert policy.name == "Employment supports v2"
    assert policy.rules.count() == 1


def test_policy_needs_a_rule(client, privacy_pat, db):
    client.force_login(privacy_pat)
    response = client.post(
        "/consent-policies/new/",
        {"name": "Empty", "rules-TOTAL_FORMS": "1", "rules-INITIAL_FORMS": "0"},
    )
    assert response.status_code == 400
    assert "at least one rule" in html_of(response)
    assert not ConsentPolicy.objects.exists()


def test_providers_page_is_for_org_admins(client, dr_lee, db):
    client.force_login(dr_lee)
    assert client.get("/providers/").status_code == 403


def test_org_admin_lists_and_adds_providers_of_their_organization(client, family_practice, dr_lee):
    admin = ProviderFactory(username="admin_ria", organization=family_practice, role="org_admin")
    client.force_login(admin)
    html = html_of(client.get("/providers/"))
    assert "Dr. Daniel Lee" in html
    response = client.post(
        "/providers/",
        {
            "username": "nurse_ola",
            "full_name": "Ola Nurse",
            "role": "clinician",
            "password": "a long enough passphrase 42",
        },
    )
    assert response.status_code == 302
    ola = Provider.objects.get(username="nurse_ola")
    assert ola.organization == family_practice
    assert ola.check_password("a long enough passphrase 42")
    assert "a long enough passphrase 42" not in html_of(client.get("/providers/"))


def test_org_admin_provider_form_errors(client, family_practice, dr_lee):
    admin = ProviderFactory(username="admin_ria", organization=family_practice, role="org_admin")
    client.force_login(admin)
    response = client.post(
        "/providers/",
        {"username": "dr_lee", "full_name": "X", "role": "wizard", "password": "123"},
    )
    assert response.status_code == 400
    html = html_of(response)
    for field in ("username", "role", "password"):
        assert f'id="id_{field}_error"' in html
    assert Provider.objects.count() == 2
