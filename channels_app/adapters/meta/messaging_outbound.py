"""Replies and surveys going out through the Send API: inside 24 hours of the customer's
last message as a RESPONSE, up to 7 days with the HUMAN_AGENT tag where the app has that
permission, never later."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.files.storage import default_storage

from channels_app.adapters.base import send_in_parts
from channels_app.adapters.meta.messaging_inbound import OWN_METADATA_PREFIX
from channels_app.adapters.meta.send_api import SendApi, window_closed
from channels_app.adapters.survey_forms import choice_titles, question_as_shown
from channels_app.contracts import (
    DeliveryFailed,
    DeliveryResult,
    OutboundAttachment,
    OutboundMessage,
    OutboundSurvey,
    SurveyNotAllowed,
)
from channels_app.failure_reasons import FailureCode, FailureReason

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
# Quick reply titles are cut by Meta at 20 characters.
MAX_QUICK_REPLY_TITLE = 20
# Files a page uploads to Messenger: 25 MB at most.
MAX_UPLOAD_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True)
class SendRules:
    """How one platform takes replies."""

    max_text_bytes: int  # Messenger: 2000 characters; Instagram: 1000 bytes of UTF-8
    uploads_files: bool  # Messenger takes uploads; Instagram only public image URLs
    file_types: frozenset[str]  # attachment types the platform takes


def current_time() -> datetime:
    return datetime.now(UTC)


def messaging_fields(
    customer_last_message_at: datetime | None, *, platform: str, may_use_human_agent_tag: bool
) -> dict[str, str]:
    """`messaging_type` (and `tag`) for a reply now; raises when no reply may go."""
    if customer_last_message_at is None:
        raise DeliveryFailed(
            FailureReason.of(FailureCode.NOT_WRITTEN_YET, platform=platform), is_retryable=False
        )
    if customer_last_message_at.tzinfo is None:
        customer_last_message_at = customer_last_message_at.replace(tzinfo=UTC)
    age = current_time() - customer_last_message_at
    if age < STANDARD_WINDOW:
        return {"messaging_type": "RESPONSE"}
    if may_use_human_agent_tag and age < HUMAN_AGENT_WINDOW:
        return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    if may_use_human_agent_tag:
        raise DeliveryFailed(window_closed(platform, hours=7 * 24), is_retryable=False)
    raise DeliveryFailed(window_closed(platform), is_retryable=False)


def message_send(
    api: SendApi, outbound: OutboundMessage, *, rules: SendRules, may_use_human_agent_tag: bool
) -> DeliveryResult:
    fields = messaging_fields(
        outbound.customer_last_message_at,
        platform=api.platform,
        may_use_human_agent_tag=may_use_human_agent_tag,
    )
    parts = _parts(outbound, rules)
    metadata = f"{OWN_METADATA_PREFIX}{outbound.message_id}"
    return send_in_parts(
        parts,
        lambda part: _send_part(api, outbound, part, fields, metadata, rules),
        already_sent=outbound.already_sent,
        record_progress=outbound.record_progress,
    )


def survey_send(api: SendApi, survey: OutboundSurvey) -> DeliveryResult:
    """The question with a quick reply per value of the scale (up to 13 are allowed, so
    0-10 fits); the tapped one comes back as the message's `quick_reply.payload`.

    Only inside the 24-hour window: the HUMAN_AGENT tag is for a person's replies, not
    surveys, so later the survey is skipped (SurveyNotAllowed), not failed."""
    try:
        fields = messaging_fields(
            survey.customer_last_message_at, platform=api.platform, may_use_human_agent_tag=False
        )
    except DeliveryFailed as closed:
        raise SurveyNotAllowed(
            closed.failure, reason_code=SurveyNotAllowed.WINDOW_CLOSED
        ) from closed
    titles = choice_titles(survey, max_length=MAX_QUICK_REPLY_TITLE)
    quick_replies = [
        {"content_type": "text", "title": titles[rating], "payload": survey.button_payloads[rating]}
        for rating in sorted(survey.rating_labels, reverse=True)
    ]
    payload = {
        "recipient": {"id": survey.recipient_address},
        **fields,
        "message": {
            "text": question_as_shown(survey)[:640],
            "quick_replies": quick_replies,
            "metadata": f"{OWN_METADATA_PREFIX}survey:{survey.survey_id}",
        },
    }
    return DeliveryResult(external_id=api.post_message(payload))


def text_chunks(text: str, *, max_bytes: int) -> list[str]:
    """The text cut into pieces of at most `max_bytes` of UTF-8, at line or word breaks
    where there are some."""
    chunks: list[str] = []
    rest = text.strip()
    while rest:
        if len(rest.encode()) <= max_bytes:
            chunks.append(rest)
            break
        cut = len(rest.encode()[:max_bytes].decode(errors="ignore"))
        for separator in ("\n", " "):
            at = rest.rfind(separator, 0, cut)
            if at > cut // 2:
                cut = at
                break
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return chunks


def _parts(outbound: OutboundMessage, rules: SendRules) -> list[str | OutboundAttachment]:
    parts: list[str | OutboundAttachment] = list(
        text_chunks(outbound.text, max_bytes=rules.max_text_bytes)
    )
    for attachment in outbound.attachments:
        if _attachment_type(attachment) not in rules.file_types:
            raise DeliveryFailed(
                FailureReason.of(
                    FailureCode.ATTACHMENT_TYPE_REFUSED,
                    filename=attachment.filename,
                    types=", ".join(sorted(rules.file_types)),
                ),
                is_retryable=False,
            )
        parts.append(attachment)
    if not parts:
        raise DeliveryFailed(FailureReason.of(FailureCode.NOTHING_TO_SEND), is_retryable=False)
    return parts


def _send_part(
    api: SendApi,
    outbound: OutboundMessage,
    part: str | OutboundAttachment,
    fields: dict[str, str],
    metadata: str,
    rules: SendRules,
) -> str | None:
    recipient = {"id": outbound.recipient_address}
    if isinstance(part, str):
        message: dict[str, Any] = {"text": part, "metadata": metadata}
        return api.post_message({"recipient": recipient, **fields, "message": message})
    attachment_type = _attachment_type(part)
    if not rules.uploads_files:
        if not part.url.startswith(("http://", "https://")):
            raise DeliveryFailed(
                FailureReason.of(FailureCode.ATTACHMENT_WITHOUT_LINK, filename=part.filename),
                is_retryable=False,
            )
        message = {
            "attachment": {"type": attachment_type, "payload": {"url": part.url}},
            "metadata": metadata,
        }
        return api.post_message({"recipient": recipient, **fields, "message": message})
    upload: dict[str, Any] = {
        "recipient": json.dumps(recipient),
        **fields,
        "message": json.dumps(
            {"attachment": {"type": attachment_type, "payload": {}}, "metadata": metadata}
        ),
    }
    content = _stored_bytes(part)
    return api.post_message(upload, files={"filedata": (part.filename, content, part.content_type)})


def _attachment_type(attachment: OutboundAttachment) -> str:
    content_type = attachment.content_type.split(";")[0].strip().lower()
    for prefix in ("image", "video", "audio"):
        if content_type.startswith(f"{prefix}/"):
            return prefix
    return "file"


def _stored_bytes(attachment: OutboundAttachment) -> bytes:
    if attachment.size > MAX_UPLOAD_BYTES:
        raise DeliveryFailed(
            FailureReason.of(
                FailureCode.ATTACHMENT_TOO_LARGE,
                filename=attachment.filename,
                limit=MAX_UPLOAD_BYTES // (1024 * 1024),
            ),
            is_retryable=False,
        )
    if not attachment.storage_name:
        raise DeliveryFailed(
            FailureReason.of(FailureCode.ATTACHMENT_MISSING, filename=attachment.filename),
            is_retryable=False,
        )
    try:
        with default_storage.open(attachment.storage_name, "rb") as stored:
            return stored.read(MAX_UPLOAD_BYTES + 1)
    except OSError as error:
        raise DeliveryFailed(
            FailureReason.of(FailureCode.ATTACHMENT_UNREADABLE, filename=attachment.filename),
            is_retryable=True,
        ) from error
