"""Trigram indexes for the customer search, on PostgreSQL only.

customers.selectors.customer_ids_matching looks for the typed text inside names, emails
and identity values (`UPPER(column::text) LIKE UPPER('%text%')`, Django's `icontains`);
without these indexes each search reads every customer and every identity. The indexes
are built without locking writes (CONCURRENTLY, outside a transaction). SQLite has no such
index type and scans, which is fine at its scale.
"""

from django.db import migrations

INDEXES = {
    "customer_name_trigram": ("customers_customer", "name"),
    "customer_email_trigram": ("customers_customer", "email"),
    "identity_value_trigram": ("customers_identity", "value"),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} "
            f"USING GIN (UPPER({column}::text) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("customers", "0002_initial"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
