"""A GIN index for full-text search on message bodies, on PostgreSQL only.

The expression is the one inbox.selectors.messages_matching_text filters on; SQLite has no
such index type and searches with a substring match instead.
"""

from django.db import migrations

INDEX_NAME = "message_body_search"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON inbox_message "
        "USING GIN (to_tsvector('simple', body))"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0004_csat_report_covering_index"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
