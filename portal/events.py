"""The portal's part in routing: an email to the client when a referral of
theirs is scheduled or declined, if they chose it (docs/portal.md, "Emails").

How it is never lost and never doubled:

1. The referral event is delivered by the routing queue like any other
   (`core.events.deliver`). This app subscribes to `referral_scheduled` and
   `referral_declined`: the subscriber runs inside the delivery's transaction,
   once per event (the delivery claims the event first), and writes one
   `ClientNotice` — unique per event — when the client chose email notices
   and has an address. The notice commits with the delivery or not at all.
2. After commit the notice's id is handed to Celery (`send_client_notice`).
   The task claims the notice with a conditional UPDATE before sending, so a
   redelivered message finds it claimed and sends nothing; a failed send
   releases the claim and the task retries.
3. `send_pending_notices` (run by every outbox sweep) hands out again any notice still unsent: one
   whose hand-off was lost (broker down), or whose sender died after claiming
   it (claimed longer ago than CLAIM_TIMEOUT).

The email says the organization and the appointment's date, or that the
referral was declined — never the reason, the service, or anything else of the
record — and carries a one-click link to stop these emails.
"""

import logging
import smtplib
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core import events
from core.models import OutboxEvent
from portal.models import ClientNotice, NoticeChoice
from referrals.events import REFERRAL_DECLINED, REFERRAL_SCHEDULED

log = logging.getLogger(__name__)

OPT_OUT_SALT = "portal.notices.stop"
# A sender that claimed a notice and never confirmed it has died this long ago.
CLAIM_TIMEOUT = timedelta(minutes=10)


# --- the opt-out link ----------------------------------------------------------------------


def opt_out_token(client_id: Any) -> str:
    """Names the client, signed with the project's secret: the link is the
    credential (no sign-in from an email)."""
    return signing.dumps(str(client_id), salt=OPT_OUT_SALT, compress=True)


def client_of_opt_out(token: str) -> str | None:
    """The client id a genuine token names; None for anything else."""
    try:
        return signing.loads(token, salt=OPT_OUT_SALT)
    except signing.BadSignature:
        return None


def opt_out_url(client_id: Any) -> str:
    path = reverse("portal-notices-stop", args=[opt_out_token(client_id)])
    return settings.CARELINK_BASE_URL.rstrip("/") + path


# --- what the email says -------------------------------------------------------------------


def _appointment_text(value: str) -> str:
    moment = parse_datetime(value)
    if moment is None:
        return "soon"
    local = timezone.localtime(moment)
    return f"{local:%A %-d %B %Y} at {local:%-H:%M}"


def notice_text(event: OutboxEvent) -> tuple[str, str]:
    """Subject and body: the organization and the date, or that it was
    declined. Nothing else of the record."""
    organization = event.detail["to_organization"]["name"]
    if event.kind == REFERRAL_SCHEDULED.name:
        subject = "Your referral has an appointment"
        lead = (
            f"{organization} has given you an appointment: "
            f"{_appointment_text(event.detail.get('appointment_at', ''))}."
        )
    else:
        subject = "An update on your referral"
        lead = (
            f"{organization} cannot take your referral. "
            "Your care team will talk with you about what comes next."
        )
    portal = settings.CARELINK_BASE_URL.rstrip("/") + "/portal/"
    body = (
        f"{lead}\n\n"
        f"Sign in to your CareLink portal to see your referrals: {portal}\n\n"
        "To stop these emails, open this link:\n"
        f"{opt_out_url(event.client_id)}\n"
    )
    return subject, body


# --- the subscriber ------------------------------------------------------------------------


def notice_the_client(event: OutboxEvent) -> None:
    """Runs in the delivery of a scheduled or declined referral: one notice,
    if the client chose email notices and has an address."""
    choice = (
        NoticeChoice.objects.filter(client_id=event.client_id, email_notices=True)
        .select_related("client")
        .first()
    )
    if choice is None or not choice.client.email:
        return
    notice, created = ClientNotice.objects.get_or_create(
        event=event, defaults={"client_id": event.client_id, "address": choice.client.email}
    )
    if created:
        transaction.on_commit(lambda: _queue(notice.pk))


events.subscribe(REFERRAL_SCHEDULED, notice_the_client)
events.subscribe(REFERRAL_DECLINED, notice_the_client)


def _queue(notice_id: Any) -> None:
    try:
        send_client_notice.delay(str(notice_id))
    except Exception:  # broker unreachable: send_pending_notices hands it out later
        log.warning("could not queue client notice %s; the sweep will retry", notice_id)


# --- sending -------------------------------------------------------------------------------


def _claimable(now: datetime) -> Q:
    return Q(sent_at__isnull=True) & (
        Q(claimed_at__isnull=True) | Q(claimed_at__lte=now - CLAIM_TIMEOUT)
    )


def send_notice(notice_id: Any) -> bool:
    """Send one notice if nobody else has: claim, send, confirm. Returns
    whether this call sent it. Raises on a failed send (the claim released)."""
    now = timezone.now()
    claimed = ClientNotice.objects.filter(_claimable(now), pk=notice_id).update(claimed_at=now)
    if not claimed:
        return False
    notice = ClientNotice.objects.select_related("event").get(pk=notice_id)
    if not NoticeChoice.objects.filter(client_id=notice.client_id, email_notices=True).exists():
        # Stopped between the event and now: the choice at sending time wins.
        ClientNotice.objects.filter(pk=notice_id).update(sent_at=now)
        return False
    subject, body = notice_text(notice.event)
    url = opt_out_url(notice.client_id)
    message = EmailMessage(
        subject,
        body,
        None,
        [notice.address],
        headers={
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    try:
        message.send()
    except (smtplib.SMTPException, OSError):
        ClientNotice.objects.filter(pk=notice_id).update(claimed_at=None)
        raise
    ClientNotice.objects.filter(pk=notice_id).update(sent_at=timezone.now())
    return True


@shared_task(
    bind=True,
    name="portal.events.send_client_notice",
    ignore_result=True,
    max_retries=5,
    default_retry_delay=60,
)
def send_client_notice(self: Any, notice_id: str) -> bool:
    try:
        return send_notice(notice_id)
    except (smtplib.SMTPException, OSError):
        log.warning("client notice %s failed; will retry", notice_id)
        if self.request.is_eager:  # in-process: the sweep tries again later
            return False
        raise self.retry() from None


def send_pending_notices(batch: int = 500) -> int:
    """Hand out again every notice not sent yet whose hand-off is older than
    half a sweep interval (lost with the broker, or its sender died)."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.CARELINK_OUTBOX_SWEEP_SECONDS / 2)
    pending = list(
        ClientNotice.objects.filter(_claimable(now), created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:batch]
    )
    for notice_id in pending:
        _queue(notice_id)
    return len(pending)


events.sweep_also(send_pending_notices)
