"""A client search is read a page at a time, the page's clients chosen first
and only they read whole (core.paging.KeysFirst, `consent.selectors.
search_clients`; FHIR's Patient search likewise). Every page is its slice of
the whole search, through the API, the web page and FHIR, ties in name broken
by id, the caller's clients only: for long words, for words of one or two
letters, and for the list without words, counted on the care-team permission
rows. The audit still marks the clients read under emergency access. On
PostgreSQL a page reads its own fifty rows whole, not every match, and a
two-letter search reads the caller's clients, not the province's
(docs/performance.md, "Province scale", changes 32-34)."""

import json
from datetime import date

import pytest
from django.db import connection
from django.db.models import Q

from consent.selectors import search_clients
from consent.services import grant_emergency_access
from core.models import AccessEvent
from records.models import Client, ClientGroupObjectPermission
from records.services import leave_care_team
from tests.factories import ClientFactory
from tests.test_access_log_pages import nodes_of

pytestmark = pytest.mark.django_db

CLIENTS = "/api/v1/clients/"


def the_search(provider, word: str) -> list[str]:
    """Every client of the provider's care teams with the word in a name or
    the health card, in the list's order, as the plainest query reads it."""
    mine = Client.objects.filter(
        Q(family_name__icontains=word)
        | Q(given_name__icontains=word)
        | Q(health_card_normalized__icontains=word),
        clientgroupobjectpermission__group=provider.organization.group,
    )
    ordered = mine.order_by("family_name", "given_name", "id")
    return [str(pk) for pk in ordered.values_list("pk", flat=True)]


@pytest.fixture
def okafors(dr_lee, outsider):
    """Sixty of Dr. Lee's clients share a name (the id orders them), a few
    have another, and the outsider has Okafors of their own."""
    for _ in range(60):
        ClientFactory(given_name="Mara", family_name="Okafor", registered_by=dr_lee)
    for n in range(4):
        ClientFactory(given_name="Lin", family_name=f"Okafor-{n}", registered_by=dr_lee)
        ClientFactory(given_name="Mara", family_name="Brown", registered_by=dr_lee)
        ClientFactory(given_name="Mara", family_name="Okafor", registered_by=outsider)
    return the_search(dr_lee, "okafor")


def test_every_api_page_is_its_slice_of_the_whole_search(okafors, dr_lee, api_as):
    lee = api_as(dr_lee)
    assert len(okafors) == 64
    for size, page in ((50, 1), (50, 2), (7, 1), (7, 5), (10, 7), (100, 1)):
        response = lee.get(CLIENTS, {"q": "okafor", "page_size": size, "page": page})
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["count"] == 64
        shown = [row["id"] for row in body["results"]]
        assert shown == okafors[(page - 1) * size : page * size] != [], (size, page)
        assert {row["family_name"][:6] for row in body["results"]} == {"Okafor"}


def test_every_web_page_is_its_slice_of_the_whole_search(okafors, dr_lee, client):
    client.force_login(dr_lee)
    for page in (1, 2):
        response = client.get("/clients/", {"q": "OKAF", "page": page})
        assert response.status_code == 200
        shown = [str(c.pk) for c in response.context["clients"]]
        assert shown == okafors[(page - 1) * 50 : page * 50] != []
        assert response.context["page"].paginator.count == 64


def test_a_word_of_one_or_two_letters_finds_its_slice_too(okafors, dr_lee, outsider, api_as):
    """Words too short for a trigram are read against the caller's clients
    one by one (change 33): the same rows, in the same order."""
    lee = api_as(dr_lee)
    for word, expected in (("ok", 64), ("A", 68), ("n", 8)):
        search = the_search(dr_lee, word)
        assert len(search) == expected, word
        for size, page in ((50, 1), (50, 2), (9, 3), (3, 2)):
            if (page - 1) * size >= expected:
                continue  # no such page (a 404)
            body = lee.get(CLIENTS, {"q": word, "page_size": size, "page": page}).json()
            assert body["count"] == expected
            shown = [row["id"] for row in body["results"]]
            assert shown == search[(page - 1) * size : page * size], (word, size, page)
    # Two words, one short: both must match.
    both = [
        row["id"] for row in lee.get(CLIENTS, {"q": "lin ok", "page_size": 100}).json()["results"]
    ]
    assert both == [pk for pk in the_search(dr_lee, "lin") if pk in okafors] != []
    theirs = api_as(outsider).get(CLIENTS, {"q": "ok"}).json()
    assert theirs["count"] == 4 and not set(okafors) & {row["id"] for row in theirs["results"]}


def test_every_page_of_the_whole_list_is_its_slice_and_counts_the_teams_clients(
    okafors, dr_lee, api_as, client
):
    """Without words: every client of the caller's care teams, in name order,
    counted on the care-team permission rows; a client whose team the
    organization leaves drops out of the rows and the count alike."""
    everyone = [
        str(pk)
        for pk in Client.objects.filter(
            clientgroupobjectpermission__group=dr_lee.organization.group
        )
        .order_by("family_name", "given_name", "id")
        .values_list("pk", flat=True)
    ]
    assert len(everyone) == 68
    lee = api_as(dr_lee)
    for size, page in ((50, 1), (50, 2), (9, 8), (100, 1)):
        body = lee.get(CLIENTS, {"page_size": size, "page": page}).json()
        assert body["count"] == 68
        assert [row["id"] for row in body["results"]] == everyone[(page - 1) * size : page * size]
    client.force_login(dr_lee)
    response = client.get("/clients/", {"page": 2})
    assert [str(c.pk) for c in response.context["clients"]] == everyone[50:]
    assert response.context["page"].paginator.count == 68

    gone = Client.objects.get(pk=everyone[3])
    leave_care_team(actor=dr_lee, client=gone, provider=dr_lee)
    body = lee.get(CLIENTS, {"page_size": 100}).json()
    assert body["count"] == 67
    assert [row["id"] for row in body["results"]] == everyone[:3] + everyone[4:]


def test_every_page_of_a_fhir_patient_search_is_its_slice(okafors, dr_lee, outsider, api_as):
    """FHIR's Patient search is read in the same shape (changes 32–33): the
    whole list, a family name, a birth year alone; `total` counts them all."""
    lee = api_as(dr_lee)
    everyone = the_search(dr_lee, "")
    Client.objects.filter(given_name="Lin").update(birth_date=date(1971, 2, 3))
    born = the_search(dr_lee, "lin")
    assert len(born) == 4
    for query, expected in (
        ("", everyone),
        ("family=okafor", okafors),
        ("birthdate=1971", born),
    ):
        assert expected, query
        for size, page in ((50, 1), (50, 2), (7, 3), (3, 2)):
            if (page - 1) * size >= len(expected):
                continue  # no such page (a 404)
            bundle = lee.get(f"/fhir/R4/Patient?{query}&_count={size}&page={page}").json()
            assert bundle["total"] == len(expected), query
            shown = [entry["resource"]["id"] for entry in bundle.get("entry", [])]
            assert shown == expected[(page - 1) * size : page * size], (query, size, page)
    theirs = api_as(outsider).get("/fhir/R4/Patient?family=okafor").json()
    assert theirs["total"] == 4
    assert not set(okafors) & {entry["resource"]["id"] for entry in theirs["entry"]}


def test_a_search_writes_one_event_per_client_shown(okafors, dr_lee, api_as):
    before = set(AccessEvent.objects.values_list("pk", flat=True))
    api_as(dr_lee).get(CLIENTS, {"q": "okafor", "page_size": 7, "page": 3})
    new = AccessEvent.objects.exclude(pk__in=before)
    assert sorted(str(pk) for pk in new.values_list("client_id", flat=True)) == sorted(
        okafors[14:21]
    )
    assert {(e.action, e.actor_id, e.emergency) for e in new} == {
        ("client.search", dr_lee.pk, False)
    }


def test_a_search_marks_only_the_clients_read_under_emergency_access(ana, emp_jo, api_as):
    ClientFactory(given_name="Lucia", family_name="Silva", registered_by=emp_jo)
    grant_emergency_access(provider=emp_jo, client=ana, reason="Crisis call: safety plan needed.")
    before = set(AccessEvent.objects.values_list("pk", flat=True))
    found = api_as(emp_jo).get(CLIENTS, {"q": "silva"}).json()["results"]
    assert len(found) == 2
    marked = dict(AccessEvent.objects.exclude(pk__in=before).values_list("client_id", "emergency"))
    assert {str(k): v for k, v in marked.items()} == {
        row["id"]: row["id"] == str(ana.pk) for row in found
    }


@pytest.mark.django_db(transaction=True)
def test_a_page_of_a_common_name_reads_its_own_rows_whole(postgresql, dr_lee, outsider):
    """400 of the caller's clients and 2,000 others share a name. The plain
    statement (filter, sort, limit, whole rows) read every client whole for
    each page, 2,402 (checked); the page takes its keys first, then reads its
    fifty rows."""
    lees = ClientGroupObjectPermission.objects.get(
        content_object=ClientFactory(given_name="Mara", family_name="Okafor", registered_by=dr_lee)
    )
    theirs = ClientGroupObjectPermission.objects.get(
        content_object=ClientFactory(
            given_name="Mara", family_name="Okafor", registered_by=outsider
        )
    )
    with connection.cursor() as cursor:
        # Clients by the thousand, each with the care-team permission row the
        # gate reads: "Okafor 1" to "Okafor 400" Dr. Lee's, the rest the outsider's.
        cursor.execute(
            "WITH new AS (INSERT INTO records_client (id, given_name, family_name, birth_date,"
            " health_card_number, health_card_normalized, phone, email, created_at)"
            " SELECT gen_random_uuid(), 'Mara', 'Okafor ' || g, %s, '', '', '', '', now()"
            " FROM generate_series(1, 2400) AS g RETURNING id, family_name)"
            " INSERT INTO records_clientgroupobjectpermission (content_object_id, group_id,"
            " permission_id) SELECT id, CASE WHEN split_part(family_name, ' ', 2)::int <= 400"
            " THEN %s ELSE %s END, %s FROM new",
            [date(1980, 1, 1), lees.group_id, theirs.group_id, lees.permission_id],
        )
        cursor.execute("ANALYZE")
    search = search_clients(dr_lee, "okafor")
    assert search.count() == 401
    for window in (slice(0, 50), slice(350, 400)):
        plan = json.loads(search.page_of(window).explain(analyze=True, format="json"))[0]["Plan"]
        whole = sum(
            node["Actual Rows"] * node["Actual Loops"]
            for node in outside_subplans(plan)
            if node.get("Relation Name") == "records_client"
        )
        assert whole <= 50, (window, whole)
        assert [str(c.pk) for c in search[window]] == the_search(dr_lee, "okafor")[window]
    # A word too short for a trigram: the count and the page read the
    # caller's 401 clients, not the 2,402 (checked: left to choose, the
    # database scanned them all).
    short = search_clients(dr_lee, "ok")
    for statement in (short._counted, short.page_of(slice(0, 50))):
        plan = json.loads(statement.explain(analyze=True, format="json"))[0]["Plan"]
        read = sum(
            node["Actual Rows"] * node["Actual Loops"]
            for node in nodes_of(plan)
            if node.get("Relation Name") == "records_client"
        )
        assert read <= 401 + 50, read


def outside_subplans(plan: dict):
    """The plan's nodes, leaving out its subplans (the page's keys)."""
    yield plan
    for child in plan.get("Plans", []):
        if child.get("Parent Relationship") not in ("InitPlan", "SubPlan"):
            yield from outside_subplans(child)
