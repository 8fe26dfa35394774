"""Email notices to the client (docs/portal.md, "Emails"): a referral scheduled
or declined, when the client chose them; no clinical content; a one-click
opt-out; exactly one email per event, even with redelivery — in-process and
with a real Celery worker on Redis."""

# ruff: noqa: F811 - the worker fixtures are imported from tests.celery_worker

import datetime
import re
import time

import pytest
from django.core import mail
from django.db import close_old_connections
from django.test import Client as WebClient
from django.utils import timezone

from core.events import deliver, deliver_event, sweep_outbox
from core.models import OutboxEvent
from portal import services as portal_services
from portal.events import (
    notice_the_client,
    opt_out_token,
    send_client_notice,
    send_pending_notices,
)
from portal.models import ClientNotice, NoticeChoice
from referrals import services as referral_services
from tests.celery_worker import (  # noqa: F401 - fixtures
    routed,
    routing_worker,
    spawn_worker,
    wait_for,
    worker_queue,
)
from tests.factories import ClientFactory, OrganizationFactory, ProviderFactory
from tests.mail_support import point_mail_at_nothing
from tests.portal_support import open_portal_account

APPOINTMENT = datetime.datetime(2027, 3, 9, 15, 30, tzinfo=datetime.UTC)  # 10:30 in Toronto


def open_account(client, provider, email="ana@example.org"):
    client.email = email
    client.save(update_fields=["email"])
    return open_portal_account(client, provider)


def client_emails():
    return [m for m in mail.outbox if "ana@example.org" in m.to]


@pytest.fixture
def opted_in(ana, dr_lee):
    account = open_account(ana, dr_lee)
    portal_services.set_email_notices(account=account, enabled=True)
    return account


def send_and_schedule(referrer, receiver, client, organization):
    referral = referral_services.refer_client(
        provider=referrer,
        client=client,
        reason="Panic attacks since the accident",
        urgency="routine",
        to_organization=organization,
    )
    referral_services.accept_referral(provider=receiver, referral=referral)
    referral_services.schedule_referral(
        provider=receiver, referral=referral, appointment_at=APPOINTMENT
    )
    return referral


def test_scheduled_and_declined_each_send_one_email(
    opted_in, ana, dr_lee, intake_hal, housing, routed, settings
):
    settings.CARELINK_BASE_URL = "https://carelink.example"
    mail.outbox.clear()
    with routed():
        send_and_schedule(dr_lee, intake_hal, ana, housing)
    [scheduled] = client_emails()
    assert scheduled.subject == "Your referral has an appointment"
    assert "Harbour Supportive Housing" in scheduled.body
    assert "Tuesday 9 March 2027 at 10:30" in scheduled.body
    forbidden = ["Panic", "accident", "Silva", "mental", "Riverside"]
    text = f"{scheduled.subject}\n{scheduled.body}"
    assert not [word for word in forbidden if word.lower() in text.lower()], text
    link = re.search(r"https://carelink\.example/portal/notices/stop/\S+/", scheduled.body)
    assert link is not None
    assert scheduled.extra_headers["List-Unsubscribe"] == f"<{link.group(0)}>"
    assert scheduled.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    mail.outbox.clear()
    with routed():
        declined = referral_services.refer_client(
            provider=dr_lee, client=ana, reason="r", urgency="routine", to_organization=housing
        )
        referral_services.decline_referral(provider=intake_hal, referral=declined, reason="Full")
    [message] = client_emails()
    assert message.subject == "An update on your referral"
    assert "Harbour Supportive Housing cannot take your referral" in message.body
    assert "Full" not in message.body


def test_no_email_without_the_choice_or_an_address(ana, dr_lee, intake_hal, housing, routed):
    account = open_account(ana, dr_lee)
    mail.outbox.clear()
    with routed():
        send_and_schedule(dr_lee, intake_hal, ana, housing)
    assert client_emails() == []
    portal_services.set_email_notices(account=account, enabled=True)
    portal_services.set_portal_email(account=account, email="")  # no address: choice off too
    assert not NoticeChoice.objects.get(client=ana).email_notices
    with routed():
        send_and_schedule(dr_lee, intake_hal, ana, housing)
    assert client_emails() == [] and not ClientNotice.objects.exists()


def test_redelivery_sends_nothing_more(opted_in, ana, dr_lee, intake_hal, housing, routed):
    mail.outbox.clear()
    with routed():
        send_and_schedule(dr_lee, intake_hal, ana, housing)
    event = OutboxEvent.objects.get(kind="referral_scheduled")
    notice = ClientNotice.objects.get()
    with routed():
        deliver(event.pk)  # the delivery again: already delivered, the subscriber stays quiet
        notice_the_client(event)  # even the subscriber again: one notice per event
        send_client_notice.delay(str(notice.pk))
        send_client_notice.delay(str(notice.pk))
        send_pending_notices()
    assert ClientNotice.objects.count() == 1
    assert len(client_emails()) == 1


def test_a_lost_hand_off_is_sent_by_the_sweep(opted_in, ana, settings, routed):
    """A notice whose hand-off never reached the queue goes out on the next sweep."""
    event = OutboxEvent.objects.create(
        kind="referral_declined",
        client=ana,
        detail={"to_organization": {"id": 1, "name": "Harbour"}},
    )
    notice = ClientNotice.objects.create(
        event=event,
        client=ana,
        address="ana@example.org",
        created_at=timezone.now() - datetime.timedelta(minutes=1),
    )
    mail.outbox.clear()
    with routed():
        # The outbox sweep runs the portal's own sweep (core.events.sweep_also).
        sweep_outbox()
    assert len(client_emails()) == 1
    notice.refresh_from_db()
    assert notice.sent_at is not None
    with routed():
        assert send_pending_notices() == 0


def test_no_periodic_task_shares_the_routing_queue_with_the_sweep_at_its_pace(settings):
    """A beat task falling due with every sweep waits in the routing queue when
    the sweep looks, and the sweep takes it for a backlog and holds back, sweep
    after sweep: the portal's hand-outs run inside the sweep instead."""
    paced = [
        entry["task"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if float(entry["schedule"]) <= settings.CARELINK_OUTBOX_SWEEP_SECONDS
    ]
    assert paced == ["core.events.sweep_outbox"]


def test_a_failed_send_is_released_and_retried(opted_in, ana, settings, routed):
    event = OutboxEvent.objects.create(
        kind="referral_declined", client=ana, detail={"to_organization": {"id": 1, "name": "H"}}
    )
    notice = ClientNotice.objects.create(event=event, client=ana, address="ana@example.org")
    saved = settings.MAILERS
    point_mail_at_nothing(settings)
    with routed():
        send_client_notice.delay(str(notice.pk))
    notice.refresh_from_db()
    assert notice.claimed_at is None and notice.sent_at is None  # released for the retry
    settings.MAILERS = saved
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    with routed():
        send_client_notice.delay(str(notice.pk))
    assert len(client_emails()) == 1


def test_opt_out_page(opted_in, ana):
    web = WebClient()
    url = f"/portal/notices/stop/{opt_out_token(ana.pk)}/"
    page = web.get(url)
    assert page.status_code == 200
    assert "Stop these emails" in page.content.decode()
    assert "unsafe-inline" not in page["Content-Security-Policy"]
    assert NoticeChoice.objects.get(client=ana).email_notices  # a GET changes nothing
    done = web.post(url)  # one click, no sign-in, no CSRF token (the link is the credential)
    assert done.status_code == 200 and "Emails stopped" in done.content.decode()
    assert not NoticeChoice.objects.get(client=ana).email_notices
    assert web.get("/portal/notices/stop/forged-token/").status_code == 404
    assert web.post(f"/portal/notices/stop/{opt_out_token(ana.pk)}x/").status_code == 404


def test_stopping_between_event_and_sending_wins(opted_in, ana, dr_lee, intake_hal, housing):
    referral = referral_services.refer_client(
        provider=dr_lee, client=ana, reason="r", urgency="routine", to_organization=housing
    )
    referral_services.decline_referral(provider=intake_hal, referral=referral, reason="Full")
    event = OutboxEvent.objects.get(kind="referral_declined")
    deliver(event.pk)
    notice = ClientNotice.objects.get()
    WebClient().post(f"/portal/notices/stop/{opt_out_token(ana.pk)}/")
    mail.outbox.clear()
    send_client_notice.apply(args=[str(notice.pk)])
    assert client_emails() == []


# --- a real worker ---------------------------------------------------------------------------


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_worker_sends_exactly_one_email_per_event_despite_redelivery(routing_worker):
    practice = OrganizationFactory(name="Practice", sector="primary_care")
    housing = OrganizationFactory(name="Harbour", sector="housing")
    lee = ProviderFactory(username="lee", organization=practice)
    hal = ProviderFactory(username="hal", organization=housing, role="intake_worker")
    ana = ClientFactory(registered_by=lee, given_name="Ana", family_name="Silva")
    account = open_account(ana, lee)
    portal_services.set_email_notices(account=account, enabled=True)

    send_and_schedule(lee, hal, ana, housing)
    declined = referral_services.refer_client(
        provider=lee, client=ana, reason="r", urgency="routine", to_organization=housing
    )
    referral_services.decline_referral(provider=hal, referral=declined, reason="Full")

    def sent() -> int:
        close_old_connections()
        return ClientNotice.objects.filter(sent_at__isnull=False).count()

    wait_for(lambda: sent() == 2, 30, "both client notices to be sent by the worker")
    # Redelivery, every way: the events' deliveries again, the notices' tasks again
    # (three times each), and the worker's beat sweeping every second meanwhile.
    for event_id in OutboxEvent.objects.values_list("pk", flat=True):
        deliver_event.delay(str(event_id))
    for notice_id in ClientNotice.objects.values_list("pk", flat=True):
        for _ in range(3):
            send_client_notice.delay(str(notice_id))
    log = routing_worker.log_path
    wait_for(
        lambda: log.read_text(errors="replace").count("portal.events.send_client_notice") >= 8,
        30,
        "the redelivered notice tasks to run",
    )
    time.sleep(2.5)  # two more sweeps
    text = log.read_text(errors="replace")
    assert text.count("Subject: Your referral has an appointment") == 1, routing_worker.log_tail()
    assert text.count("Subject: An update on your referral") == 1
    assert ClientNotice.objects.count() == 2
