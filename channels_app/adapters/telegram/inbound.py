"""Telegram Updates in: read through the shared JSON reader into InboundEvents.

`message` (text, media, location, contact) becomes an InboundMessage with id
`<chat id>:<message id>`, `edited_message` an InboundEdit, `callback_query` an
InboundMessage carrying the button's data (answered after commit, see outbound), and
`my_chat_member` (the customer blocked or unblocked the bot) an IdentityReachability.
Other updates are acknowledged and ignored.
"""

import hmac
from dataclasses import dataclass

from channels_app.adapters.payload import JsonObject
from channels_app.contracts import (
    IdentityReachability,
    InboundAttachment,
    InboundEdit,
    InboundEvent,
    InboundIdentity,
    InboundMessage,
    SignatureInvalid,
    WebhookRequest,
)

SECRET_HEADER = "x-telegram-bot-api-secret-token"
# The update kinds events_from_update() maps; the webhook asks Telegram for these only.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")
SURVEY_PAYLOAD_PREFIX = "csat:"
CALLBACK_EXTERNAL_ID_PREFIX = "cb:"
# A callback's id becomes `cb:<id>`, which must fit the 255 characters an external id keeps.
MAX_CALLBACK_ID_LENGTH = 200
# Telegram's file ids run longer than other ids; attachments keep up to 500 characters.
MAX_FILE_ID_LENGTH = 500
# IETF language tags as Telegram gives them ("en", "pt-br"); customers.languages maps
# them to a language we speak.
MAX_LANGUAGE_LENGTH = 16


def secret_token_check(secret: str | None, request: WebhookRequest) -> None:
    """Raise SignatureInvalid unless the request carries the channel's webhook secret."""
    if not secret:
        raise SignatureInvalid("the channel has no webhook_secret configured", status_code=403)
    received = request.headers.get(SECRET_HEADER)
    if not received:
        raise SignatureInvalid("secret token header missing")
    if not hmac.compare_digest(received.encode(), secret.encode()):
        raise SignatureInvalid("secret token does not match")


def events_from_update(body: bytes) -> list[InboundEvent]:
    update = JsonObject.from_body(body, path="update")
    update.required_integer("update_id")
    if update.has("message"):
        return _message_events(update.required_object("message"))
    if update.has("edited_message"):
        return _edit_events(update.required_object("edited_message"))
    if update.has("callback_query"):
        return _callback_events(update.required_object("callback_query"))
    if update.has("my_chat_member"):
        return _reachability_events(update.required_object("my_chat_member"))
    # channel_post, inline_query, poll, chat_join_request...: not ours to handle.
    return []


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


def _private_origin(message: JsonObject) -> _Origin | None:
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
        sender_language=sender.line("language_code", max_length=MAX_LANGUAGE_LENGTH),
    )


def _full_name(person: JsonObject) -> str:
    parts = (person.line("first_name"), person.line("last_name"))
    return " ".join(part for part in parts if part)[:255]


def _message_events(message: JsonObject) -> list[InboundEvent]:
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


def _edit_events(message: JsonObject) -> list[InboundEvent]:
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


def _callback_events(callback: JsonObject) -> list[InboundEvent]:
    callback_id = callback.required_id("id", max_length=MAX_CALLBACK_ID_LENGTH)
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
            sender_language=sender.line("language_code", max_length=MAX_LANGUAGE_LENGTH),
            text=_pressed_button_text(message, data) or data,
            button_payload=data,
            reply_to_id=str(message.integer("message_id") or ""),
        )
    ]


def _pressed_button_text(message: JsonObject, data: str) -> str:
    """The label of the button the customer pressed, read from the message's keyboard."""
    markup = message.object("reply_markup")
    if markup is None:
        return ""
    for row in markup.object_rows("inline_keyboard"):
        for button in row:
            if button.string("callback_data") == data:
                return button.string("text")
    return ""


def _reachability_events(update: JsonObject) -> list[InboundEvent]:
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


def _content(message: JsonObject, *, sender_id: int) -> _Content | None:
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
        if sticker.boolean("is_animated"):
            filename, content_type = "sticker.tgs", "application/x-tgsticker"
        elif sticker.boolean("is_video"):
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
        phone = contact.line("phone_number")
        lines.append("👤 " + ", ".join(part for part in (_full_name(contact), phone) if part))
        # Telegram fills user_id with the sender's own id only when they share their own
        # number (the "share my phone" button): then the number is vouched for.
        if phone and contact.integer("user_id") == sender_id:
            identities.append(InboundIdentity("phone", phone))

    text = "\n".join(line for line in lines if line)
    if not text and not attachments:
        return None
    return _Content(text=text, attachments=tuple(attachments), identities=tuple(identities))


def _attachment(media: JsonObject, *, filename: str, content_type: str) -> InboundAttachment:
    size = media.integer("file_size") or 0
    return InboundAttachment(
        media_id=media.required_id("file_id", max_length=MAX_FILE_ID_LENGTH),
        filename=media.line("file_name") or filename,
        content_type=media.line("mime_type") or content_type,
        size=max(size, 0),
    )


def _location_text(location: JsonObject) -> str:
    latitude, longitude = (
        location.required_number("latitude"),
        location.required_number("longitude"),
    )
    return f"📍 {latitude}, {longitude}\n{_map_link(location)}"


def _map_link(location: JsonObject) -> str:
    latitude, longitude = (
        location.required_number("latitude"),
        location.required_number("longitude"),
    )
    return (
        f"https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}"
        f"#map=17/{latitude}/{longitude}"
    )
