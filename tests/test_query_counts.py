"""Lists run a fixed number of SQL queries, whatever the number of rows.

The exact numbers are the baseline measured with 5 rows; 500 rows must not add
one. If a change adds a query on purpose, update the baseline here.
"""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from consent.services import record_consent
from core.models import AccessEvent
from records.models import CareTeamMembership, Client, ClientGroupObjectPermission, Entry

# Entries: resolve the client (with the caller's emergency access, for the audit
# row), the client's directives covering the caller (rules 2 and 3 decided once,
# so the count and the page filter on plain columns), the visible and withheld
# counts (one query), page, and the audit's one INSERT. Issue 15 took the
# audit's own emergency lookup out of each list (the gate, or the page, reads
# it) and the entries' second count (one aggregate counts both); reading the
# directives first is one round trip more and several milliseconds of SQL
# compiling less (docs/performance.md, "Province scale").
ENTRY_LIST_QUERIES = 5
# Clients: count, page (with the emergency access of each row), one audit INSERT.
CLIENT_LIST_QUERIES = 3
# Access log: resolve the client, count, page, one INSERT.
ACCESS_LOG_QUERIES = 4


def warm(api, path: str) -> None:
    """One request first: django-guardian's first call in a process loads the
    ContentType cache, which is not a per-request cost."""
    assert api.get(path).status_code == 200


def add_entries(client, author, n: int) -> None:
    now = timezone.now()
    Entry.objects.bulk_create(
        Entry(
            client=client,
            category=("housing", "mental_health", "employment")[i % 3],
            kind="note",
            title=f"Entry {i}",
            body="text",
            occurred_at=now - datetime.timedelta(minutes=i),
            created_at=now,
            author=author,
            organization_id=author.organization_id,
        )
        for i in range(n)
    )


def add_clients(provider, n: int) -> None:
    """n clients on the provider's care team, as register_client leaves them."""
    clients = Client.objects.bulk_create(
        Client(
            given_name=f"Given{i}",
            family_name=f"Family{i:04d}",
            birth_date=datetime.date(1980, 1, 1),
            health_card_number=f"{i:010d}",
            health_card_normalized=f"{i:010d}",
        )
        for i in range(n)
    )
    CareTeamMembership.objects.bulk_create(
        CareTeamMembership(client=c, provider=provider, organization_id=provider.organization_id)
        for c in clients
    )
    permission = Permission.objects.get(codename="access_client")
    ClientGroupObjectPermission.objects.bulk_create(
        ClientGroupObjectPermission(
            content_object=c, group=provider.organization.group, permission=permission
        )
        for c in clients
    )


@pytest.mark.parametrize("n", [5, 500])
def test_entry_list_queries_do_not_grow(n, ana, dr_lee, emp_jo, api_as, django_assert_num_queries):
    """Some entries visible through consent, the rest withheld."""
    add_entries(ana, dr_lee, n)
    record_consent(
        provider=dr_lee,
        client=ana,
        effect="permit",
        grantee_sector="employment",
        categories=["housing", "employment"],
    )
    api = api_as(emp_jo)
    path = f"/api/v1/clients/{ana.pk}/entries/"
    warm(api, path)
    with django_assert_num_queries(ENTRY_LIST_QUERIES):
        response = api.get(path)
    assert response.status_code == 200
    visible = len(range(0, n, 3)) + len(range(2, n, 3))
    assert response.json()["count"] == visible
    assert response.json()["withheld_count"] == n - visible
    assert len(response.json()["results"]) == min(visible, 50)


@pytest.mark.parametrize("n", [5, 500])
def test_entry_list_own_entries_queries(n, ana, dr_lee, api_as, django_assert_num_queries):
    add_entries(ana, dr_lee, n)
    api = api_as(dr_lee)
    path = f"/api/v1/clients/{ana.pk}/entries/"
    warm(api, path)
    # A category filter counts its own page: one query more.
    with django_assert_num_queries(ENTRY_LIST_QUERIES + 1):
        response = api.get(path, {"category": "housing"})
    assert response.json()["count"] == len(range(0, n, 3))
    assert response.json()["withheld_count"] == 0


@pytest.mark.parametrize("n", [5, 500])
def test_client_list_queries_do_not_grow(n, dr_lee, api_as, django_assert_num_queries):
    add_clients(dr_lee, n)
    api = api_as(dr_lee)
    warm(api, "/api/v1/clients/")
    with django_assert_num_queries(CLIENT_LIST_QUERIES):
        response = api.get("/api/v1/clients/")
    assert response.json()["count"] == n
    assert len(response.json()["results"]) == min(n, 50)
    with django_assert_num_queries(CLIENT_LIST_QUERIES):
        response = api.get("/api/v1/clients/", {"q": "family000"})
    assert response.json()["count"] == min(n, 10)


@pytest.mark.parametrize("n", [5, 500])
def test_access_log_queries_do_not_grow(n, ana, privacy_pat, api_as, django_assert_num_queries):
    now = timezone.now()
    AccessEvent.objects.bulk_create(
        AccessEvent(
            client=ana,
            actor=privacy_pat,
            organization_id=privacy_pat.organization_id,
            action="client.read",
            at=now - datetime.timedelta(seconds=i),
        )
        for i in range(n)
    )
    api = api_as(privacy_pat)
    path = f"/api/v1/clients/{ana.pk}/access-log/"
    warm(api, path)
    with django_assert_num_queries(ACCESS_LOG_QUERIES):
        response = api.get(path)
    assert response.status_code == 200
    assert response.json()["count"] >= n
