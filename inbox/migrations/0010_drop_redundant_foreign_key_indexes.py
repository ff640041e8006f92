# The composite indexes of Conversation and Message start with these columns, so the
# single-column indexes Django adds to foreign keys only cost writes. The foreign keys
# themselves stay as they are: only the indexes go (no constraint is checked again).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

REDUNDANT_INDEXES = [
    ("inbox_conversation", "assignee_id", "inbox_conversation_assignee_id_4bf0d3a6"),
    ("inbox_conversation", "channel_id", "inbox_conversation_channel_id_8b41ed11"),
    ("inbox_conversation", "customer_id", "inbox_conversation_customer_id_06258690"),
    ("inbox_message", "conversation_id", "inbox_message_conversation_id_37bc0d72"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0009_team_auto_assign"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("{column}")',
                )
                for table, column, index in REDUNDANT_INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="conversation",
                    name="assignee",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="assigned_conversations",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="conversation",
                    name="channel",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="conversations",
                        to="channels_app.channel",
                    ),
                ),
                migrations.AlterField(
                    model_name="conversation",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="conversations",
                        to="customers.customer",
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="conversation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="messages",
                        to="inbox.conversation",
                    ),
                ),
            ],
        ),
    ]
