from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0024_message_sent_from"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="sending_claim",
            field=models.UUIDField(blank=True, null=True),
        ),
    ]
