"""Backfill `stopped_waiting_at` for referrals made before it existed.

A referral stopped waiting at the first of: first scheduled, completed,
declined, cancelled. What the rows already hold:

- declined, or cancelled without ever being scheduled: `declined_at` /
  `cancelled_at`, exactly;
- ever scheduled (scheduled, or completed or cancelled after scheduling): the
  first `referral_scheduled` event of the routing outbox, which is written in
  the same transaction as the scheduling, so its time is exact;
- completed without a scheduling event: `completed_at`, exactly;
- scheduled but without a scheduling event (rows written around the services,
  e.g. by hand): the moment of scheduling is not known. It lay between
  acceptance and now; the acceptance time (else the sending time) is used, the
  earliest it can have been. docs/capacity.md says so.

Never before the referral was sent (a constraint added next holds it).
"""

from django.db import migrations
from django.db.models import Min, OuterRef, Subquery

WAITING = ("sent", "accepted")
BATCH = 2000


def backfill(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    OutboxEvent = apps.get_model("core", "OutboxEvent")
    first_scheduled = (
        OutboxEvent.objects.filter(
            kind="referral_scheduled",
            subject_type="referrals.referral",
            subject_id=OuterRef("pk"),
        )
        .order_by()
        .values("subject_id")
        .annotate(first=Min("created_at"))
        .values("first")
    )
    pending = (
        Referral.objects.filter(stopped_waiting_at__isnull=True)
        .exclude(status__in=WAITING)
        .annotate(first_scheduled=Subquery(first_scheduled))
        .order_by("pk")
    )
    while True:
        batch = list(
            pending.values(
                "pk",
                "status",
                "created_at",
                "accepted_at",
                "completed_at",
                "declined_at",
                "cancelled_at",
                "appointment_at",
                "first_scheduled",
            )[:BATCH]
        )
        if not batch:
            break
        for row in batch:
            stopped = _stopped_waiting(row)
            Referral.objects.filter(pk=row["pk"]).update(
                stopped_waiting_at=max(stopped, row["created_at"])
            )


def _stopped_waiting(row):
    if row["first_scheduled"] is not None:
        return row["first_scheduled"]
    status = row["status"]
    if status == "declined" and row["declined_at"]:
        return row["declined_at"]
    if status == "completed" and row["completed_at"]:
        return row["completed_at"]
    if status == "cancelled" and row["appointment_at"] is None and row["cancelled_at"]:
        return row["cancelled_at"]
    # Scheduled (or cancelled after scheduling) with no record of when: the
    # earliest moment it can have been.
    return row["accepted_at"] or row["created_at"]


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_copy_first_release_rows"),
        ("referrals", "0005_referral_service_and_stopped_waiting"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
