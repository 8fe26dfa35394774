"""Stamp the notifications delivered before `party_organization` existed: a
referral's event notification, to a provider of one of its two organizations,
and a service's warning, to a provider of the service's organization, carry
that organization — as delivery now stamps them (core.events.deliver)."""

from django.db import migrations
from django.db.models import Q


def stamp(apps, schema_editor):
    """Set-based, one organization at a time (a province has a few hundred)."""
    Notification = apps.get_model("core", "Notification")
    Organization = apps.get_model("records", "Organization")
    unstamped = Notification.objects.filter(party_organization__isnull=True)
    for organization_id in Organization.objects.values_list("pk", flat=True):
        theirs = unstamped.filter(recipient__organization_id=organization_id)
        theirs.filter(event__subject_type="referrals.referral").filter(
            Q(event__detail__from_organization__id=organization_id)
            | Q(event__detail__to_organization__id=organization_id)
        ).update(party_organization_id=organization_id)
        theirs.filter(
            event__subject_type="records.service", event__detail__organization__id=organization_id
        ).update(party_organization_id=organization_id)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_notification_party_organization")]

    operations = [migrations.RunPython(stamp, migrations.RunPython.noop)]
