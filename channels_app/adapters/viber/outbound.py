"""Replies and surveys going out to Viber: /pa/send_message, a message per part (the
text, then each file by a signed, expiring link to our stored copy)."""

from typing import Any

from channels_app.adapters.base import send_in_parts
from channels_app.adapters.survey_forms import question_with_scale
from channels_app.adapters.viber.viber_api import ViberApi
from channels_app.contracts import (
    DeliveryFailed,
    DeliveryResult,
    OutboundAttachment,
    OutboundMessage,
    OutboundSurvey,
)
from channels_app.failure_reasons import FailureCode, FailureReason

MAX_TEXT_LENGTH = 7000
MAX_SENDER_NAME_LENGTH = 28
MAX_CAPTION_LENGTH = 768
MAX_FILE_NAME_LENGTH = 256
# Viber shows JPEG, PNG and still GIF as pictures; anything else goes as a file.
PICTURE_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
# The keyboard needs a Viber app that speaks API version 3 or later.
KEYBOARD_MIN_API_VERSION = 3
# A keyboard is a grid six columns wide; each survey button takes one.
KEYBOARD_COLUMNS = 6


def message_send(api: ViberApi, outbound: OutboundMessage) -> DeliveryResult:
    receiver = outbound.recipient_address
    if not receiver:
        raise DeliveryFailed(
            FailureReason.of(FailureCode.NO_RECIPIENT, platform="Viber"), is_retryable=False
        )
    parts = _parts(outbound)
    if not parts:
        raise DeliveryFailed(FailureReason.of(FailureCode.NOTHING_TO_SEND), is_retryable=False)
    return send_in_parts(
        parts,
        lambda part: _message_token(api.call("send_message", {**_envelope(api, receiver), **part})),
        already_sent=outbound.already_sent,
        record_progress=outbound.record_progress,
    )


def survey_send(api: ViberApi, survey: OutboundSurvey) -> DeliveryResult:
    """The question with a keyboard of the scale's values, six to a row (Viber's keyboard
    grid); a press answers with the value's payload as its text. A typed number counts too
    (see inbox.survey_answers)."""
    buttons = [
        {
            "Columns": 1,
            "Rows": 1,
            "ActionType": "reply",
            "ActionBody": survey.button_payloads[rating],
            "Text": str(rating),
            "TextSize": "large",
            "TextHAlign": "center",
            "TextVAlign": "middle",
        }
        for rating in sorted(survey.rating_labels)
    ]
    text = question_with_scale(survey)
    answer = api.call(
        "send_message",
        {
            **_envelope(api, survey.recipient_address),
            "type": "text",
            "text": text[:MAX_TEXT_LENGTH],
            "min_api_version": KEYBOARD_MIN_API_VERSION,
            "keyboard": {
                "Type": "keyboard",
                "DefaultHeight": False,
                "ButtonsGroupColumns": min(len(buttons), KEYBOARD_COLUMNS),
                "ButtonsGroupRows": -(-len(buttons) // KEYBOARD_COLUMNS),
                "Buttons": buttons,
            },
        },
    )
    return DeliveryResult(external_id=_message_token(answer))


def _envelope(api: ViberApi, receiver: str) -> dict[str, Any]:
    return {"receiver": receiver, "sender": sender(api.channel)}


def sender(channel) -> dict[str, str]:
    """Who a message of ours is from, as Viber shows it: the channel's sender name and,
    where set, its picture."""
    name = str(channel.config.get("sender_name") or channel.name or "Support")
    shown = {"name": name[:MAX_SENDER_NAME_LENGTH]}
    avatar = channel.config.get("sender_avatar")
    if isinstance(avatar, str) and avatar:
        shown["avatar"] = avatar
    return shown


def _parts(outbound: OutboundMessage) -> list[dict[str, Any]]:
    text = outbound.text.strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise DeliveryFailed(
            FailureReason.of(FailureCode.TOO_LONG, platform="Viber", limit=MAX_TEXT_LENGTH),
            is_retryable=False,
        )
    files = [_file_part(item) for item in outbound.attachments]
    if text and files and files[0]["type"] == "picture" and len(text) <= MAX_CAPTION_LENGTH:
        files[0]["text"] = text
        return files
    return ([{"type": "text", "text": text}] if text else []) + files


def _file_part(attachment: OutboundAttachment) -> dict[str, Any]:
    if not attachment.url.startswith(("https://", "http://")):
        raise DeliveryFailed(
            FailureReason.of(FailureCode.ATTACHMENT_WITHOUT_LINK, filename=attachment.filename),
            is_retryable=False,
        )
    content_type = attachment.content_type.split(";")[0].strip().lower()
    if content_type in PICTURE_CONTENT_TYPES:
        return {"type": "picture", "media": attachment.url, "text": ""}
    return {
        "type": "file",
        "media": attachment.url,
        "size": attachment.size,
        "file_name": attachment.filename[:MAX_FILE_NAME_LENGTH],
    }


def _message_token(answer: dict[str, Any]) -> str | None:
    token = answer.get("message_token")
    if isinstance(token, int) and not isinstance(token, bool):
        return str(token)
    return token if isinstance(token, str) and token else None
