from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0010_drop_redundant_foreign_key_indexes"),
    ]

    operations = [
        # The new index first: external ids stay unique throughout.
        migrations.AddConstraint(
            model_name="message",
            constraint=models.UniqueConstraint(
                condition=models.Q(("external_id__isnull", False)),
                fields=("channel", "direction", "external_id"),
                name="message_unique_external_id_per_direction",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="message",
            name="message_unique_external_id_per_channel",
        ),
    ]
