"""Copy the first release's audit trail and routing queue into the ground floor.

The access log and the outbox lived in the consent and referrals apps; their
rows move here unchanged in meaning: every access event keeps its id, time,
actor and emergency mark; every outbox event and notification keeps its id,
delivery state and read state. What the new tables know that the old ones did
not:
- an access event's channel: "web" where the old action said "web.", "api" for
  the API's reads, and blank for writes, which did not record their face;
- an outbox event's generic subject (its referral or emergency access), and the
  organization names its preview shows, as of the copy.
The old tables are dropped by the next migrations of those apps.
"""

from django.db import migrations

BATCH = 2_000
REFERRAL_KINDS = {
    "referral_received",
    "referral_accepted",
    "referral_declined",
    "referral_scheduled",
    "referral_cancelled",
    "referral_overdue",
    "intake_report",
}
WRITES = {
    "client.create",
    "client.match",
    "client.update",
    "care_team.add",
    "care_team.remove",
    "entry.create",
    "consent.record",
    "consent.record_at_referral",
    "consent.apply_policy",
    "consent.revoke",
    "emergency_access.grant",
    "referral.create",
    "referral.accept",
    "referral.decline",
    "referral.schedule",
    "referral.complete",
    "referral.cancel",
}


def _batches(queryset):
    batch = []
    for row in queryset.iterator(chunk_size=BATCH):
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def copy_access_events(apps, schema_editor):
    Old = apps.get_model("consent", "AccessEvent")
    New = apps.get_model("core", "AccessEvent")
    for batch in _batches(Old.objects.order_by("at", "id")):
        rows = []
        for old in batch:
            action, channel = old.action, ""
            if action.startswith("web."):
                action, channel = action.removeprefix("web."), "web"
            elif action not in WRITES:
                channel = "api"
            rows.append(
                New(
                    id=old.id,
                    client_id=old.client_id,
                    actor_id=old.provider_id,
                    organization_id=old.organization_id,
                    by_client=False,
                    action=action,
                    channel=channel,
                    at=old.at,
                    emergency=old.emergency,
                )
            )
        New.objects.bulk_create(rows)


def copy_routing(apps, schema_editor):
    OldEvent = apps.get_model("referrals", "OutboxEvent")
    OldNotification = apps.get_model("referrals", "Notification")
    Event = apps.get_model("core", "OutboxEvent")
    Notification = apps.get_model("core", "Notification")
    events = OldEvent.objects.select_related(
        "referral__from_organization",
        "referral__to_organization",
        "emergency_access__organization",
        "actor",
    ).order_by("created_at", "id")
    for batch in _batches(events):
        rows = []
        for old in batch:
            detail = dict(old.detail or {})
            subject_type, subject_id, once_key = "", None, None
            if old.kind in REFERRAL_KINDS and old.referral_id:
                referral = old.referral
                subject_type, subject_id = "referrals.referral", referral.pk
                detail |= {
                    "from_organization": {
                        "id": referral.from_organization_id,
                        "name": referral.from_organization.name,
                    },
                    "to_organization": {
                        "id": referral.to_organization_id,
                        "name": referral.to_organization.name,
                    },
                    "referred_by": referral.referred_by_id,
                }
                if old.kind == "referral_overdue":
                    once_key = f"referral_overdue:{referral.pk}"
            elif old.emergency_access_id:
                grant = old.emergency_access
                subject_type, subject_id = "consent.emergencyaccess", grant.pk
                actor = old.actor
                detail |= {
                    "provider": (actor.full_name or actor.username) if actor else "",
                    "organization": grant.organization.name,
                }
            rows.append(
                Event(
                    id=old.id,
                    kind=old.kind,
                    client_id=old.client_id,
                    actor_id=old.actor_id,
                    subject_type=subject_type,
                    subject_id=subject_id,
                    entry_id=old.entry_id,
                    detail=detail,
                    once_key=once_key,
                    created_at=old.created_at,
                    dispatched_at=old.dispatched_at,
                    dispatch_count=old.dispatch_count,
                    delivered_at=old.delivered_at,
                )
            )
        Event.objects.bulk_create(rows)
    for batch in _batches(OldNotification.objects.order_by("created_at", "id")):
        Notification.objects.bulk_create(
            Notification(
                id=old.id,
                event_id=old.event_id,
                recipient_id=old.recipient_id,
                kind=old.kind,
                client_id=old.client_id,
                created_at=old.created_at,
                read_at=old.read_at,
                emailed_at=old.emailed_at,
            )
            for old in batch
        )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_audit_and_routing"),
        ("consent", "0003_policy_rule_category_validation"),
        ("referrals", "0002_overdue_once_and_unread_inbox"),
    ]

    operations = [
        migrations.RunPython(copy_access_events, migrations.RunPython.noop),
        migrations.RunPython(copy_routing, migrations.RunPython.noop),
    ]
