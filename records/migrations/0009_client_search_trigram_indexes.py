"""Client search by trigram indexes (PostgreSQL only).

`search_clients` matches each word anywhere in a name (`icontains`, which
Django writes as `UPPER(column) LIKE UPPER('%word%')`) or in the health card
(`contains`). Only a trigram GIN index serves a pattern with a leading `%`;
these index the very expressions Django writes, so the same query uses them.
pg_trgm is a PostgreSQL extension: on any other database this migration does
nothing (and the search, the same rows, scans the caller's clients).
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = {
    "client_given_name_trigram": 'UPPER("given_name") gin_trgm_ops',
    "client_family_name_trigram": 'UPPER("family_name") gin_trgm_ops',
    "client_health_card_trigram": '"health_card_normalized" gin_trgm_ops',
}


class OnPostgreSQL(migrations.operations.base.Operation):
    """Run `operation` on PostgreSQL only (the model state is not touched)."""

    reduces_to_sql = False
    reversible = True

    def __init__(self, operation):
        self.operation = operation

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            self.operation.database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            self.operation.database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"On PostgreSQL only: {self.operation.describe()}"


class Migration(migrations.Migration):
    dependencies = [("records", "0008_service")]

    operations = [
        OnPostgreSQL(TrigramExtension()),
        *(
            OnPostgreSQL(
                migrations.RunSQL(
                    f'CREATE INDEX IF NOT EXISTS "{name}" ON "records_client" USING gin ({expr})',
                    f'DROP INDEX IF EXISTS "{name}"',
                )
            )
            for name, expr in INDEXES.items()
        ),
    ]
