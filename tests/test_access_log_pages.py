"""A client's access log is read a page at a time, the page's events chosen on
the log's index first (core.paging.KeysFirst): every page is its slice of the
whole log, through the API, the privacy officer's page (filtered too) and the
client's portal; and on PostgreSQL a page of a much-read client's log reads a
page of its events, not all of them, when the statistics still say the client
is rarely read (docs/performance.md, "Province scale", change 29)."""

import itertools
import json
from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from consent.selectors import access_log_rows
from consent.views import ACCESS_LOG_PAGE_SIZE as OFFICER_PAGE
from core.models import AccessEvent
from portal.views import ACCESS_LOG_PAGE_SIZE as PORTAL_PAGE
from records.models import Client
from tests.portal_support import open_portal_account

pytestmark = pytest.mark.django_db


def the_log(client, **filters) -> list[str]:
    """The whole log, newest first, as the plainest query orders it."""
    events = AccessEvent.objects.filter(client=client, **filters).order_by("-at", "-id")
    return [str(pk) for pk in events.values_list("pk", flat=True)]


def write_events(client, actors, count: int) -> None:
    """`count` reads of the client by the actors in turn, seven to a second: the
    id breaks the ties in the log's order."""
    start = timezone.now() - timedelta(days=1)
    AccessEvent.objects.bulk_create(
        AccessEvent(
            client=client,
            actor=actor,
            organization_id=actor.organization_id,
            action="client.read",
            channel="api",
            at=start + timedelta(seconds=n // 7),
        )
        for n, actor in zip(range(count), itertools.cycle(actors), strict=False)
    )


@pytest.fixture
def busy(ana, dr_lee, emp_jo, intake_kim):
    write_events(ana, [dr_lee, emp_jo, intake_kim], 230)
    return ana


def test_every_api_page_is_its_slice_of_the_whole_log(busy, privacy_pat, api_as):
    officer = api_as(privacy_pat)
    url = f"/api/v1/clients/{busy.pk}/access-log/"
    for size, page in ((50, 1), (50, 2), (50, 5), (7, 9), (100, 3)):
        # Each read is itself an event, newest of all: the log as it is now.
        log = the_log(busy)
        body = officer.get(url, {"page": page, "page_size": size}).json()
        assert body["count"] == len(log)
        assert [row["id"] for row in body["results"]] == log[(page - 1) * size : page * size]
    last = -(-len(the_log(busy)) // 50)
    assert officer.get(url, {"page": last}).json()["next"] is None
    assert officer.get(url, {"page": last + 1}).status_code == 404


def test_every_page_of_the_officers_log_is_its_slice_filtered_or_not(
    busy, privacy_pat, emp_jo, client
):
    client.force_login(privacy_pat)
    url = f"/clients/{busy.pk}/access-log/"
    for query, filters, pages in (
        ({}, {}, (1, 2, 3)),
        ({"person": emp_jo.pk}, {"actor": emp_jo}, (1,)),
    ):
        for page in pages:
            log = the_log(busy, **filters)
            response = client.get(url, {**query, "page": page})
            shown = [str(event.pk) for event in response.context["events"]]
            assert shown == log[(page - 1) * OFFICER_PAGE : page * OFFICER_PAGE] != []
            assert response.context["page"].paginator.count == len(log)


def test_every_page_of_the_clients_own_log_is_its_slice(busy, dr_lee, client):
    client.force_login(open_portal_account(busy, dr_lee, username="ana_s"))
    log = the_log(busy)  # the client's own reads are no events
    for page in (1, 3, 5):
        response = client.get("/portal/who-looked/", {"page": page})
        shown = [str(event.pk) for event in response.context["page"].object_list]
        assert shown == log[(page - 1) * PORTAL_PAGE : page * PORTAL_PAGE] != []


@pytest.mark.django_db(transaction=True)
def test_a_much_read_clients_page_reads_a_page_of_its_events(
    postgresql, ana, dr_lee, emp_jo, intake_kim
):
    """The statistics are taken while Ana's log is one event among 24,000 (of
    400 other clients); then she is read 600 times. The plain statement
    (filter, join the names, sort, limit), planned for the average client's
    sixty events, joined and sorted all 601 for each page (checked); the page
    reads its keys from the log's index, then those events."""
    others = Client.objects.bulk_create(
        Client(given_name="Other", family_name=f"Client {n}", birth_date=date(1990, 1, 1))
        for n in range(400)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_accessevent (id, client_id, actor_id, organization_id, by_client,"
            " action, channel, at, emergency) SELECT gen_random_uuid(), c, %s, %s, false,"
            " 'client.read', 'api', now() - g * interval '1 minute', false"
            " FROM unnest(%s::uuid[]) AS c, generate_series(1, 60) AS g",
            [dr_lee.pk, dr_lee.organization_id, [other.pk for other in others]],
        )
    write_events(ana, [dr_lee], 1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    write_events(ana, [dr_lee, emp_jo, intake_kim], 600)
    with connection.cursor() as cursor:
        # What autovacuum does for a table that is only inserted into; it
        # leaves the statistics as they were.
        cursor.execute("VACUUM core_accessevent")
    for window in (slice(0, 50), slice(300, 350)):
        plan = json.loads(
            access_log_rows(ana).page_of(window).explain(analyze=True, format="json")
        )[0]["Plan"]
        read = sum(
            node["Actual Rows"] * node["Actual Loops"]
            for node in nodes_of(plan)
            if node.get("Relation Name") == "core_accessevent"
        )
        assert read <= window.stop + 50, (window, read)


def nodes_of(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes_of(child)
