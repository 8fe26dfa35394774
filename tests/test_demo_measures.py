"""The demo's measurement-based care (measures.demo), and the issue's closing
walk on it: a clinician records a PHQ-9 for Ana with item 9 answered "Several
days"; whoever on her care team may see it gets the safety alert and the
banner; her employment counsellor only hears that an entry was added; the
centre's registry lists who is not improving first, and its numbers equal a
hand count made from the assessments list."""

import datetime
import math

import pytest
from django.core.management import call_command
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.events import deliver
from core.models import Notification, OutboxEvent
from records.models import Client, Provider
from tests.celery_worker import routed  # noqa: F401 - fixture
from tests.test_demo import token_client

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
STATUSES = ["not_improving", "no_follow_up", "in_treatment", "response", "remission"]


@pytest.fixture
def demo(client):
    call_command("load_demo", stdout=open("/dev/null", "w"))
    return client


def every_page(demo, auth, url):
    rows = []
    while url:
        page = demo.get(url, **auth).json()
        rows += page["results"]
        url = page["next"]
    return page, rows


def hand_count(assessments: list[dict], now: datetime.datetime) -> dict:
    """The registry's definition, written out plainly over one client's list."""
    ordered = sorted(assessments, key=lambda a: parse_datetime(a["administered_at"]))
    baseline, latest = ordered[0], ordered[-1]
    b, s = baseline["score"], latest["score"]
    b_at, l_at = (parse_datetime(x["administered_at"]) for x in (baseline, latest))
    n = len(ordered)
    if n >= 2 and s < 5:
        status = "remission"
    elif n >= 2 and s <= b / 2:
        status = "response"
    elif now - l_at > 28 * DAY:
        status = "no_follow_up"
    elif l_at - b_at >= 56 * DAY:
        status = "not_improving"
    else:
        status = "in_treatment"
    change = None
    if b:
        exact = 100 * (s - b) / b
        change = int(math.copysign(math.floor(abs(exact) + 0.5), exact))
    return {
        "baseline": b,
        "latest": s,
        "count": n,
        "status": status,
        "change_percent": change,
        "weeks_in_care": int((now - b_at) / (7 * DAY)),
    }


@pytest.mark.parametrize("instrument", ["phq9", "gad7"])
def test_the_centres_registry_equals_a_hand_count(demo, instrument):
    auth = token_client(demo, "coord_rivera")
    now = timezone.now()
    body, rows = every_page(demo, auth, f"/api/v1/registry/?instrument={instrument}")
    # Every status is there, and who is not improving comes first.
    assert all(body["summary"][status] >= 1 for status in STATUSES), body["summary"]
    assert rows[0]["status"] == "not_improving"
    assert [r["status"] for r in rows] == sorted((r["status"] for r in rows), key=STATUSES.index)
    _, clients = every_page(demo, auth, "/api/v1/clients/")
    expected = {}
    for client in clients:
        _, mine = every_page(
            demo, auth, f"/api/v1/clients/{client['id']}/assessments/?instrument={instrument}"
        )
        if mine:
            expected[client["id"]] = hand_count(mine, now)
    got = {
        r["client"]["id"]: {
            "baseline": r["baseline"]["score"],
            "latest": r["latest"]["score"],
            "count": r["count"],
            "status": r["status"],
            "change_percent": r["change_percent"],
            "weeks_in_care": r["weeks_in_care"],
        }
        for r in rows
    }
    assert got == expected
    assert body["summary"] == {
        s: sum(1 for e in expected.values() if e["status"] == s) for s in STATUSES
    }


def test_ana_responds_and_marcus_is_not_improving(demo):
    ana = Client.objects.get(given_name="Ana")
    marcus = Client.objects.get(given_name="Marcus")
    kim = token_client(demo, "intake_kim")
    centre = {
        r["client"]["id"]: r
        for r in demo.get("/api/v1/registry/?instrument=phq9", **kim).json()["results"]
    }
    assert centre[str(ana.pk)]["baseline"]["score"] >= 20  # severe at first
    assert centre[str(ana.pk)]["status"] == "response"
    cho = token_client(demo, "dr_cho")
    clinic = demo.get("/api/v1/registry/?instrument=phq9", **cho).json()["results"]
    assert [(r["client"]["id"], r["status"]) for r in clinic] == [(str(marcus.pk), "not_improving")]
    leo = demo.get("/api/v1/registry/?instrument=gad7", **token_client(demo, "psych_fox")).json()
    assert [r["client"]["given_name"] for r in leo["results"]] == ["Leo"]


def test_the_closing_walk_on_the_demo(demo, routed):  # noqa: F811
    ana = Client.objects.get(given_name="Ana")
    lee = token_client(demo, "dr_lee")
    # The demo's own events first (a test's transaction never commits them), then
    # a clean inbox for everyone.
    with routed():
        for event in OutboxEvent.objects.filter(delivered_at__isnull=True):
            deliver(event.pk)
    Notification.objects.all().delete()
    with routed():
        response = demo.post(
            f"/api/v1/clients/{ana.pk}/assessments/",
            {"instrument": "phq9", "answers": [1, 1, 1, 0, 1, 0, 0, 0, 1]},
            content_type="application/json",
            **lee,
        )
    assert response.status_code == 201, response.content
    entry = response.json()["entry"]
    # Ana's care team: her doctor (the author), the centre's intake worker, her
    # employment counsellor.
    received = {
        (n.recipient.username, n.kind) for n in Notification.objects.select_related("recipient")
    }
    assert received == {("intake_kim", "safety_alert"), ("emp_jo", "entry_added")}

    kim = token_client(demo, "intake_kim")
    [alert] = demo.get("/api/v1/inbox/?unread=true", **kim).json()["results"]
    assert (alert["kind"], alert["entry"]) == ("safety_alert", entry)
    assert alert["preview"].startswith("Safety alert: PHQ-9 item 9 answered above 0")
    [added] = demo.get("/api/v1/inbox/?unread=true", **token_client(demo, "emp_jo")).json()[
        "results"
    ]
    assert (added["kind"], added["preview"]) == ("entry_added", "New entry — content withheld.")

    demo.force_login(Provider.objects.get(username="intake_kim"))
    assert 'id="safety-alert"' in demo.get(f"/clients/{ana.pk}/").content.decode()
    demo.force_login(Provider.objects.get(username="emp_jo"))
    page = demo.get(f"/clients/{ana.pk}/").content.decode()
    assert "safety-alert" not in page and "PHQ-9" not in page
