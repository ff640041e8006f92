"""Message search in the customers' languages: a GIN index over each message's words as
written (`simple`) and stemmed (`russian`: Russian for Cyrillic words, English for Latin
ones), on PostgreSQL only.

The words come from one function, `inbox_message_words(body)`, which the index and
inbox.selectors.messages_matching_text both call. It is PL/pgSQL so that PostgreSQL does
not inline it and plans with its declared cost: inlined, the two `to_tsvector` calls
counted twice the cost of one, and over 1M messages the planner chose parallel scans
that took longer to start than the search itself.

The index replaces the index of words as written alone (0005), which no query uses any
more: one index updated per message keeps the webhook path's cost where it was. Built
without locking writes (CONCURRENTLY, outside a transaction); an index a failed build
left invalid is built again. The table is analysed afterwards: until then PostgreSQL has
no statistics for the new expression. SQLite searches with a substring match instead.
"""

from django.db import migrations

FUNCTION = "inbox_message_words"
CREATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}(body text) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1
AS $$
BEGIN
    RETURN to_tsvector('simple', body) || to_tsvector('russian', body);
END
$$
"""
INDEX_NAME = "message_body_words"
WORDS = f"{FUNCTION}(body)"
REPLACED_INDEX_NAME = "message_body_search"
REPLACED_WORDS = "to_tsvector('simple', body)"


def _build(schema_editor, name: str, expression: str) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name]
        )
        left_invalid = cursor.fetchone()
    if left_invalid and left_invalid[0]:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON inbox_message "
        f"USING GIN ({expression})"
    )


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION)
    _build(schema_editor, INDEX_NAME, WORDS)
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {REPLACED_INDEX_NAME}")
    schema_editor.execute("ANALYZE inbox_message")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _build(schema_editor, REPLACED_INDEX_NAME, REPLACED_WORDS)
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX_NAME}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}(text)")
    schema_editor.execute("ANALYZE inbox_message")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inbox", "0021_canned_response_shared_or_personal"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
