"""Care-team groups named by the organization's id, not its name (which the
admin may change): `organization:<id>`."""

from django.db import migrations


def name_groups_by_id(apps, schema_editor):
    Organization = apps.get_model("records", "Organization")
    Group = apps.get_model("auth", "Group")
    for organization_id, group_id in Organization.objects.values_list("pk", "group_id"):
        Group.objects.filter(pk=group_id).update(name=f"organization:{organization_id}")


class Migration(migrations.Migration):
    dependencies = [("records", "0002_client_accounts_no_per_user_permissions")]

    operations = [migrations.RunPython(name_groups_by_id, migrations.RunPython.noop)]
