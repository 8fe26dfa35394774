"""The API writes every timestamp in UTC (issue 14, finding 6: an entry dated in
year 86 came back with the clinic's local-mean-time offset, -05:17:32)."""

import re
from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.django_db

UTC_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")


def test_api_timestamps_are_written_in_utc(ana, dr_lee, api_as, settings):
    assert settings.TIME_ZONE != "UTC"  # the clinic's zone is not UTC: the test means something
    api = api_as(dr_lee)
    created = api.post(
        f"/api/v1/clients/{ana.pk}/entries/",
        {
            "category": "housing",
            "kind": "note",
            "title": "Visit",
            "occurred_at": "1900-01-01T12:00:00-05:00",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    entry = created.json()
    for stamp in (entry["occurred_at"], entry["created_at"]):
        assert UTC_STAMP.match(stamp), stamp
    assert datetime.fromisoformat(entry["occurred_at"]) == datetime(1900, 1, 1, 17, tzinfo=UTC)
    listed = api.get(f"/api/v1/clients/{ana.pk}/").json()
    assert UTC_STAMP.match(listed["created_at"])


def test_a_timestamp_before_1900_is_refused_by_field(ana, dr_lee, api_as):
    response = api_as(dr_lee).post(
        f"/api/v1/clients/{ana.pk}/entries/",
        {"category": "housing", "kind": "note", "title": "Old", "occurred_at": "0086-05-01T10:00"},
        format="json",
    )
    assert response.status_code == 400 and "occurred_at" in response.json()


def test_a_birth_date_out_of_range_is_refused_by_field(dr_lee, api_as):
    for born in ("0001-01-01", "1899-12-31", "2999-01-01"):
        response = api_as(dr_lee).post(
            "/api/v1/clients/",
            {"given_name": "A", "family_name": "B", "birth_date": born},
            format="json",
        )
        assert response.status_code == 400 and "birth_date" in response.json(), born


def test_pages_keep_the_clinics_time_zone(client, ana, dr_lee):
    from records.services import create_entry

    create_entry(client=ana, author=dr_lee, category="housing", kind="note", title="Seen")
    client.force_login(dr_lee)
    html = client.get(f"/clients/{ana.pk}/").content.decode()
    offsets = re.findall(r'<time datetime="[^"]+([+-]\d\d:\d\d)"', html)
    assert offsets and all(offset != "+00:00" for offset in offsets), offsets
