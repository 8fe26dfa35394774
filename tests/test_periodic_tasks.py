"""The embedded deployment's beat: `run_periodic_tasks` runs the outbox sweep and
the overdue-referral check in-process, so a clinic without Redis loses nothing."""

import datetime

from django.core.management import call_command
from django.utils import timezone

from core.models import Notification, OutboxEvent
from referrals import services
from referrals.models import Referral
from tests.celery_worker import routed  # noqa: F401 - a fixture


def test_one_pass_delivers_what_was_never_delivered_and_notices_overdue_referrals(
    ana,
    dr_lee,
    intake_hal,
    routed,  # noqa: F811 - the fixture imported above
    settings,
):
    settings.CARELINK_OUTBOX_SWEEP_SECONDS = 0
    # Outside `routed` the after-commit hand-off never runs: as if delivery failed.
    referral = services.refer_client(
        provider=dr_lee,
        client=ana,
        to_organization=intake_hal.organization,
        reason="Needs supported housing.",
        urgency="routine",
    )
    Referral.objects.filter(pk=referral.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=31)
    )
    assert not Notification.objects.exists()

    with routed():
        call_command("run_periodic_tasks", "--once")

    kinds = sorted(Notification.objects.filter(recipient=intake_hal).values_list("kind", flat=True))
    assert kinds == ["referral_overdue", "referral_received"]
    assert Notification.objects.filter(recipient=dr_lee, kind="referral_overdue").count() == 1
    assert not OutboxEvent.objects.filter(delivered_at__isnull=True).exists()

    # A second pass changes nothing: each event once, each overdue notice once.
    with routed():
        call_command("run_periodic_tasks", "--once")
    assert Notification.objects.count() == 3
