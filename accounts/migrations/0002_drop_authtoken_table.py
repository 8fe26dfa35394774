"""The tokens of `rest_framework.authtoken` (one per provider, never ending,
shown in the admin) are replaced by accounts.DeviceToken. Their table goes with
the app: existing tokens stop working, and clients sign in again for a new one
(docs/security.md). A database that never had the app is unchanged."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_device_tokens")]

    operations = [
        migrations.RunSQL(
            sql=[
                "DROP TABLE IF EXISTS authtoken_token",
                "DELETE FROM django_migrations WHERE app = 'authtoken'",
            ],
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
