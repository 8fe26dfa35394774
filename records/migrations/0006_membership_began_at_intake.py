"""Memberships from before `began` was kept: the one start that the rows
themselves tell is the registering provider's own (the client's `created_by`,
from its first membership). Others stay unrecorded ("on the care team")
rather than guessed."""

from django.db import migrations
from django.db.models import F


def mark_registrations(apps, schema_editor):
    CareTeamMembership = apps.get_model("records", "CareTeamMembership")
    CareTeamMembership.objects.filter(began="", provider_id=F("client__created_by_id")).update(
        began="intake"
    )


class Migration(migrations.Migration):
    dependencies = [("records", "0005_membership_began_and_ended_by")]

    operations = [migrations.RunPython(mark_registrations, migrations.RunPython.noop)]
