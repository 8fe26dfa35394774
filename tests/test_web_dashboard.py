"""The dashboard shows the head of a long caseload, audits exactly what it
shows, and costs the same number of queries for 5 clients as for 120."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AccessEvent
from tests.celery_worker import routed  # noqa: F401 - a fixture
from tests.test_query_counts import add_clients

pytestmark = pytest.mark.django_db


def test_dashboard_shows_and_audits_the_first_fifty_clients(client, dr_lee):
    add_clients(dr_lee, 60)
    client.force_login(dr_lee)
    before = AccessEvent.objects.count()
    html = client.get("/").content.decode()
    assert "Family0049" in html and "Family0050" not in html
    assert "All your clients" in html
    assert AccessEvent.objects.count() - before == 50


@pytest.mark.parametrize("n", [5, 120])
def test_dashboard_query_count_does_not_grow_with_the_caseload(n, client, dr_lee):
    add_clients(dr_lee, n)
    client.force_login(dr_lee)
    client.get("/")  # warm caches (django-guardian's permission lookup)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    # Measured for 5 clients; the same for 120 (session, user, inbox, the unread
    # count — once, for the badge and the heading alike —, caseload, the audit's
    # emergency lookup and its one INSERT, ...). It was 12 while the navigation
    # and the dashboard each counted the unread, and 11 while the session was
    # saved on every request (core.sessions: a page within the minute writes none).
    assert len(queries) == 8, [q["sql"][:120] for q in queries.captured_queries]


def test_the_badge_says_99_plus_beyond_99_unread(client, dr_lee, ana, intake_kim, routed):  # noqa: F811
    from records.services import add_entry

    with routed():
        for n in range(101):
            add_entry(
                provider=intake_kim, client=ana, category="housing", kind="note", title=f"n{n}"
            )
    client.force_login(dr_lee)
    html = client.get("/").content.decode()
    assert '<span class="count">99+<span class="visually-hidden"> unread</span>' in html
    assert "All 99+ unread notifications" in html
    inbox = client.get("/inbox/").content.decode()
    assert "99+" in inbox
