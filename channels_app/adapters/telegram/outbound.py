"""Replies, surveys and button acknowledgements going out to Telegram."""

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from django.conf import settings

from channels_app.adapters.base import send_in_parts
from channels_app.adapters.survey_forms import question_with_scale, rows_of
from channels_app.adapters.telegram.bot_api import BotApi
from channels_app.adapters.telegram.inbound import (
    CALLBACK_EXTERNAL_ID_PREFIX,
    SURVEY_PAYLOAD_PREFIX,
)
from channels_app.contracts import (
    DeliveryFailed,
    DeliveryResult,
    InboundEvent,
    InboundMessage,
    OutboundAttachment,
    OutboundMessage,
    OutboundSurvey,
)
from channels_app.failure_reasons import FailureCode, FailureReason
from channels_app.http import request_may_have_arrived
from inbox import csat

if TYPE_CHECKING:
    from channels_app.models import Channel

logger = logging.getLogger(__name__)

# Bot API limits, counted in UTF-16 code units as Telegram counts them.
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
# answerCallbackQuery runs in the webhook's request after commit: never keep Telegram waiting.
CALLBACK_ANSWER_TIMEOUT_SECONDS = 3.0
# When a later part of a multi-part reply is throttled, wait this long at most in place
# rather than failing the whole reply (a retry would send the earlier parts again).
MAX_INLINE_WAIT_SECONDS = 5.0
# Survey buttons in one keyboard row: narrow enough for a phone, so 0-10 takes two rows.
KEYBOARD_ROW_LENGTH = 7

_sleep = time.sleep


@dataclass(frozen=True)
class _Part:
    """One Bot API call of an outgoing message."""

    method: str
    params: dict[str, Any]


def message_send(bot: BotApi, outbound: OutboundMessage) -> DeliveryResult:
    chat_id = outbound.recipient_address
    if not chat_id:
        raise DeliveryFailed(
            FailureReason.of(FailureCode.NO_RECIPIENT, platform="Telegram"), is_retryable=False
        )
    parts = list(_parts_for(outbound, chat_id=chat_id))
    if not parts:
        raise DeliveryFailed(FailureReason.of(FailureCode.NOTHING_TO_SEND), is_retryable=False)
    return send_in_parts(
        parts,
        lambda part: _external_id(chat_id, _call_part(bot, part, is_first=part is parts[0])),
        already_sent=outbound.already_sent,
        record_progress=outbound.record_progress,
    )


def survey_send(bot: BotApi, survey: OutboundSurvey) -> DeliveryResult:
    """The question with an inline keyboard of the scale (one row up to seven values, so
    0-10 in two); a press comes back as a callback_query carrying the value's payload."""
    keyboard = [
        [{"text": str(rating), "callback_data": survey.button_payloads[rating]} for rating in row]
        for row in rows_of(sorted(survey.rating_labels), max_per_row=KEYBOARD_ROW_LENGTH)
    ]
    result = bot.call(
        "sendMessage",
        {
            "chat_id": survey.recipient_address,
            "text": question_with_scale(survey),
            "reply_markup": {"inline_keyboard": keyboard},
        },
    )
    return DeliveryResult(external_id=_external_id(survey.recipient_address, result))


def callback_queries_answer(bot: BotApi, events: list[InboundEvent]) -> None:
    """Answer callback queries, which stops the spinner on the customer's button; a
    survey's keyboard is then replaced by the thanks. Never raises."""
    channel = bot.channel
    for event in events:
        if not (
            isinstance(event, InboundMessage)
            and event.external_id.startswith(CALLBACK_EXTERNAL_ID_PREFIX)
        ):
            continue
        callback_query_id = event.external_id.removeprefix(CALLBACK_EXTERNAL_ID_PREFIX)
        try:
            bot.call(
                "answerCallbackQuery",
                {"callback_query_id": callback_query_id},
                timeout=CALLBACK_ANSWER_TIMEOUT_SECONDS,
            )
            if event.button_payload.startswith(SURVEY_PAYLOAD_PREFIX) and event.reply_to_id:
                bot.call(
                    "editMessageText",
                    {
                        "chat_id": event.recipient_address,
                        "message_id": int(event.reply_to_id),
                        "text": _thank_you(channel, event),
                    },
                    timeout=CALLBACK_ANSWER_TIMEOUT_SECONDS,
                )
        except DeliveryFailed as failure:
            logger.info("channel %s: callback query not answered: %s", channel.pk, failure.reason)
        except Exception:
            logger.exception("channel %s: answering a callback query failed", channel.pk)


def _thank_you(channel: "Channel", answer: InboundMessage) -> str:
    language = csat.survey_language(customer_language=answer.sender_language, channel=channel)
    return csat.survey_text(csat.csat_settings(channel), "thank_you", language)


def _call_part(bot: BotApi, part: _Part, *, is_first: bool) -> Any:
    """Send one part; a later part briefly throttled gets one more try in place, so
    the customer does not wait a whole retry for the rest of the reply. One Telegram may
    have received (no answer came) is not tried again: it could arrive twice."""
    try:
        return bot.call(part.method, part.params)
    except DeliveryFailed as failure:
        wait = failure.retry_after if failure.retry_after is not None else 1.0
        if (
            is_first
            or not failure.is_retryable
            or wait > MAX_INLINE_WAIT_SECONDS
            or request_may_have_arrived(failure)
        ):
            raise
        _sleep(wait)
        return bot.call(part.method, part.params)


def _parts_for(outbound: OutboundMessage, *, chat_id: str) -> Iterator[_Part]:
    text = outbound.text.strip()
    attachments = outbound.attachments
    caption = ""
    if attachments and _utf16_length(text) <= MAX_CAPTION_LENGTH:
        caption, text = text, ""
    for chunk in _text_chunks(text):
        yield _Part("sendMessage", {"chat_id": chat_id, "text": chunk})
    for index, attachment in enumerate(attachments):
        method, field_name = _method_for(attachment)
        params: dict[str, Any] = {"chat_id": chat_id, field_name: _public_url(attachment.url)}
        if index == 0 and caption:
            params["caption"] = caption
        yield _Part(method, params)


def _method_for(attachment: OutboundAttachment) -> tuple[str, str]:
    content_type = attachment.content_type.lower()
    # Telegram turns a GIF sent as a photo into a still image, and cannot show SVG.
    if content_type.startswith("image/") and content_type not in ("image/gif", "image/svg+xml"):
        return "sendPhoto", "photo"
    return "sendDocument", "document"


def _public_url(url: str) -> str:
    # Files we store are served from a path on this site; Telegram needs the full URL.
    return urljoin(f"{settings.PUBLIC_BASE_URL}/", url)


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _text_chunks(text: str) -> Iterator[str]:
    """Split text into messages Telegram accepts, at a line break or space where possible."""
    while text:
        if _utf16_length(text) <= MAX_TEXT_LENGTH:
            yield text
            return
        limit = MAX_TEXT_LENGTH
        while _utf16_length(text[:limit]) > MAX_TEXT_LENGTH:
            limit -= 1
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        if cut < limit // 2:
            cut = limit
        yield text[:cut].rstrip()
        text = text[cut:].lstrip()


def _external_id(chat_id: str, result: Any) -> str | None:
    """Our id for a sent Telegram message: its chat and message id."""
    message_id = result.get("message_id") if isinstance(result, dict) else None
    if isinstance(message_id, int) and not isinstance(message_id, bool):
        return f"{chat_id}:{message_id}"
    return None
