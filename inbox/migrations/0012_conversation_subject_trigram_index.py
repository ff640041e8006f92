"""A trigram index for searching conversation subjects, on PostgreSQL only.

The conversation search (inbox.selectors.conversation_text_match) looks for the typed
text inside subjects (`UPPER(subject::text) LIKE UPPER('%text%')`); without this index
each search reads every conversation. Built without locking writes (CONCURRENTLY,
outside a transaction); SQLite scans instead.
"""

from django.db import migrations

INDEX_NAME = "conversation_subject_trigram"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX_NAME} ON inbox_conversation "
        "USING GIN (UPPER(subject::text) gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX_NAME}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inbox", "0011_message_external_id_unique_per_direction"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
