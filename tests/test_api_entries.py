"""The shared record's entries through API v1."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consent.services import record_consent
from core.models import AccessEvent, OutboxEvent
from core.vocabulary import Category
from records.models import Entry
from records.services import create_entry


def entries_url(client) -> str:
    return f"/api/v1/clients/{client.pk}/entries/"


def test_add_entry(ana, dr_lee, family_practice, api_as):
    response = api_as(dr_lee).post(
        entries_url(ana),
        {
            "category": "mental_health",
            "kind": "assessment",
            "title": "PHQ-9",
            "body": "Score 17, moderately severe.",
            "occurred_at": "2024-03-01T09:30:00-05:00",
            "data": {"phq9": 17},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= {
        "id",
        "category",
        "kind",
        "title",
        "body",
        "occurred_at",
        "created_at",
        "author",
        "organization",
        "data",
    }
    assert body["author"] == {"id": dr_lee.pk, "full_name": "Dr. Daniel Lee"}
    assert body["organization"] == {
        "id": family_practice.pk,
        "name": "Riverside Family Practice",
        "sector": "primary_care",
    }
    assert body["data"] == {"phq9": 17}
    entry = Entry.objects.get(pk=body["id"])
    assert entry.occurred_at.isoformat() == "2024-03-01T14:30:00+00:00"
    assert AccessEvent.objects.filter(client=ana, actor=dr_lee, action="entry.create").exists()
    assert OutboxEvent.objects.filter(kind="entry_added", entry=entry).exists()


def test_minimal_entry_defaults(ana, dr_lee, api_as):
    before = timezone.now()
    response = api_as(dr_lee).post(
        entries_url(ana), {"category": "housing", "kind": "note", "title": "Visit"}, format="json"
    )
    assert response.status_code == 201, response.content
    entry = Entry.objects.get(pk=response.json()["id"])
    assert entry.body == "" and entry.data == {}
    assert entry.occurred_at >= before


BAD_ENTRIES = [
    ({"category": "astrology"}, "category"),
    ({"category": None}, "category"),
    ({"kind": "poem"}, "kind"),
    ({"title": "t" * 201}, "title"),
    ({"title": "   "}, "title"),
    ({"body": "b" * 20_001}, "body"),
    ({"occurred_at": "last tuesday"}, "occurred_at"),
    ({"data": [1, 2, 3]}, "data"),
    ({"data": "text"}, "data"),
]


@pytest.mark.parametrize(("extra", "field"), BAD_ENTRIES)
def test_bad_entries_are_400_and_change_nothing(extra, field, ana, dr_lee, api_as):
    payload = {"category": "housing", "kind": "note", "title": "Visit", "body": "ok", **extra}
    before = (Entry.objects.count(), AccessEvent.objects.count(), OutboxEvent.objects.count())
    response = api_as(dr_lee).post(entries_url(ana), payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert (
        Entry.objects.count(),
        AccessEvent.objects.count(),
        OutboxEvent.objects.count(),
    ) == before


def test_limits_are_inclusive(ana, dr_lee, api_as):
    payload = {"category": "housing", "kind": "note", "title": "t" * 200, "body": "b" * 20_000}
    assert api_as(dr_lee).post(entries_url(ana), payload, format="json").status_code == 201


def test_missing_entry_fields_are_named(ana, dr_lee, api_as):
    response = api_as(dr_lee).post(entries_url(ana), {}, format="json")
    assert response.status_code == 400
    assert {"category", "kind", "title"} <= set(response.json())


def test_list_is_newest_first_filtered_with_withheld_count(ana, dr_lee, intake_kim, emp_jo, api_as):
    now = timezone.now()
    old = create_entry(
        client=ana,
        author=emp_jo,
        category="employment",
        kind="note",
        title="Old",
        occurred_at=now - timedelta(days=3),
    )
    new = create_entry(
        client=ana,
        author=emp_jo,
        category="employment",
        kind="care_plan",
        title="New",
        occurred_at=now - timedelta(days=1),
    )
    create_entry(client=ana, author=dr_lee, category="medications", kind="medication", title="Rx")
    create_entry(client=ana, author=intake_kim, category="mental_health", kind="note", title="MH")

    jo = api_as(emp_jo)
    page = jo.get(entries_url(ana)).json()
    assert [e["id"] for e in page["results"]] == [str(new.pk), str(old.pk)]
    assert page["count"] == 2
    assert page["withheld_count"] == 2
    assert {"next", "previous"} <= set(page)

    # The withheld count is the same whatever filter the request applies.
    for category in Category.values:
        filtered = jo.get(entries_url(ana), {"category": category})
        assert filtered.status_code == 200
        assert filtered.json()["withheld_count"] == 2
        assert all(e["category"] == category for e in filtered.json()["results"])
    assert jo.get(entries_url(ana), {"category": "medications"}).json()["count"] == 0

    record_consent(
        provider=dr_lee,
        client=ana,
        effect="permit",
        grantee_sector="employment",
        categories=["medications"],
    )
    page = jo.get(entries_url(ana)).json()
    assert page["count"] == 3 and page["withheld_count"] == 1
    assert "MH" not in str(page) and "mental_health" not in str(page)


@pytest.mark.parametrize("value", ["astrology", "", "MENTAL_HEALTH", "mental_health,housing"])
def test_unknown_category_filter_is_400(value, ana, dr_lee, api_as):
    response = api_as(dr_lee).get(entries_url(ana), {"category": value})
    assert response.status_code == 400
    assert "category" in response.json()


def test_entry_detail_follows_rule_3(ana, dr_lee, emp_jo, api_as):
    mine = create_entry(client=ana, author=emp_jo, category="employment", kind="note", title="Job")
    theirs = create_entry(
        client=ana, author=dr_lee, category="medications", kind="note", title="Rx"
    )
    jo = api_as(emp_jo)
    response = jo.get(f"{entries_url(ana)}{mine.pk}/")
    assert response.status_code == 200
    assert response.json()["title"] == "Job"
    assert AccessEvent.objects.filter(client=ana, actor=emp_jo, action="entry.read").exists()

    hidden = jo.get(f"{entries_url(ana)}{theirs.pk}/")
    unknown = jo.get(f"{entries_url(ana)}9b0a3f4e-1f2e-4c3d-8a7b-6c5d4e3f2a1b/")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.content == unknown.content
    assert jo.get(f"{entries_url(ana)}not-a-uuid/").status_code == 404


def test_entry_of_another_client_is_404(ana, dr_lee, api_as):
    from tests.factories import ClientFactory

    other = ClientFactory(registered_by=dr_lee)
    entry = create_entry(client=other, author=dr_lee, category="housing", kind="note", title="X")
    assert api_as(dr_lee).get(f"{entries_url(ana)}{entry.pk}/").status_code == 404
    assert api_as(dr_lee).get(f"{entries_url(other)}{entry.pk}/").status_code == 200


def test_pagination(ana, dr_lee, api_as):
    for n in range(3):
        create_entry(client=ana, author=dr_lee, category="housing", kind="note", title=f"E{n}")
    page = api_as(dr_lee).get(entries_url(ana), {"page_size": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    page2 = api_as(dr_lee).get(page["next"]).json()
    assert len(page2["results"]) == 1 and page2["previous"]


def test_repeated_category_filter(ana, dr_lee, api_as):
    for category in ("housing", "employment", "social"):
        create_entry(client=ana, author=dr_lee, category=category, kind="note", title=category)
    api = api_as(dr_lee)
    page = api.get(f"{entries_url(ana)}?category=housing&category=social").json()
    assert sorted(e["category"] for e in page["results"]) == ["housing", "social"]
    # An unknown value is a 400 wherever it appears, never silently ignored.
    for query in ("?category=astrology&category=housing", "?category=housing&category=astrology"):
        response = api.get(f"{entries_url(ana)}{query}")
        assert response.status_code == 400
        assert "category" in response.json()
