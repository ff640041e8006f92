from datetime import timedelta

from django.db import migrations, models

# What an interrupted send was marked with before surveys could be `unknown`.
OLD_INTERRUPTED_REASON = "interrupted while sending; not resent to avoid a duplicate survey"
NEW_INTERRUPTED_REASON = (
    "interrupted while sending: it may have reached the customer, whose answer is still "
    "taken; not resent to avoid a duplicate survey"
)
DEFAULT_EXPIRY_DAYS = 7


def interrupted_surveys_become_unknown(apps, schema_editor):
    """Surveys failed only because their send was interrupted may have reached the
    customer: they become `unknown`, answerable until their channel's expiry."""
    survey_model = apps.get_model("inbox", "CsatSurvey")
    interrupted = survey_model.objects.filter(
        status="failed", skip_reason=OLD_INTERRUPTED_REASON, sending_started_at__isnull=False
    ).select_related("channel")
    for survey in interrupted.iterator():
        options = survey.channel.csat if isinstance(survey.channel.csat, dict) else {}
        try:
            expiry_days = max(int(options.get("expiry_days", DEFAULT_EXPIRY_DAYS)), 0)
        except (TypeError, ValueError):
            expiry_days = DEFAULT_EXPIRY_DAYS
        survey_model.objects.filter(pk=survey.pk, status="failed").update(
            status="unknown",
            skip_reason=NEW_INTERRUPTED_REASON,
            expires_at=survey.sending_started_at + timedelta(days=expiry_days),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0017_login_lockout"),
    ]

    operations = [
        migrations.AlterField(
            model_name="csatsurvey",
            name="status",
            field=models.CharField(
                choices=[
                    ("scheduled", "Scheduled"),
                    ("queued", "Queued"),
                    ("sending", "Sending"),
                    ("sent", "Sent"),
                    ("answered", "Answered"),
                    ("skipped", "Skipped"),
                    ("failed", "Failed"),
                    ("unknown", "Unknown"),
                ],
                default="scheduled",
                max_length=16,
            ),
        ),
        migrations.RunPython(interrupted_surveys_become_unknown, migrations.RunPython.noop),
    ]
