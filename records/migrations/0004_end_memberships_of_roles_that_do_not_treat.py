"""Minimum necessary: organization admins and privacy officers are never on a
care team. Memberships made before the rule end now (kept in history with an
end date, like any provider leaving the case); an organization that was on the
team only through them loses its access to the client, as rule 1 says."""

from django.db import migrations
from django.db.models import Q
from django.utils import timezone

NON_READING_ROLES = ["org_admin", "privacy_officer"]


def end_memberships(apps, schema_editor):
    CareTeamMembership = apps.get_model("records", "CareTeamMembership")
    ClientGroupObjectPermission = apps.get_model("records", "ClientGroupObjectPermission")
    Organization = apps.get_model("records", "Organization")
    ending = CareTeamMembership.objects.filter(
        ended_at__isnull=True, provider__role__in=NON_READING_ROLES
    )
    pairs = set(ending.values_list("client_id", "organization_id"))
    if not pairs:
        return
    now = timezone.now()
    # `since` may lie in the future on a clock-skewed row; the end never precedes it.
    for membership in ending:
        membership.ended_at = max(now, membership.since)
        membership.save(update_fields=["ended_at"])
    groups = dict(Organization.objects.values_list("pk", "group_id"))
    for client_id, organization_id in pairs:
        still_on_team = CareTeamMembership.objects.filter(
            Q(ended_at__isnull=True), client_id=client_id, organization_id=organization_id
        ).exists()
        if not still_on_team:
            ClientGroupObjectPermission.objects.filter(
                group_id=groups[organization_id],
                content_object_id=client_id,
                permission__codename="access_client",
            ).delete()


class Migration(migrations.Migration):
    dependencies = [("records", "0003_name_groups_by_organization_id")]

    operations = [migrations.RunPython(end_memberships, migrations.RunPython.noop)]
