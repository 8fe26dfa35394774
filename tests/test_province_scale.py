"""Issue 15's shapes keep their meaning: the search on trigram indexes finds
what it found, only among the caller's clients; notifications carry the
organization that is a party to them; lists do not grow a query per row; no
read asks django-guardian's per-user permissions; the referral count adds up
its two sides; the rows written straight out (referrals, entries,
notifications) are what DRF's walk over their declared fields writes; the
province seeder writes a consistent province (docs/scaling.md,
docs/performance.md "Province scale")."""

import datetime

import pytest
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.db.models import F, Q
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers
from rest_framework.test import APIClient

from access.inbox import inbox, with_previews
from accounts.services import issue_token
from core.events import mark_notification_read
from core.models import Notification
from inbox.api import NotificationSerializer
from measures.services import record_assessment
from records import selectors as records_selectors
from records import services as record_services
from records.api import ENTRY_ROW_COLUMNS, EntrySerializer, write_entry
from records.models import (
    CareTeamMembership,
    Client,
    ClientGroupObjectPermission,
    Entry,
    Organization,
    Service,
)
from records.services import add_entry
from referrals import selectors as referral_selectors
from referrals import services as referral_services
from referrals.api import REFERRAL_ROW_VALUES, ReferralSerializer, write_referral
from referrals.models import Referral
from tests.celery_worker import routed  # noqa: F401 - a fixture
from tests.factories import ClientFactory
from tests.test_query_counts import ENTRY_LIST_QUERIES

pytestmark = pytest.mark.django_db

CLIENTS = "/api/v1/clients/"


def refer(provider, client, to=None, *, reason="Low mood", urgency="routine", **extra) -> Referral:
    """A referral sent through the service, as the app sends one (`to`: the
    organization; or name a `service`)."""
    return referral_services.refer_client(
        provider=provider,
        client=client,
        to_organization=to,
        reason=reason,
        urgency=urgency,
        **extra,
    )


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [c["id"] for c in response.json()["results"]]


def test_search_finds_by_name_card_and_birth_date_only_among_the_callers_clients(
    ana, dr_lee, outsider, api_as
):
    """The same rows and order as before the trigram indexes, whatever the
    database: names anywhere in the word and in any case, the health card by
    its digits, the birth date written YYYY-MM-DD; never another team's client
    with the same name, card digits or birth date."""
    mine = [
        ClientFactory(
            given_name="Mara",
            family_name=f"Tremblay-{n}",
            health_card_number=f"99{n}0-000-00{n}",
            birth_date=datetime.date(1971, 2, 3),
            registered_by=dr_lee,
        )
        for n in range(3)
    ]
    theirs = ClientFactory(
        given_name="Mara",
        family_name="Tremblay-0",
        health_card_number="9900-000-009",
        birth_date=datetime.date(1971, 2, 3),
        registered_by=outsider,
    )
    lee = api_as(dr_lee)
    expected = [str(c.pk) for c in mine]  # family name, then given name, then id
    for text in ("trembl", "TREMBLAY", "mara", "ar", "1971-02-03", "Mara 1971-02-03"):
        assert ids(lee.get(CLIENTS, {"q": text})) == expected, text
    assert ids(lee.get(CLIENTS, {"q": "9910 000"})) == [str(mine[1].pk)]
    assert ids(lee.get(CLIENTS, {"q": "blay-2 mara"})) == [str(mine[2].pk)]
    assert lee.get(CLIENTS, {"q": "tremblay"}).json()["count"] == 3
    # The outsider finds their own Mara only.
    assert ids(api_as(outsider).get(CLIENTS, {"q": "tremblay 1971-02-03"})) == [str(theirs.pk)]
    assert ids(api_as(outsider).get(CLIENTS, {"q": "9900000009"})) == [str(theirs.pk)]
    assert ids(lee.get(CLIENTS, {"q": "9900000009"})) == []


def test_the_search_indexes_exist_on_postgresql(postgresql):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'records_client'"
        )
        indexes = dict(cursor.fetchall())
    for name in (
        "client_given_name_trigram",
        "client_family_name_trigram",
        "client_health_card_trigram",
    ):
        assert "gin_trgm_ops" in indexes[name]


def test_a_timelines_own_organization_entries_have_their_index_on_postgresql(postgresql):
    """Rule 2 within one client (records migration 0010): the client and the
    organization together, and no index on the client alone beside the three
    that lead with it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'records_entry'"
        )
        indexes = dict(cursor.fetchall())
    assert indexes["entry_client_organization"].endswith("(client_id, organization_id)")
    leading_with_client = [d for d in indexes.values() if "USING btree (client_id" in d]
    assert len(leading_with_client) == 3 and all("," in d for d in leading_with_client)


def test_the_gate_forgets_the_permission_id_when_permissions_are_written_anew(ana, dr_lee, api_as):
    """The care-team permission's id is read once per process; a migrate or a
    flush (which may write the permissions anew) makes the gate read it again.
    A stale id would close the gate, never open it."""
    path = f"{CLIENTS}{ana.pk}/"
    api = api_as(dr_lee)
    assert api.get(path).status_code == 200
    real = records_selectors.access_client_permission_id()
    records_selectors._permission_id[:] = [real + 10_000]  # as if written anew elsewhere
    try:
        assert api.get(path).status_code == 404
        emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
        assert records_selectors.access_client_permission_id() == real
        assert api.get(path).json()["id"] == str(ana.pk)
    finally:
        records_selectors._permission_id[:] = [real]


def test_no_read_asks_for_per_user_object_permissions(ana, dr_lee, intake_kim, api_as):
    """The gate reads the organization's care-team rows alone: never an OR with
    django-guardian's per-user table."""
    paths = [
        CLIENTS,
        f"{CLIENTS}?q=silva",
        f"{CLIENTS}{ana.pk}/",
        f"{CLIENTS}{ana.pk}/entries/",
        "/api/v1/inbox/",
        "/api/v1/referrals/",
    ]
    for who in (dr_lee, intake_kim):
        api = api_as(who)
        for path in paths:
            with CaptureQueriesContext(connection) as queries:
                assert api.get(path).status_code == 200, path
            sql = " ".join(q["sql"].lower() for q in queries.captured_queries)
            assert "userobjectpermission" not in sql, path
            assert "clientgroupobjectpermission" in sql or path == "/api/v1/referrals/", path


def test_page_counts_read_their_own_table_alone(ana, dr_lee, privacy_pat, api_as):
    """A list's exact count is a count of its rows' own table: never the joins
    that bring the names shown on a page (the access log's rows carry the
    actor's and the organization's names; counted as rows, the count joined
    both tables in over the whole log). The access log and the client list
    hold rows here; the shape of a count does not depend on it."""
    service = Service.objects.create(organization=dr_lee.organization, name="Walk-in")
    lists = [
        (privacy_pat, f"{CLIENTS}{ana.pk}/access-log/"),
        (dr_lee, "/api/v1/referrals/"),
        (dr_lee, f"/api/v1/referrals/?service={service.pk}"),
        (dr_lee, CLIENTS),
        (dr_lee, "/api/v1/inbox/"),
    ]
    for who, path in lists:
        api = api_as(who)
        assert api.get(path).status_code == 200, path
        with CaptureQueriesContext(connection) as queries:
            page = api.get(path).json()
        counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
        assert counts and isinstance(page["count"], int), path
        for sql in counts:
            # The count's own FROM (the gate's subqueries come after WHERE).
            assert " JOIN " not in sql.upper().split(" WHERE ", 1)[0], (path, sql)


def test_referral_parties_are_stamped_on_both_sides_and_other_kinds_are_not(
    ana,
    dr_lee,
    intake_hal,
    routed,  # noqa: F811
):
    with routed():
        referral = refer(dr_lee, ana, intake_hal.organization, reason="Housing needed.")
    received = Notification.objects.get(recipient=intake_hal, kind="referral_received")
    assert received.party_organization_id == intake_hal.organization_id
    with routed():
        referral_services.accept_referral(provider=intake_hal, referral=referral)
    # The referrer hears of the acceptance as a party (their organization).
    accepted = Notification.objects.get(recipient=dr_lee, kind="referral_accepted")
    assert accepted.party_organization_id == dr_lee.organization_id
    with routed():
        add_entry(provider=intake_hal, client=ana, category="housing", kind="note", title="Seen")
    added = Notification.objects.filter(kind="entry_added")
    assert added.exists()
    assert not added.exclude(party_organization=None).exists()


def test_the_referral_list_reads_redirects_with_the_page(
    ana,
    dr_lee,
    intake_kim,
    intake_hal,
    api_as,
    django_assert_num_queries,
    routed,  # noqa: F811
):
    """A page of declined referrals costs what a page of new ones does: the
    referral that redirected each is read in the page's own query."""
    api = api_as(dr_lee)

    def send(n: int) -> Referral:
        return refer(dr_lee, ana, intake_kim.organization, reason=f"Reason {n}")

    with routed():
        send(0)
    api.get("/api/v1/referrals/")  # warm
    with CaptureQueriesContext(connection) as baseline:
        assert api.get("/api/v1/referrals/").status_code == 200
    with routed():
        for n in range(3):
            referral = send(n + 1)
            referral_services.decline_referral(
                provider=intake_kim, referral=referral, reason="Full"
            )
            if n == 0:
                redirected = referral_services.redirect_referral(
                    provider=dr_lee, referral=referral, to_organization=intake_hal.organization
                )
    with CaptureQueriesContext(connection) as queries:
        page = api.get("/api/v1/referrals/").json()
    assert len(queries) == len(baseline), [q["sql"][:90] for q in queries.captured_queries]
    by_id = {r["id"]: r for r in page["results"]}
    assert by_id[str(redirected.redirected_from_id)]["redirected_to"] == str(redirected.pk)
    declined = [r for r in page["results"] if r["status"] == "declined"]
    assert len(declined) == 3 and page["count"] == 5
    assert sum(1 for r in declined if r["redirected_to"] is None) == 2


def test_a_referral_row_reads_what_it_shows_with_the_page(
    ana, dr_lee, intake_kim, intake_hal, api_as
):
    """The list reads only the columns its rows show (`REFERRAL_ROW_VALUES`):
    a page of referrals with a service, shared categories, a decline and a
    redirect costs the queries of a page of one referral (the shared
    categories are one query for the page), and every field still shows what
    the referral holds."""
    api = api_as(dr_lee)
    refer(dr_lee, ana, intake_kim.organization, reason="Plain", share_categories=["housing"])
    api.get("/api/v1/referrals/")  # warm
    with CaptureQueriesContext(connection) as baseline:
        assert api.get("/api/v1/referrals/").status_code == 200
    service = Service.objects.create(organization=intake_kim.organization, name="Counselling")
    full = refer(
        dr_lee,
        ana,
        service=service,
        urgency="urgent",
        share_categories=["mental_health", "housing"],
    )
    referral_services.decline_referral(provider=intake_kim, referral=full, reason="Full")
    onward = referral_services.redirect_referral(
        provider=dr_lee, referral=full, to_organization=intake_hal.organization
    )
    with CaptureQueriesContext(connection) as queries:
        page = api.get("/api/v1/referrals/").json()
    assert len(queries) == len(baseline), [q["sql"][:300] for q in queries.captured_queries]
    row = next(r for r in page["results"] if r["id"] == str(full.pk))
    assert row["client"] == {
        "id": str(ana.pk),
        "given_name": "Ana",
        "family_name": "Silva",
        "birth_date": ana.birth_date.isoformat(),
    }
    assert row["service"] == {"id": str(service.pk), "name": "Counselling"}
    assert row["referred_by"] == {"id": dr_lee.pk, "full_name": "Dr. Daniel Lee"}
    assert row["from_organization_name"] == dr_lee.organization.name
    assert row["to_organization_name"] == intake_kim.organization.name
    assert sorted(row["shared_categories"]) == ["housing", "mental_health"]
    assert (row["status"], row["decline_reason"], row["urgency"]) == ("declined", "Full", "urgent")
    assert row["redirected_to"] == str(onward.pk)
    assert next(r for r in page["results"] if r["id"] == str(onward.pk))["redirected_from"] == (
        str(full.pk)
    )


def test_a_referral_row_is_written_as_its_declared_fields_write_it(
    ana, dr_lee, intake_kim, intake_hal, api_as
):
    """`ReferralSerializer` writes a row straight out (the page's time); its
    declared fields stay the schema. For referrals in every state, with and
    without a service, shared categories, an appointment, a report and a
    redirect, the row is what DRF's walk over those fields writes: the same
    keys, values and types."""

    def to_kim(**extra) -> Referral:
        return refer(dr_lee, ana, intake_kim.organization, **extra)

    service = Service.objects.create(organization=intake_kim.organization, name="Counselling")
    sent = to_kim()
    shared = refer(
        dr_lee,
        ana,
        service=service,
        reason="Shared",
        urgency="emergent",
        share_categories=["mental_health", "housing"],
    )
    scheduled = referral_services.accept_referral(provider=intake_kim, referral=to_kim())
    scheduled = referral_services.schedule_referral(
        provider=intake_kim,
        referral=scheduled,
        appointment_at=scheduled.created_at + datetime.timedelta(days=9, hours=3),
    )
    completed = referral_services.accept_referral(provider=intake_kim, referral=to_kim())
    completed = referral_services.complete_referral(
        provider=intake_kim,
        referral=completed,
        report={"title": "Seen", "body": "Better.", "category": "mental_health"},
    )
    declined = referral_services.decline_referral(
        provider=intake_kim, referral=to_kim(urgency="urgent"), reason="Full"
    )
    onward = referral_services.redirect_referral(
        provider=dr_lee, referral=declined, to_organization=intake_hal.organization
    )
    cancelled = referral_services.cancel_referral(
        provider=dr_lee, referral=to_kim(), reason="Moved away"
    )
    for referral in (sent, shared, scheduled, completed, declined, onward, cancelled):
        listed = referral_selectors.visible_referrals(dr_lee).get(pk=referral.pk)
        walked = serializers.ModelSerializer.to_representation(ReferralSerializer(), listed)
        # The list's plain row, with its page's shared categories.
        row = (
            referral_selectors.visible_referrals(dr_lee)
            .prefetch_related(None)
            .values(*REFERRAL_ROW_VALUES)
            .get(pk=referral.pk)
        )
        shared_categories = referral_selectors.shared_categories_of(
            [row["consent_directive_id"]]
        ).get(row["consent_directive_id"], [])
        for fast in (
            ReferralSerializer(listed).data,
            # As a detail read loads it.
            ReferralSerializer(Referral.objects.get(pk=referral.pk)).data,
            write_referral(row, shared_categories),
        ):
            assert dict(fast) == dict(walked), referral.status
            assert [type(v) for v in fast.values()] == [type(v) for v in walked.values()]
            assert list(fast) == list(walked)
    page = api_as(dr_lee).get("/api/v1/referrals/", {"page_size": 100}).json()["results"]
    by_id = {row["id"]: row for row in page}
    assert by_id[str(completed.pk)]["report_entry"] == str(completed.report_entry_id)
    assert by_id[str(scheduled.pk)]["wait_days"] == 9
    assert by_id[str(declined.pk)]["redirected_to"] == str(onward.pk)


def test_an_entry_is_written_as_its_declared_fields_write_it(ana, dr_lee, intake_kim, api_as):
    """`EntrySerializer` writes an entry straight out (a timeline's page); its
    declared fields stay the schema and the input. For a plain entry, one with
    data, an amended original and its amendment, and a retracted one (a
    tombstone: nothing of what it said), written from a page's plain row and
    from the entry a detail read loads, the row is DRF's walk over those
    fields, tombstone included: the same keys, values and types."""
    plain = add_entry(
        provider=dr_lee, client=ana, category="mental_health", kind="note", title="Seen"
    )
    measured = add_entry(
        provider=intake_kim,
        client=ana,
        category="mental_health",
        kind="assessment",
        title="PHQ-9",
        body="Screening.",
        data={"phq9": 17, "items": [1, 2, 3], "note": "ünïcode"},
        occurred_at=plain.occurred_at - datetime.timedelta(days=3),
    )
    original = add_entry(provider=dr_lee, client=ana, category="housing", kind="note", title="Old")
    amendment = record_services.amend_entry(
        provider=dr_lee, entry=original, title="New", body="Changed.", reason="Typo"
    )
    withdrawn = add_entry(
        provider=dr_lee, client=ana, category="housing", kind="note", title="Wrong", body="Gone"
    )
    record_services.retract_entry(provider=dr_lee, entry=withdrawn, reason="Wrong client")

    def walked(entry):
        serializer = EntrySerializer()
        data = serializers.ModelSerializer.to_representation(serializer, entry)
        if entry.retracted_at is not None:
            data.update(title="", body="", data={})
        return data

    for entry in (plain, measured, original, amendment, withdrawn):
        loaded = Entry.objects.get(pk=entry.pk)
        slow = walked(loaded)
        # As a detail read writes it, and as a page does (from plain values).
        for fast in (
            EntrySerializer(loaded).data,
            write_entry(Entry.objects.filter(pk=entry.pk).values(*ENTRY_ROW_COLUMNS).get()),
        ):
            assert dict(fast) == dict(slow), entry.title
            assert list(fast) == list(slow)
            assert [type(v) for v in fast.values()] == [type(v) for v in slow.values()]
    page = api_as(dr_lee).get(f"{CLIENTS}{ana.pk}/entries/").json()["results"]
    tombstone = next(row for row in page if row["id"] == str(withdrawn.pk))
    assert (tombstone["title"], tombstone["body"], tombstone["data"]) == ("", "", {})
    assert tombstone["retracted"]["reason"] == "Wrong client"
    assert next(row for row in page if row["id"] == str(amendment.pk))["amends"] == str(original.pk)


def test_a_notification_is_written_as_its_declared_fields_write_it(
    ana,
    dr_lee,
    intake_kim,
    api_as,
    routed,  # noqa: F811
):
    """`NotificationSerializer` writes an inbox row straight out; its declared
    fields stay the schema. For a referral's and an entry's notifications,
    read and unread, with their previews, the row is DRF's walk over those
    fields: the same keys, values and types."""
    with routed():
        referral = refer(dr_lee, ana, intake_kim.organization, urgency="urgent")
        entry = add_entry(
            provider=dr_lee, client=ana, category="mental_health", kind="note", title="Seen"
        )
    received = Notification.objects.get(recipient=intake_kim, kind="referral_received")
    mark_notification_read(recipient=intake_kim, notification=received)
    rows = with_previews(intake_kim, list(inbox(intake_kim)), links=False)
    assert {row.kind for row in rows} >= {"referral_received", "entry_added"}
    for row in rows:
        fast = NotificationSerializer(row).data
        walked = serializers.ModelSerializer.to_representation(NotificationSerializer(), row)
        assert dict(fast) == dict(walked), row.kind
        assert list(fast) == list(walked)
        assert [type(v) for v in fast.values()] == [type(v) for v in walked.values()]
    page = api_as(intake_kim).get("/api/v1/inbox/").json()["results"]
    by_kind = {row["kind"]: row for row in page}
    assert by_kind["referral_received"]["referral"] == str(referral.pk)
    assert by_kind["referral_received"]["read_at"] is not None
    assert by_kind["entry_added"]["entry"] == str(entry.pk)


def test_an_inbox_row_reads_what_it_shows_with_the_page(
    ana,
    dr_lee,
    intake_kim,
    api_as,
    client,
    routed,  # noqa: F811
):
    """The inbox reads only the columns its rows show (`INBOX_ROW_COLUMNS`):
    a page of referrals', entries' and an assessment's notifications costs the
    queries of a page of one referral's and one entry's, through the API and
    on the web page, and every row still says what it says."""
    api = api_as(intake_kim)
    client.force_login(intake_kim)
    with routed():
        first = refer(dr_lee, ana, intake_kim.organization)
        add_entry(provider=dr_lee, client=ana, category="general_health", kind="note", title="A")
    api.get("/api/v1/inbox/"), client.get("/inbox/")  # warm
    with CaptureQueriesContext(connection) as api_two:
        assert api.get("/api/v1/inbox/").json()["count"] == 2
    with CaptureQueriesContext(connection) as web_two:
        client.get("/inbox/")
    with routed():
        second = refer(dr_lee, ana, intake_kim.organization, reason="Sleep")
        entry = add_entry(
            provider=dr_lee, client=ana, category="general_health", kind="note", title="Seen"
        )
        record_assessment(
            provider=dr_lee, client=ana, instrument="phq9", answers=[2, 2, 1, 1, 1, 1, 0, 0, 1]
        )
    with CaptureQueriesContext(connection) as api_all:
        page = api.get("/api/v1/inbox/").json()["results"]
    with CaptureQueriesContext(connection) as web_all:
        html = client.get("/inbox/").content.decode()
    assert len(api_all) == len(api_two), [q["sql"][:200] for q in api_all.captured_queries]
    assert len(web_all) == len(web_two), [q["sql"][:200] for q in web_all.captured_queries]
    assert len(page) == 5
    # The rows as the notifications read in full say them.
    full = with_previews(
        intake_kim, list(Notification.objects.filter(recipient=intake_kim)), links=False
    )
    assert sorted(page, key=lambda row: row["id"]) == sorted(
        (dict(NotificationSerializer(n).data) for n in full), key=lambda row: row["id"]
    )
    referrals = {row["referral"] for row in page if row["kind"] == "referral_received"}
    assert referrals == {str(first.pk), str(second.pk)}
    assert str(entry.pk) in {row["entry"] for row in page}
    assert all(row["client"]["family_name"] == "Silva" for row in page)
    for referral in (first, second):
        assert f'href="/referrals/{referral.pk}/"' in html
    assert html.count("Ana Silva") == 5


def test_the_referral_count_adds_up_the_two_sides(ana, dr_lee, intake_kim, emp_jo, api_as):
    """The list's count is counted side by side (referring, receiving: the
    database keeps them disjoint); for every direction and status it is the
    number of rows the list pages through, and the number a plain OR of both
    sides counts."""
    mh_centre, practice = intake_kim.organization, dr_lee.organization

    declined = refer(dr_lee, ana, mh_centre, reason="R1")
    referral_services.decline_referral(provider=intake_kim, referral=declined, reason="Full")
    refer(dr_lee, ana, mh_centre, reason="R2")
    refer(intake_kim, ana, practice, reason="R3")
    refer(emp_jo, ana, mh_centre, reason="R4")
    for who in (dr_lee, intake_kim, emp_jo):
        api = api_as(who)
        organization = who.organization
        for direction in (None, "incoming", "outgoing"):
            for state in (None, "sent", "declined"):
                params = {"page_size": 100, "direction": direction, "status": state}
                page = api.get("/api/v1/referrals/", {k: v for k, v in params.items() if v})
                assert page.status_code == 200
                plain = Referral.objects.filter(
                    {
                        None: Q(from_organization=organization) | Q(to_organization=organization),
                        "incoming": Q(to_organization=organization),
                        "outgoing": Q(from_organization=organization),
                    }[direction]
                )
                if state:
                    plain = plain.filter(status=state)
                body = page.json()
                assert body["count"] == len(body["results"]) == plain.count(), (
                    who.username,
                    direction,
                    state,
                )
    assert api_as(intake_kim).get("/api/v1/referrals/").json()["count"] == 4


def test_a_timeline_read_by_token_costs_the_token_and_the_list(
    ana, dr_lee, django_assert_num_queries
):
    """Through a real device token (not a test client's forced sign-in): the
    token, its account and the account's organization are one query, so the
    timeline costs that one plus its list's own (tests/test_query_counts.py)."""
    add_entry(provider=dr_lee, client=ana, category="general_health", kind="note", title="Seen")
    _, token = issue_token(dr_lee)
    api = APIClient(HTTP_AUTHORIZATION=f"Token {token}")
    path = f"{CLIENTS}{ana.pk}/entries/"
    assert api.get(path).status_code == 200
    with django_assert_num_queries(1 + ENTRY_LIST_QUERIES):
        page = api.get(path).json()
    assert page["count"] == 1 and page["results"][0]["title"] == "Seen"


@pytest.mark.django_db(transaction=True)
def test_the_seeder_writes_a_consistent_province(postgresql, capsys):
    """A small province, by the default ratios: every care-team member's
    organization holds the permission row the gate reads, referrals go between
    two organizations, each referral's notifications are stamped with the
    receiving organization, and the demo logins are printed."""
    call_command("seed_province", clients=600, seed=7)
    out = capsys.readouterr().out
    assert "services" in out
    assert "carelink-province" in out and "Measured users" in out
    assert Client.objects.count() == 600
    assert Organization.objects.count() == 5
    assert Referral.objects.count() == 1200
    assert not Referral.objects.filter(from_organization_id=F("to_organization_id")).exists()
    # Three services an organization; a referral's service is its receiving organization's.
    assert Service.objects.count() == 15
    assert set(Service.objects.values_list("organization_id", flat=True)) == set(
        Organization.objects.values_list("id", flat=True)
    )
    with_service = Referral.objects.exclude(service=None)
    assert 0.7 < with_service.count() / 1200 < 0.9
    assert not with_service.exclude(service__organization_id=F("to_organization_id")).exists()
    assert Service.objects.filter(accepting_referrals=False).exists()
    pairs = set(
        CareTeamMembership.objects.values_list("client_id", "organization__group_id").distinct()
    )
    granted = set(ClientGroupObjectPermission.objects.values_list("content_object_id", "group_id"))
    assert pairs == granted
    stamped = Notification.objects.exclude(party_organization_id=None)
    assert stamped.count() == Notification.objects.count() > 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM core_notification n JOIN core_outboxevent e ON e.id = n.event_id "
            "WHERE (e.detail -> 'to_organization' ->> 'id')::bigint <> n.party_organization_id"
        )
        assert cursor.fetchone()[0] == 0
    with pytest.raises(Exception, match="already has clients"):
        call_command("seed_province", clients=600)
