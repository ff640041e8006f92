# The unique (channel, body_sha256) constraint already indexes the channel column: the
# single-column index only cost a write for every stored raw event. The foreign key
# itself stays as it is.

import django.db.models.deletion
from django.db import migrations, models

INDEX = "channels_app_webhookevent_channel_id_4bf0c129"


class Migration(migrations.Migration):
    dependencies = [
        ("channels_app", "0004_webhook_event_envelope_sender"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=(
                        f'CREATE INDEX IF NOT EXISTS "{INDEX}" '
                        'ON "channels_app_webhookevent" ("channel_id")'
                    ),
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="webhookevent",
                    name="channel",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="webhook_events",
                        to="channels_app.channel",
                    ),
                )
            ],
        )
    ]
