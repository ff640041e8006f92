from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0035_verbose_names_of_newer_fields"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="sending_claim",
            field=models.UUIDField(blank=True, null=True, verbose_name="sending claim"),
        ),
    ]
