"""The referrals app's periodic task: noticing referrals that wait too long."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from referrals.models import Referral, ReferralStatus
from referrals.services import notice_overdue_referral


@shared_task(name="referrals.tasks.notice_overdue_referrals", ignore_result=True)
def notice_overdue_referrals() -> int:
    """Referrals still `sent` past CARELINK_OVERDUE_DAYS for their urgency get one
    `referral_overdue` notification each, however often this runs."""
    now = timezone.now()
    waiting = Q()
    for urgency, days in settings.CARELINK_OVERDUE_DAYS.items():
        waiting |= Q(urgency=urgency, created_at__lte=now - timedelta(days=days))
    overdue_ids = list(
        Referral.objects.filter(waiting, status=ReferralStatus.SENT, overdue_noticed_at=None)
        .order_by("created_at")
        .values_list("pk", flat=True)
    )
    return sum(notice_overdue_referral(referral_id) for referral_id in overdue_ids)
