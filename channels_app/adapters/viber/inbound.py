"""Viber callbacks in: signed with the bot's token, read through the shared JSON reader
into InboundEvents.

`message` becomes an InboundMessage with Viber's `message_token` as its id; a keyboard
button of ours comes back as a text message whose text is the button's ActionBody, read
as the button's payload. `subscribed` / `unsubscribed` set whether the customer can be
written to; `delivered`, `seen` and `failed` are our messages' delivery statuses.
`webhook` (Viber checking the address) and `conversation_started` (the customer opened
the chat but said nothing) store no message.
"""

import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from channels_app.adapters.base import hmac_sha256_hex
from channels_app.adapters.payload import JsonObject
from channels_app.adapters.viber import outbound
from channels_app.adapters.viber.viber_api import KIND
from channels_app.contracts import (
    DeliveryStatusUpdate,
    IdentityReachability,
    InboundAttachment,
    InboundEvent,
    InboundIdentity,
    InboundMessage,
    PayloadMalformed,
    SignatureInvalid,
    VerificationAnswer,
    WebhookRequest,
)
from channels_app.failure_reasons import FailureCode, FailureReason
from customers.languages import channel_language, reader_language, text_in_language

SIGNATURE_HEADER = "x-viber-content-signature"
# The event types events_from_callback() maps; `message` and `webhook` always come.
HANDLED_EVENTS = (
    "delivered",
    "seen",
    "failed",
    "subscribed",
    "unsubscribed",
    "conversation_started",
)
DELIVERY_STATUSES = {"delivered": "delivered", "seen": "read", "failed": "failed"}
# A button of ours answers with its ActionBody as the message's text.
BUTTON_PAYLOAD = re.compile(r"csat:[A-Za-z0-9_-]{1,100}:[0-9]{1,2}")
MAX_LANGUAGE_LENGTH = 16
MAX_AVATAR_URL_LENGTH = 2048


def signature_check(auth_token: str | None, request: WebhookRequest) -> None:
    """`X-Viber-Content-Signature`: hex HMAC-SHA256 of the raw body with the bot's token."""
    if not auth_token:
        raise SignatureInvalid("the channel has no auth_token configured", status_code=403)
    received = request.headers.get(SIGNATURE_HEADER)
    if not received:
        raise SignatureInvalid("signature header missing")
    expected = hmac_sha256_hex(auth_token, request.body)
    if not hmac.compare_digest(received.strip().lower().encode(), expected.encode()):
        raise SignatureInvalid("signature does not match", status_code=403)


def welcome_answer(channel, request: WebhookRequest) -> VerificationAnswer | None:
    """The channel's welcome message, as the answer to a signed `conversation_started`
    (Viber shows a message given in that answer to the customer who opened the chat);
    None for any other request, or when the channel has no welcome message."""
    welcome = channel.config.get("welcome_message")
    if not welcome or b"conversation_started" not in request.body:
        return None
    signature_check(channel.secrets.get("auth_token"), request)
    callback = JsonObject.from_body(request.body)
    if callback.string("event") != "conversation_started":
        return None
    user = callback.object("user")
    language = reader_language(
        user.line("language", max_length=MAX_LANGUAGE_LENGTH) if user else "",
        channel_language(channel.config),
    )
    text = text_in_language(welcome, language, fallback="")
    if not text:
        return None
    body = json.dumps(
        {"sender": outbound.sender(channel), "type": "text", "text": text}, ensure_ascii=False
    )
    return VerificationAnswer(status_code=200, body=body, content_type="application/json")


def events_from_callback(body: bytes) -> list[InboundEvent]:
    callback = JsonObject.from_body(body)
    event = callback.string("event")
    if event == "message":
        return _message_events(callback)
    if event in DELIVERY_STATUSES:
        return [
            DeliveryStatusUpdate(
                external_id=callback.required_id("message_token"),
                status=DELIVERY_STATUSES[event],
                error=FailureReason.of(
                    FailureCode.NOT_DELIVERED,
                    platform="Viber",
                    detail=callback.string("desc").strip()[:2000],
                )
                if event == "failed"
                else "",
            )
        ]
    if event == "subscribed":
        user = callback.required_object("user")
        return [IdentityReachability(kind=KIND, value=user.required_id("id"), is_reachable=True)]
    if event == "unsubscribed":
        return [
            IdentityReachability(
                kind=KIND, value=callback.required_id("user_id"), is_reachable=False
            )
        ]
    return []


def _message_events(callback: JsonObject) -> list[InboundEvent]:
    sender = callback.required_object("sender")
    sender_id = sender.required_id("id")
    content = _content(callback.required_object("message"))
    if content is None:
        return []
    return [
        InboundMessage(
            external_id=callback.required_id("message_token"),
            recipient_address=sender_id,
            identities=(InboundIdentity(KIND, sender_id, avatar_url=_avatar_url(sender)),),
            sender_name=sender.line("name"),
            sender_language=sender.line("language", max_length=MAX_LANGUAGE_LENGTH),
            text=content.text,
            attachments=content.attachments,
            sent_at=_moment(callback),
            button_payload=content.button_payload,
        )
    ]


def _avatar_url(sender: JsonObject) -> str:
    # A picture is a nicety: one Viber gives oddly never costs the message.
    try:
        return sender.line("avatar", max_length=MAX_AVATAR_URL_LENGTH + 1)
    except PayloadMalformed:
        return ""


def _moment(callback: JsonObject) -> datetime | None:
    # Viber's timestamps are Unix milliseconds, up to the year 2200 as the reader allows.
    milliseconds = callback.integer("timestamp", minimum=0, maximum=7_258_118_400_000)
    if milliseconds is None:
        return None
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)


@dataclass(frozen=True)
class _Content:
    text: str
    attachments: tuple[InboundAttachment, ...] = ()
    button_payload: str = ""


# Message types carrying a file at `media`: (default file name, default content type).
_MEDIA_TYPES = {
    "picture": ("picture.jpg", "image/jpeg"),
    "video": ("video.mp4", "video/mp4"),
    "file": ("file", "application/octet-stream"),
    "sticker": ("sticker.png", "image/png"),
}


def _content(message: JsonObject) -> _Content | None:
    kind = message.line("type", max_length=50)
    text = message.string("text").strip()
    if kind == "text":
        if BUTTON_PAYLOAD.fullmatch(text):
            return _Content(text=text.rsplit(":", 1)[-1], button_payload=text)
        return _Content(text=text) if text else None
    if kind in _MEDIA_TYPES:
        filename, content_type = _MEDIA_TYPES[kind]
        url = message.string("media", max_length=2048).strip()
        if not url:
            return _Content(text=text) if text else None
        size = message.integer("size", minimum=0) or 0
        attachment = InboundAttachment(
            filename=message.line("file_name") or filename,
            content_type=content_type,
            url=url,
            size=size,
        )
        return _Content(text=text, attachments=(attachment,))
    if kind == "location":
        location = message.required_object("location")
        latitude, longitude = location.required_number("lat"), location.required_number("lon")
        return _Content(
            text=f"📍 {latitude}, {longitude}\n"
            f"https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}"
            f"#map=17/{latitude}/{longitude}"
        )
    if kind == "contact":
        # A card the customer shares: shown, never taken as their own number (Viber does
        # not vouch for it).
        contact = message.required_object("contact")
        card = ", ".join(
            part for part in (contact.line("name"), contact.line("phone_number")) if part
        )
        return _Content(text=f"👤 {card}") if card else None
    if kind == "url":
        url = message.string("media", max_length=2048).strip()
        return _Content(text=f"🔗 {url}") if url else None
    if kind == "rich_media":
        return _Content(text=message.string("alt_text").strip() or text or "🗂")
    return None
