"""`Message.error` keeps why a delivery failed as data (`{"code", <values>}`), worded for
each reader, instead of English text: the English reasons of earlier versions are read
back into codes where they are known, and kept as their detail where not."""

import re

from django.db import migrations, models

_WINDOW = re.compile(
    r"outside (?P<platform>.+?)'s messaging window: the customer last wrote more than "
    r"(?P<count>\d+) (?P<unit>hours|days) ago"
)
_WHATSAPP_WINDOW = "outside WhatsApp's 24-hour customer service window"
_PREFIXED = (
    (re.compile(r"attempt (?P<attempt>\d+) failed, retrying: (?P<then>.*)", re.S), "retrying"),
    (
        re.compile(r"no answer came, though the platform may have it: (?P<then>.*)", re.S),
        "outcome_unknown",
    ),
    (
        re.compile(r"sent (?P<sent>\d+) of (?P<parts>\d+) parts, then: (?P<then>.*)", re.S),
        "partly_sent",
    ),
)
_WHOLE = (
    (re.compile(r"(?P<platform>.+?) answered HTTP (?P<status>\d{3})"), "platform_refused"),
    (re.compile(r"SMTP (?P<status>\d{3}): (?P<detail>.*)", re.S), "mail_refused"),
    (re.compile(r"mail server unreachable: (?P<detail>.*)", re.S), "mail_server_unreachable"),
    (re.compile(r"the channel has no (?P<setting>\w+) configured"), "setting_missing"),
    (re.compile(r"the (?:reply|message) has neither text nor attachments"), "nothing_to_send"),
    (re.compile(r"the channel's secrets cannot be decrypted.*", re.S), "secrets_unreadable"),
    (
        re.compile(
            r"refused to connect to (?P<address>\S+(?: \([^)]*\))?): not a public address.*", re.S
        ),
        "address_refused",
    ),
    (
        re.compile(r"the reply is longer than (?P<platform>\w+)'s (?P<limit>\d+) characters"),
        "too_long",
    ),
    (
        re.compile(r"(?P<platform>[\w ]+?) unreachable(?: \([^)]*\))?: (?P<detail>.*)", re.S),
        "platform_unreachable",
    ),
)
_NUMBERS = ("attempt", "sent", "parts", "status", "limit")


def reason_from_text(text):
    """An English reason of earlier versions as `{"code", <values>}`."""
    text = text.strip()
    if not text:
        return {}
    for pattern, code in _PREFIXED:
        match = pattern.fullmatch(text)
        if match:
            values = match.groupdict()
            values["then"] = reason_from_text(values["then"])
            return {"code": code, **_numbers(values)}
    if text.startswith(_WHATSAPP_WINDOW):
        return {"code": "window_closed", "platform": "WhatsApp", "hours": 24, "template": True}
    window = _WINDOW.match(text)
    if window:
        count = int(window["count"])
        hours = count * 24 if window["unit"] == "days" else count
        return {"code": "window_closed", "platform": window["platform"], "hours": hours}
    for pattern, code in _WHOLE:
        match = pattern.fullmatch(text)
        if match:
            return {"code": code, **_numbers(match.groupdict())}
    return {"code": "other", "detail": text}


def _numbers(values):
    values = {
        key: int(value) if key in _NUMBERS and value.isdigit() else value
        for key, value in values.items()
    }
    # An API channel's callback URL is named by no platform.
    if values.get("platform") == "callback URL":
        values["platform"] = ""
    return values


def reasons_to_codes(apps, schema_editor):
    Message = apps.get_model("inbox", "Message")
    failed = Message.objects.exclude(error_text="").only("pk", "error_text")
    batch = []
    for message in failed.iterator(chunk_size=2000):
        message.error = reason_from_text(message.error_text)
        batch.append(message)
        if len(batch) == 2000:
            Message.objects.bulk_update(batch, ["error"])
            batch = []
    Message.objects.bulk_update(batch, ["error"])


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0040_message_parts"),
    ]

    operations = [
        migrations.RenameField(model_name="message", old_name="error", new_name="error_text"),
        migrations.AddField(
            model_name="message",
            name="error",
            field=models.JSONField(blank=True, db_default={}, default=dict, verbose_name="error"),
        ),
        migrations.RunPython(reasons_to_codes, migrations.RunPython.noop, elidable=True),
        migrations.RemoveField(model_name="message", name="error_text"),
    ]
