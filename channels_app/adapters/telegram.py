"""Telegram through the Bot API: Updates in by webhook, replies out by sendMessage and friends.

The bot token travels in every Bot API URL (`/bot<token>/<method>`), so nothing here logs
a URL or puts one into a failure reason, and the `httpx` logger gets a filter that
redacts tokens from its "HTTP Request: POST <url>" lines.
"""

import hmac
import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings
from django.utils.translation import gettext

from channels_app.adapters.base import ChannelAdapter, ConfigInvalid
from channels_app.contracts import (
    DeliveryFailed,
    DeliveryProgress,
    DeliveryResult,
    IdentityReachability,
    InboundAttachment,
    InboundEdit,
    InboundEvent,
    InboundIdentity,
    InboundMessage,
    MediaContent,
    OutboundAttachment,
    OutboundMessage,
    OutboundSurvey,
    PayloadMalformed,
    SignatureInvalid,
    WebhookRequest,
)
from channels_app.http import http_client
from inbox import csat

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.telegram.org"
SECRET_HEADER = "x-telegram-bot-api-secret-token"
# The update kinds parse() maps; the webhook asks Telegram for these only.
SURVEY_PAYLOAD_PREFIX = "csat:"
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")
CALLBACK_EXTERNAL_ID_PREFIX = "cb:"

# Bot API limits, counted in UTF-16 code units as Telegram counts them.
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
# answerCallbackQuery runs in the webhook's request after commit: never keep Telegram waiting.
CALLBACK_ANSWER_TIMEOUT_SECONDS = 3.0
# When a later part of a multi-part reply is throttled, wait this long at most in place
# rather than failing the whole reply (a retry would send the earlier parts again).
MAX_INLINE_WAIT_SECONDS = 5.0

BOT_TOKEN_PATTERN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_TOKEN_IN_TEXT = re.compile(r"bot\d+:[A-Za-z0-9_-]+")

_sleep = time.sleep


class _BotTokenRedactingFilter(logging.Filter):
    """Rewrites `bot<token>` in log records into `bot<redacted>`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_bot_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_bot_tokens(str(arg)) if isinstance(arg, str | httpx.URL) else arg
                for arg in record.args
            )
        return True


def redact_bot_tokens(text: str) -> str:
    return _TOKEN_IN_TEXT.sub("bot<redacted>", text)


_REDACTING_FILTER = _BotTokenRedactingFilter()
# httpx logs every request URL at INFO, and our URLs carry the bot token.
logging.getLogger("httpx").addFilter(_REDACTING_FILTER)


@dataclass(frozen=True)
class _Part:
    """One Bot API call of an outgoing message."""

    method: str
    params: dict[str, Any]


class TelegramAdapter(ChannelAdapter):
    """A Telegram bot (Bot API), private chats only.

    Inbound: Updates POSTed by Telegram with `X-Telegram-Bot-Api-Secret-Token` equal to the
    channel's `webhook_secret`. `message` (text, media, location, contact) becomes an
    InboundMessage with id `<chat id>:<message id>`, `edited_message` an InboundEdit,
    `callback_query` an InboundMessage carrying the button's data (answered after commit),
    and `my_chat_member` (the customer blocked or unblocked the bot) an
    IdentityReachability. Other updates are acknowledged and ignored.
    Outbound: sendMessage, or sendPhoto / sendDocument by URL with the text as caption.
    """

    kind = "telegram"
    sends_surveys_in_parallel = True
    # Telegram allows a bot about 30 messages a second to different chats. Surveys keep
    # well below it: requests reach Telegram a little unevenly (a thread's first request,
    # a busy CPU), and operators' replies go out meanwhile.
    survey_sends_per_second = 20.0
    public_config_keys = ("api_base_url",)
    secret_config_keys = ("bot_token", "webhook_secret")
    required_config_keys = ("bot_token", "webhook_secret")

    @classmethod
    def split_config(
        cls, config: dict[str, Any], *, existing_secrets: dict[str, str] | None = None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        errors = _secret_format_errors(config)
        try:
            public, secrets = super().split_config(config, existing_secrets=existing_secrets)
        except ConfigInvalid as error:
            raise ConfigInvalid({**errors, **error.errors}) from None
        if errors:
            raise ConfigInvalid(errors)
        return public, secrets

    @classmethod
    def check_config(cls, public: dict[str, Any]) -> dict[str, str]:
        url = public.get("api_base_url")
        if url is not None and (
            not isinstance(url, str)
            or urlsplit(url).scheme not in ("http", "https")
            or not urlsplit(url).netloc
        ):
            return {"api_base_url": "must be an http(s) URL"}
        return {}

    # Inbound

    def verify(self, request: WebhookRequest) -> None:
        secret = self.channel.secrets.get("webhook_secret")
        if not secret:
            raise SignatureInvalid("the channel has no webhook_secret configured", status_code=403)
        received = request.headers.get(SECRET_HEADER)
        if not received:
            raise SignatureInvalid("secret token header missing")
        if not hmac.compare_digest(received.encode(), secret.encode()):
            raise SignatureInvalid("secret token does not match")

    def parse(self, request: WebhookRequest) -> list[InboundEvent]:
        update = _Fields.from_body(request.body)
        update.required_integer("update_id")
        if update.is_present("message"):
            return _message_events(update.required_object("message"))
        if update.is_present("edited_message"):
            return _edit_events(update.required_object("edited_message"))
        if update.is_present("callback_query"):
            return _callback_events(update.required_object("callback_query"))
        if update.is_present("my_chat_member"):
            return _reachability_events(update.required_object("my_chat_member"))
        # channel_post, inline_query, poll, chat_join_request...: not ours to handle.
        return []

    def on_events_stored(self, events: list[InboundEvent]) -> None:
        """Answer callback queries, which stops the spinner on the customer's button; a
        survey's keyboard is then replaced by the thanks."""
        for event in events:
            if not (
                isinstance(event, InboundMessage)
                and event.external_id.startswith(CALLBACK_EXTERNAL_ID_PREFIX)
            ):
                continue
            callback_query_id = event.external_id.removeprefix(CALLBACK_EXTERNAL_ID_PREFIX)
            try:
                self._call(
                    "answerCallbackQuery",
                    {"callback_query_id": callback_query_id},
                    timeout=CALLBACK_ANSWER_TIMEOUT_SECONDS,
                )
                if event.button_payload.startswith(SURVEY_PAYLOAD_PREFIX) and event.reply_to_id:
                    self._call(
                        "editMessageText",
                        {
                            "chat_id": event.recipient_address,
                            "message_id": int(event.reply_to_id),
                            "text": self._thank_you(event),
                        },
                        timeout=CALLBACK_ANSWER_TIMEOUT_SECONDS,
                    )
            except DeliveryFailed as failure:
                logger.info(
                    "channel %s: callback query not answered: %s", self.channel.pk, failure.reason
                )
            except Exception:
                logger.exception("channel %s: answering a callback query failed", self.channel.pk)

    def _thank_you(self, answer: InboundMessage) -> str:
        language = csat.survey_language(
            customer_language=answer.sender_language, channel=self.channel
        )
        return csat.survey_text(csat.csat_settings(self.channel), "thank_you", language)

    def send_survey(self, survey: OutboundSurvey) -> DeliveryResult:
        """The question with an inline keyboard of the five ratings; a press comes back as a
        callback_query carrying the rating's payload."""
        keyboard = [
            [
                {"text": str(rating), "callback_data": survey.button_payloads[rating]}
                for rating in sorted(survey.rating_labels)
            ]
        ]
        result = self._call(
            "sendMessage",
            {
                "chat_id": survey.recipient_address,
                "text": gettext("%(question)s\n1 = %(worst)s, 5 = %(best)s")
                % {
                    "question": survey.question,
                    "worst": survey.rating_labels[1].lower(),
                    "best": survey.rating_labels[5].lower(),
                },
                "reply_markup": {"inline_keyboard": keyboard},
            },
        )
        return DeliveryResult(external_id=_external_id(survey.recipient_address, result))

    def fetch_media(self, media_id: str) -> MediaContent:
        """getFile, then download the file. Filename and type are left empty, so the
        attachment keeps the ones the message gave."""
        file = self._call("getFile", {"file_id": media_id})
        file_path = file.get("file_path") if isinstance(file, dict) else None
        if not isinstance(file_path, str) or not file_path:
            raise DeliveryFailed(
                "Telegram gave no file_path for the file (it may be over the 20 MB bots "
                "can download)",
                is_retryable=False,
            )
        url = f"{self._api_base_url}/file/bot{self._bot_token}/{file_path}"
        try:
            response = http_client().get(url)
        except httpx.HTTPError as error:
            raise _transport_failure(error) from error
        if response.status_code != 200:
            raise _failure_for_answer(response, action="file download")
        return MediaContent(content=response.content, content_type="", filename="")

    # Outbound

    def send(self, outbound: OutboundMessage) -> DeliveryResult:
        chat_id = outbound.recipient_address
        if not chat_id:
            raise DeliveryFailed("the conversation has no Telegram chat id", is_retryable=False)
        parts = list(_parts_for(outbound, chat_id=chat_id))
        if not parts:
            raise DeliveryFailed("the message has neither text nor attachments", is_retryable=False)
        # Parts an earlier try sent are not sent again.
        first_external_id = outbound.already_sent.first_external_id
        for index in range(outbound.already_sent.parts_sent, len(parts)):
            try:
                result = self._call_part(parts[index], is_first=index == 0)
            except DeliveryFailed as failure:
                raise _partly_sent(
                    failure, sent=index, count=len(parts), first_external_id=first_external_id
                ) from failure
            if index == 0:
                first_external_id = _external_id(chat_id, result)
        return DeliveryResult(external_id=first_external_id)

    def webhook_register(self, *, url: str, drop_pending_updates: bool = False) -> str:
        """Point the bot's webhook at `url` with the channel's secret; returns Telegram's
        description of what it did. Raises DeliveryFailed when Telegram refuses."""
        secret = self.channel.secrets.get("webhook_secret")
        if not secret:
            raise DeliveryFailed("the channel has no webhook_secret configured", is_retryable=False)
        answer = self._call_answer(
            "setWebhook",
            {
                "url": url,
                "secret_token": secret,
                "allowed_updates": list(ALLOWED_UPDATES),
                "drop_pending_updates": drop_pending_updates,
            },
        )
        description = answer.get("description")
        return description if isinstance(description, str) and description else "ok"

    # The Bot API

    @property
    def _api_base_url(self) -> str:
        url = self.channel.config.get("api_base_url") or DEFAULT_API_BASE_URL
        return str(url).rstrip("/")

    @property
    def _bot_token(self) -> str:
        token = self.channel.secrets.get("bot_token")
        if not token:
            raise DeliveryFailed("the channel has no bot_token configured", is_retryable=False)
        return token

    def _call_part(self, part: _Part, *, is_first: bool) -> Any:
        """Send one part; a later part briefly throttled gets one more try in place, so
        the customer does not wait a whole retry for the rest of the reply."""
        try:
            return self._call(part.method, part.params)
        except DeliveryFailed as failure:
            wait = failure.retry_after if failure.retry_after is not None else 1.0
            if is_first or not failure.is_retryable or wait > MAX_INLINE_WAIT_SECONDS:
                raise
            _sleep(wait)
            return self._call(part.method, part.params)

    def _call(self, method: str, params: dict[str, Any], *, timeout: float | None = None) -> Any:
        """One Bot API call; returns its `result` or raises a classified DeliveryFailed."""
        return self._call_answer(method, params, timeout=timeout).get("result")

    def _call_answer(
        self, method: str, params: dict[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        url = f"{self._api_base_url}/bot{self._bot_token}/{method}"
        try:
            if timeout is None:
                response = http_client().post(url, json=params)
            else:
                response = http_client().post(url, json=params, timeout=timeout)
        except httpx.HTTPError as error:
            raise _transport_failure(error) from error
        except httpx.InvalidURL as error:
            raise DeliveryFailed(
                "the channel's api_base_url does not make a valid URL", is_retryable=False
            ) from error
        answer = _json_object(response)
        if response.status_code == 200 and answer is not None and answer.get("ok") is True:
            return answer
        raise _failure_for_answer(response, action=method)


# Reading Updates


class _Fields:
    """A JSON object from an Update, read with type checks; wrong types are PayloadMalformed."""

    def __init__(self, data: dict[str, Any], path: str) -> None:
        self.data = data
        self.path = path

    @classmethod
    def from_body(cls, body: bytes) -> "_Fields":
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError, RecursionError) as error:
            raise PayloadMalformed(f"body is not valid JSON: {error}") from error
        if not isinstance(payload, dict):
            raise PayloadMalformed("body must be a JSON object (a Telegram Update)")
        return cls(payload, "update")

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}"

    def is_present(self, key: str) -> bool:
        return self.data.get(key) is not None

    def object(self, key: str) -> "_Fields | None":
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise PayloadMalformed(f"{self._name(key)} must be an object")
        return _Fields(value, self._name(key))

    def required_object(self, key: str) -> "_Fields":
        value = self.object(key)
        if value is None:
            raise PayloadMalformed(f"{self._name(key)} is missing")
        return value

    def objects(self, key: str) -> list["_Fields"]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise PayloadMalformed(f"{self._name(key)} must be a list of objects")
        return [_Fields(item, f"{self._name(key)}[{index}]") for index, item in enumerate(value)]

    def integer(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        # Telegram's ids and sizes fit in 64 bits; anything longer is not from Telegram.
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**63:
            raise PayloadMalformed(f"{self._name(key)} must be a 64-bit integer")
        return value

    def required_integer(self, key: str) -> int:
        value = self.integer(key)
        if value is None:
            raise PayloadMalformed(f"{self._name(key)} is missing")
        return value

    def number(self, key: str) -> float:
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PayloadMalformed(f"{self._name(key)} must be a number")
        return float(value)

    def string(self, key: str) -> str:
        """The string, without NUL characters (PostgreSQL text cannot hold them); "" if absent."""
        value = self.data.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise PayloadMalformed(f"{self._name(key)} must be a string")
        try:
            value.encode()
        except UnicodeEncodeError as error:
            raise PayloadMalformed(f"{self._name(key)} is not valid Unicode") from error
        return value.replace("\x00", "")

    def required_string(self, key: str, *, max_length: int) -> str:
        value = self.string(key).strip()
        if not value:
            raise PayloadMalformed(f"{self._name(key)} is missing")
        if len(value) > max_length:
            raise PayloadMalformed(f"{self._name(key)} is longer than {max_length} characters")
        return value

    def timestamp(self, key: str) -> datetime | None:
        value = self.integer(key)
        if value is None:
            return None
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (ValueError, OverflowError, OSError) as error:
            raise PayloadMalformed(f"{self._name(key)} is not a valid Unix time") from error


@dataclass(frozen=True)
class _Content:
    text: str
    attachments: tuple[InboundAttachment, ...] = ()
    identities: tuple[InboundIdentity, ...] = ()


@dataclass(frozen=True)
class _Origin:
    """Who wrote a message, and in which private chat; None for chats we do not serve."""

    chat_id: int
    sender_id: int
    sender_name: str
    sender_language: str


def _private_origin(message: _Fields) -> _Origin | None:
    chat = message.required_object("chat")
    # Groups, supergroups and channels are not customer conversations.
    if chat.string("type") != "private":
        return None
    sender = message.object("from")
    if sender is None:
        return None
    return _Origin(
        chat_id=chat.required_integer("id"),
        sender_id=sender.required_integer("id"),
        sender_name=_full_name(sender),
        sender_language=sender.string("language_code")[:16],
    )


def _full_name(person: _Fields) -> str:
    parts = (person.string("first_name").strip(), person.string("last_name").strip())
    return " ".join(part for part in parts if part)[:255]


def _message_events(message: _Fields) -> list[InboundEvent]:
    origin = _private_origin(message)
    if origin is None:
        return []
    message_id = message.required_integer("message_id")
    content = _content(message, sender_id=origin.sender_id)
    if content is None:
        return []
    return [
        InboundMessage(
            external_id=f"{origin.chat_id}:{message_id}",
            recipient_address=str(origin.chat_id),
            identities=(InboundIdentity("telegram", str(origin.sender_id)), *content.identities),
            sender_name=origin.sender_name,
            sender_language=origin.sender_language,
            text=content.text,
            attachments=content.attachments,
            sent_at=message.timestamp("date"),
        )
    ]


def _edit_events(message: _Fields) -> list[InboundEvent]:
    origin = _private_origin(message)
    if origin is None:
        return []
    message_id = message.required_integer("message_id")
    content = _content(message, sender_id=origin.sender_id)
    # Only text and captions can be shown as edited; a replaced photo keeps the first one.
    if content is None or not content.text:
        return []
    return [
        InboundEdit(
            external_id=f"{origin.chat_id}:{message_id}",
            text=content.text,
            edited_at=message.timestamp("edit_date"),
        )
    ]


def _callback_events(callback: _Fields) -> list[InboundEvent]:
    callback_id = callback.required_string("id", max_length=200)
    data = callback.string("data")
    message = callback.object("message")
    # Inline-mode buttons (no message) and games (no data) are not ours.
    if message is None or not data:
        return []
    chat = message.required_object("chat")
    if chat.string("type") != "private":
        return []
    sender = callback.required_object("from")
    return [
        InboundMessage(
            external_id=f"{CALLBACK_EXTERNAL_ID_PREFIX}{callback_id}",
            recipient_address=str(chat.required_integer("id")),
            identities=(InboundIdentity("telegram", str(sender.required_integer("id"))),),
            sender_name=_full_name(sender),
            sender_language=sender.string("language_code")[:16],
            text=_pressed_button_text(message, data) or data,
            button_payload=data,
            reply_to_id=str(message.integer("message_id") or ""),
        )
    ]


def _pressed_button_text(message: _Fields, data: str) -> str:
    """The label of the button the customer pressed, read from the message's keyboard."""
    markup = message.object("reply_markup")
    if markup is None:
        return ""
    for row in markup.data.get("inline_keyboard") or []:
        for button in row if isinstance(row, list) else []:
            if isinstance(button, dict) and button.get("callback_data") == data:
                text = button.get("text")
                return text if isinstance(text, str) else ""
    return ""


def _reachability_events(update: _Fields) -> list[InboundEvent]:
    chat = update.required_object("chat")
    # In a group this is about the bot being added or removed by an admin, not a customer.
    if chat.string("type") != "private":
        return []
    sender = update.required_object("from")
    status = update.required_object("new_chat_member").string("status")
    if status not in ("kicked", "member"):
        return []
    return [
        IdentityReachability(
            kind="telegram",
            value=str(sender.required_integer("id")),
            is_reachable=status == "member",
        )
    ]


# Media kinds: (message field, default filename, default content type).
_MEDIA_KINDS = (
    ("document", "document", "application/octet-stream"),
    ("audio", "audio.mp3", "audio/mpeg"),
    ("voice", "voice.ogg", "audio/ogg"),
    ("video", "video.mp4", "video/mp4"),
    ("video_note", "video_note.mp4", "video/mp4"),
)


def _content(message: _Fields, *, sender_id: int) -> _Content | None:
    """What a message says, as text, attachments and identities; None for kinds we do not map."""
    lines = [message.string("text") or message.string("caption")]
    attachments: list[InboundAttachment] = []
    identities: list[InboundIdentity] = []

    photo_sizes = message.objects("photo")
    if photo_sizes:
        largest = max(
            photo_sizes,
            key=lambda size: (
                (size.integer("width") or 0) * (size.integer("height") or 0),
                size.integer("file_size") or 0,
            ),
        )
        attachments.append(_attachment(largest, filename="photo.jpg", content_type="image/jpeg"))
    for field_name, filename, content_type in _MEDIA_KINDS:
        media = message.object(field_name)
        if media is not None:
            attachments.append(_attachment(media, filename=filename, content_type=content_type))
    sticker = message.object("sticker")
    if sticker is not None:
        if sticker.data.get("is_animated") is True:
            filename, content_type = "sticker.tgs", "application/x-tgsticker"
        elif sticker.data.get("is_video") is True:
            filename, content_type = "sticker.webm", "video/webm"
        else:
            filename, content_type = "sticker.webp", "image/webp"
        attachments.append(_attachment(sticker, filename=filename, content_type=content_type))

    venue = message.object("venue")
    location = message.object("location")
    if venue is not None:
        place = ", ".join(part for part in (venue.string("title"), venue.string("address")) if part)
        lines.append(f"📍 {place}\n{_map_link(venue.required_object('location'))}")
    elif location is not None:
        lines.append(_location_text(location))

    contact = message.object("contact")
    if contact is not None:
        phone = contact.string("phone_number").strip()
        lines.append(
            "👤 Contact: " + ", ".join(part for part in (_full_name(contact), phone) if part)
        )
        # Telegram fills user_id with the sender's own id only when they share their own
        # number (the "share my phone" button): then the number is vouched for.
        if phone and contact.integer("user_id") == sender_id:
            identities.append(InboundIdentity("phone", phone))

    text = "\n".join(line for line in lines if line)
    if not text and not attachments:
        return None
    return _Content(text=text, attachments=tuple(attachments), identities=tuple(identities))


def _attachment(media: _Fields, *, filename: str, content_type: str) -> InboundAttachment:
    size = media.integer("file_size") or 0
    return InboundAttachment(
        media_id=media.required_string("file_id", max_length=500),
        filename=(media.string("file_name").strip() or filename)[:255],
        content_type=(media.string("mime_type").strip() or content_type)[:255],
        size=max(size, 0),
    )


def _location_text(location: _Fields) -> str:
    latitude, longitude = location.number("latitude"), location.number("longitude")
    return f"📍 Location: {latitude}, {longitude}\n{_map_link(location)}"


def _map_link(location: _Fields) -> str:
    latitude, longitude = location.number("latitude"), location.number("longitude")
    return (
        f"https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}"
        f"#map=17/{latitude}/{longitude}"
    )


# Building replies


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


# Failures


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _failure_for_answer(response: httpx.Response, *, action: str) -> DeliveryFailed:
    """Telegram's error answer as a retryable (429, 5xx) or final (other 4xx) failure."""
    answer = _json_object(response) or {}
    description = answer.get("description")
    if not isinstance(description, str) or not description:
        description = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    description = redact_bot_tokens(description[:300])
    error_code = answer.get("error_code")
    status = error_code if isinstance(error_code, int) else response.status_code
    if status == 429:
        parameters = answer.get("parameters")
        retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
        if not isinstance(retry_after, int | float) or isinstance(retry_after, bool):
            header = response.headers.get("retry-after", "")
            retry_after = float(header) if header.isdigit() else None
        return DeliveryFailed(
            f"Telegram rate limit on {action}: {description}",
            is_retryable=True,
            retry_after=float(retry_after) if retry_after is not None else None,
        )
    if status >= 500 or response.status_code >= 500:
        return DeliveryFailed(f"Telegram failed on {action}: {description}", is_retryable=True)
    if status == 403 and "blocked" in description.lower():
        return DeliveryFailed(
            f"the customer blocked the bot (Telegram: {description})", is_retryable=False
        )
    if status == 401:
        return DeliveryFailed(
            f"Telegram refused the bot token ({description}): check the channel's bot_token",
            is_retryable=False,
        )
    return DeliveryFailed(f"Telegram refused {action}: {description}", is_retryable=False)


def _transport_failure(error: httpx.HTTPError) -> DeliveryFailed:
    # Only the error's class and message: the request URL would carry the token.
    detail = redact_bot_tokens(str(error))[:300]
    return DeliveryFailed(
        f"Telegram unreachable: {type(error).__name__}: {detail}".rstrip(": "),
        is_retryable=True,
    )


def _partly_sent(
    failure: DeliveryFailed, *, sent: int, count: int, first_external_id: str | None
) -> DeliveryFailed:
    if sent == 0:
        return failure
    return DeliveryFailed(
        f"{failure.reason} (the reply went out in part: {sent} of its {count} Telegram "
        "messages were sent)",
        is_retryable=failure.is_retryable,
        retry_after=failure.retry_after,
        progress=DeliveryProgress(parts_sent=sent, first_external_id=first_external_id),
    )


def _external_id(chat_id: str, result: Any) -> str | None:
    """Our id for a sent Telegram message: its chat and message id."""
    message_id = result.get("message_id") if isinstance(result, dict) else None
    if isinstance(message_id, int) and not isinstance(message_id, bool):
        return f"{chat_id}:{message_id}"
    return None


def _secret_format_errors(config: dict[str, Any]) -> dict[str, str]:
    errors = {}
    token = config.get("bot_token")
    if isinstance(token, str) and not BOT_TOKEN_PATTERN.match(token):
        errors["bot_token"] = "must look like 123456789:AA... (the token BotFather gave)"
    secret = config.get("webhook_secret")
    if isinstance(secret, str) and not WEBHOOK_SECRET_PATTERN.match(secret):
        errors["webhook_secret"] = "must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
    return errors
