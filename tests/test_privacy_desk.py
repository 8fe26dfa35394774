"""The privacy officer's desk: emergency accesses on the organization's clients
to review (reason, who, when, what was read), each acknowledged with a note
(audited); the access log in plain words, filtered, and as CSV."""

import csv
import io

import pytest

from consent.models import EmergencyAccessReview
from consent.services import grant_emergency_access
from core.models import AccessEvent

REASON = "Found unresponsive at the clinic; need the medication list now."


@pytest.fixture
def glass_broken(ana, emp_jo, api_as):
    grant = grant_emergency_access(provider=emp_jo, client=ana, reason=REASON)
    api_as(emp_jo).get(f"/api/v1/clients/{ana.pk}/entries/")
    return grant


def test_the_desk_lists_emergency_accesses_with_what_was_read(
    glass_broken, privacy_pat, client, django_assert_max_num_queries
):
    client.force_login(privacy_pat)
    with django_assert_max_num_queries(20):
        page = client.get("/privacy/")
    html = page.content.decode()
    assert page.status_code == 200
    assert REASON in html
    assert "Jo Martin" in html
    assert "listed entries" in html  # the reads made under it, in words
    assert "broke the glass" in html


def test_acknowledge_with_a_note_once(glass_broken, privacy_pat, client):
    client.force_login(privacy_pat)
    url = f"/privacy/emergency-accesses/{glass_broken.pk}/acknowledge/"
    assert client.post(url, {f"review-{glass_broken.pk}-note": ""}).status_code == 302
    assert not EmergencyAccessReview.objects.exists()
    note = "Called the clinic: a real emergency, reads limited to medications."
    assert client.post(url, {f"review-{glass_broken.pk}-note": note}).status_code == 302
    review = EmergencyAccessReview.objects.get()
    assert (review.reviewed_by, review.note) == (privacy_pat, note)
    assert AccessEvent.objects.filter(
        actor=privacy_pat, action="emergency_access.review", client=glass_broken.client
    ).exists()
    waiting = client.get("/privacy/").content.decode()
    assert REASON not in waiting
    reviewed = client.get("/privacy/?show=reviewed").content.decode()
    assert note in reviewed
    client.post(url, {f"review-{glass_broken.pk}-note": "again"})
    assert EmergencyAccessReview.objects.count() == 1


def test_the_desk_is_for_privacy_officers_of_the_clients_organizations(
    glass_broken, dr_lee, hospital_privacy, client
):
    client.force_login(dr_lee)
    assert client.get("/privacy/").status_code == 403
    client.force_login(hospital_privacy)  # not on Ana's care team
    assert REASON not in client.get("/privacy/").content.decode()
    url = f"/privacy/emergency-accesses/{glass_broken.pk}/acknowledge/"
    assert client.post(url, {f"review-{glass_broken.pk}-note": "x"}).status_code == 404


def test_the_access_log_in_plain_words_filtered_and_as_csv(
    glass_broken, ana, emp_jo, dr_lee, privacy_pat, client, api_as
):
    api_as(dr_lee).get(f"/api/v1/clients/{ana.pk}/")
    client.force_login(privacy_pat)
    html = client.get(f"/clients/{ana.pk}/access-log/").content.decode()
    table = html[html.index('id="access-events"') :]
    assert "Broke the glass" in table and "entry.list" not in table
    only_jo = client.get(f"/clients/{ana.pk}/access-log/", {"person": emp_jo.pk}).content.decode()
    assert "Jo Martin" in only_jo and "Dr. Daniel Lee</td>" not in only_jo
    reads = client.get(f"/clients/{ana.pk}/access-log/", {"action": "client.read", "format": "csv"})
    assert reads["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(reads.content.decode())))
    assert rows[0] == ["when", "who", "organization", "action", "through", "emergency"]
    assert [row[1:4] for row in rows[1:]] == [
        ["Dr. Daniel Lee", "Riverside Family Practice", "read the record"]
    ]
    bad = client.get(
        f"/clients/{ana.pk}/access-log/", {"since": "2026-02-02", "until": "2025-01-01"}
    )
    assert bad.status_code == 400


def test_the_desk_and_the_timeline_make_as_many_queries_for_many_rows_as_for_few(
    ana, emp_jo, dr_lee, privacy_pat, client, api_as
):
    """Lists never grow a query per row: the reads under each grant, the
    reviews and the previous versions of amended entries come in one query each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from records import services as record_services

    def queries(path: str, user) -> int:
        client.force_login(user)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    def more_grants_and_amendments(n: int) -> None:
        for i in range(n):
            grant_emergency_access(provider=emp_jo, client=ana, reason=REASON)
            api_as(emp_jo).get(f"/api/v1/clients/{ana.pk}/entries/")
            note = record_services.add_entry(
                provider=dr_lee, client=ana, category="general_health", kind="note", title=f"N{i}"
            )
            record_services.amend_entry(provider=dr_lee, entry=note, title=f"N{i} (amended)")

    more_grants_and_amendments(1)
    few = queries("/privacy/", privacy_pat), queries(f"/clients/{ana.pk}/", dr_lee)
    more_grants_and_amendments(4)
    many = queries("/privacy/", privacy_pat), queries(f"/clients/{ana.pk}/", dr_lee)
    assert many == few
