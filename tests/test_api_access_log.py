"""The access log: who may read it, and what it shows."""

from consent.services import grant_emergency_access
from core.models import AccessEvent

REASON = "Client in crisis at the front desk, need the care plan."


def log_url(client) -> str:
    return f"/api/v1/clients/{client.pk}/access-log/"


def test_privacy_officer_of_care_team_org_reads_the_log(ana, dr_lee, privacy_pat, api_as):
    api_as(dr_lee).get(f"/api/v1/clients/{ana.pk}/")
    response = api_as(privacy_pat).get(log_url(ana))
    assert response.status_code == 200
    page = response.json()
    assert {"count", "next", "previous", "results"} <= set(page)
    newest = page["results"][0]
    assert set(newest) >= {"id", "at", "provider", "organization", "action", "emergency"}
    assert newest["provider"] == {"id": dr_lee.pk, "full_name": "Dr. Daniel Lee"}
    assert newest["organization"] == {
        "id": dr_lee.organization_id,
        "name": "Riverside Family Practice",
    }
    assert newest["action"] == "client.read"
    assert newest["emergency"] is False
    ats = [event["at"] for event in page["results"]]
    assert ats == sorted(ats, reverse=True)
    # Reading the log is itself recorded.
    assert AccessEvent.objects.filter(
        client=ana, actor=privacy_pat, action="access_log.read"
    ).exists()


def test_other_care_team_providers_get_403(ana, dr_lee, intake_kim, emp_jo, api_as):
    before = AccessEvent.objects.count()
    for provider in (dr_lee, intake_kim, emp_jo):
        response = api_as(provider).get(log_url(ana))
        assert response.status_code == 403
        assert "detail" in response.json()
    assert AccessEvent.objects.count() == before


def test_privacy_officer_off_the_care_team_gets_404(ana, hospital_privacy, api_as):
    assert api_as(hospital_privacy).get(log_url(ana)).status_code == 404


def test_superuser_reads_any_log_but_unknown_client_is_404(ana, sysadmin, api_as):
    response = api_as(sysadmin).get(log_url(ana))
    assert response.status_code == 200
    assert response.json()["count"] >= 1
    event = AccessEvent.objects.filter(actor=sysadmin).get()
    assert event.action == "access_log.read" and event.organization is None
    later = api_as(sysadmin).get(log_url(ana)).json()["results"][0]
    assert later["provider"]["id"] == sysadmin.pk and later["organization"] is None
    assert (
        api_as(sysadmin)
        .get("/api/v1/clients/00000000-0000-4000-8000-000000000000/access-log/")
        .status_code
        == 404
    )
    assert api_as(sysadmin).get("/api/v1/clients/xyz/access-log/").status_code == 404


def test_emergency_events_are_marked(ana, emp_jo, privacy_pat, api_as):
    grant_emergency_access(provider=emp_jo, client=ana, reason=REASON)
    api_as(emp_jo).get(f"/api/v1/clients/{ana.pk}/entries/")
    results = api_as(privacy_pat).get(log_url(ana)).json()["results"]
    jo_events = [e for e in results if e["provider"]["id"] == emp_jo.pk]
    assert {e["action"] for e in jo_events} >= {"emergency_access.grant", "entry.list"}
    assert all(e["emergency"] for e in jo_events)
    assert not any(e["emergency"] for e in results if e["provider"]["id"] != emp_jo.pk)


def test_access_log_is_read_only(ana, privacy_pat, sysadmin, api_as):
    before = list(AccessEvent.objects.values_list("id", "action", "at"))
    for caller in (privacy_pat, sysadmin):
        for method in ("post", "put", "patch", "delete"):
            response = getattr(api_as(caller), method)(log_url(ana), {}, format="json")
            assert response.status_code == 405, (method, response.status_code)
    after = set(AccessEvent.objects.values_list("id", "action", "at"))
    assert set(before) <= after
