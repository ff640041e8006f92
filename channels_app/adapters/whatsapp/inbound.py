"""WhatsApp webhooks in: Meta's signed `messages` changes read through the shared JSON
reader into InboundMessages and delivery statuses."""

import logging
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass

from channels_app.adapters.payload import JsonObject
from channels_app.adapters.whatsapp.media import safe_filename
from channels_app.adapters.whatsapp.outbound import WA_ID
from channels_app.contracts import (
    ContentItem,
    ContentItemKind,
    DeliveryStatusUpdate,
    InboundAttachment,
    InboundEvent,
    InboundIdentity,
    InboundMessage,
)
from channels_app.failure_reasons import FailureCode, FailureReason

logger = logging.getLogger(__name__)

DELIVERY_STATUSES = frozenset({"sent", "delivered", "read", "failed"})
MEDIA_MESSAGE_TYPES = ("image", "document", "audio", "video", "sticker")
MAX_TYPE_LENGTH = 50

_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/aac": "aac",
    "audio/amr": "amr",
    "video/mp4": "mp4",
    "video/3gpp": "3gp",
    "application/pdf": "pdf",
    "text/plain": "txt",
}


def events_from_webhook(
    body: bytes, *, phone_number_id: str, channel_id: int
) -> list[InboundEvent]:
    """The messages and statuses of the changes meant for this channel's number."""
    payload = JsonObject.from_body(body)
    if payload.string("object") != "whatsapp_business_account":
        return []
    events: list[InboundEvent] = []
    for entry in payload.objects("entry"):
        for change in entry.objects("changes"):
            if change.string("field") != "messages":
                continue
            value = change.required_object("value")
            if not _is_for_number(value, phone_number_id, channel_id):
                continue
            events.extend(_inbound_messages(value))
            events.extend(_status_updates(value))
    return events


def _is_for_number(value: JsonObject, phone_number_id: str, channel_id: int) -> bool:
    # One Meta app may serve several numbers through one callback URL: a change for
    # another number belongs to another channel, and replies must not leave from ours.
    metadata = value.object("metadata")
    theirs = metadata.id("phone_number_id") if metadata is not None else ""
    if phone_number_id and theirs and theirs != phone_number_id:
        logger.info("WhatsApp channel %s ignored a change for another phone number id", channel_id)
        return False
    return True


@dataclass(frozen=True)
class _Content:
    text: str = ""
    attachments: tuple[InboundAttachment, ...] = ()
    button_payload: str = ""
    content_items: tuple[ContentItem, ...] = ()


def _inbound_messages(value: JsonObject) -> list[InboundMessage]:
    contacts = value.objects("contacts")
    result = []
    for message in value.objects("messages"):
        external_id = message.required_id("id")
        message_type = message.line("type", max_length=MAX_TYPE_LENGTH) or "unknown"
        content = _content(message_type, message)
        if content is None:
            continue
        identities, recipient_address, sender_name = _sender(message, contacts)
        result.append(
            InboundMessage(
                external_id=external_id,
                recipient_address=recipient_address,
                identities=identities,
                sender_name=sender_name,
                text=content.text,
                attachments=content.attachments,
                content_items=content.content_items,
                sent_at=message.timestamp("timestamp"),
                button_payload=content.button_payload,
            )
        )
    return result


def _sender(
    message: JsonObject, contacts: list[JsonObject]
) -> tuple[tuple[InboundIdentity, ...], str, str]:
    """The customer's identities, where replies go, and their profile name.

    The phone (wa_id) comes first when Meta gives it. A customer who adopted a username may
    come without one: the business-scoped user id is then the stable key and the address.
    """
    phone = message.id("from")
    user_id = message.id("from_user_id")
    contact = _contact_for(phone, user_id, contacts)
    name = ""
    if contact is not None:
        phone = contact.id("wa_id") or phone
        user_id = contact.id("user_id") or user_id
        profile = contact.object("profile")
        if profile is not None:
            name = profile.line("name") or profile.line("username")
    identities = []
    if phone:
        identities.append(InboundIdentity(kind="whatsapp", value=phone))
        if WA_ID.fullmatch(phone):
            identities.append(InboundIdentity(kind="phone", value=f"+{phone}"))
    if user_id:
        identities.append(InboundIdentity(kind="whatsapp_user", value=user_id))
    address = phone or user_id
    if not address:
        raise message.malformed("needs its sender's wa_id or user_id")
    return tuple(identities), address, name


def _contact_for(phone: str, user_id: str, contacts: list[JsonObject]) -> JsonObject | None:
    for contact in contacts:
        if (phone and contact.id("wa_id") == phone) or (
            user_id and contact.id("user_id") == user_id
        ):
            return contact
    return contacts[0] if len(contacts) == 1 else None


def _content(message_type: str, message: JsonObject) -> _Content | None:
    """What the customer sent, as text, files and a chosen button; None to skip it."""
    if message_type in MEDIA_MESSAGE_TYPES:
        return _media_content(message_type, message.required_object(message_type))
    if message_type == "contacts":
        # Contact cards a customer forwards describe somebody else: text, never an identity.
        rendered = [_contact_card(card) for card in message.objects("contacts")]
        return _Content(text="\n\n".join(rendered) if rendered else "👤")
    if message_type == "request_welcome":
        # The customer opened the chat for the first time; they have said nothing yet.
        return None
    reader = _CONTENT_READERS.get(message_type)
    if reader is None:
        return _unsupported(message_type)
    body = message.object(message_type) or JsonObject({}, message.name(message_type))
    return reader(body, message)


def _text_content(body: JsonObject, message: JsonObject) -> _Content:
    return _Content(text=body.required_string("body").strip())


def _media_content(message_type: str, media: JsonObject) -> _Content:
    media_id = media.required_id("id")
    mime_type = media.line("mime_type") or "application/octet-stream"
    filename = safe_filename(media.string("filename")) if message_type == "document" else ""
    if not filename:
        filename = f"{message_type}.{_extension(mime_type)}"
    return _Content(
        text=media.string("caption").strip(),
        attachments=(
            InboundAttachment(filename=filename, content_type=mime_type, media_id=media_id),
        ),
    )


def _location_content(location: JsonObject, message: JsonObject) -> _Content:
    lines = [location.string(key).strip() for key in ("name", "address")]
    if location.number("latitude") is not None and location.number("longitude") is not None:
        # As Meta wrote them (an integer stays one), for the map link too.
        coordinates = f"{location.data['latitude']},{location.data['longitude']}"
        lines.append(coordinates.replace(",", ", "))
        lines.append(f"https://www.google.com/maps/search/?api=1&query={coordinates}")
    url = location.string("url").strip()
    if url:
        lines.append(url)
    written = "\n".join(line for line in lines if line)
    return _Content(text=f"📍 {written}".rstrip())


def _contact_card(card: JsonObject) -> str:
    name = card.object("name")
    full_name = name.string("formatted_name").strip() if name is not None else ""
    lines = [f"👤 {full_name}".rstrip()]
    for key, sign, field in (("phones", "📞", "phone"), ("emails", "✉️", "email")):
        for item in card.objects(key):
            value = item.string(field).strip()
            if value:
                kind = item.string("type").strip()
                lines.append(f"{sign} {value}" + (f" ({kind})" if kind else ""))
    organization = card.object("org")
    company = organization.string("company").strip() if organization is not None else ""
    if company:
        lines.append(f"🏢 {company}")
    return "\n".join(lines)


def _interactive_content(interactive: JsonObject, message: JsonObject) -> _Content:
    reply_type = interactive.line("type", max_length=MAX_TYPE_LENGTH)
    reply = interactive.object(reply_type) if reply_type in ("button_reply", "list_reply") else None
    if reply is None:
        return _unsupported(f"interactive {reply_type}".strip())
    reply_id, title = reply.string("id").strip(), reply.string("title").strip()
    return _Content(text=title or reply_id, button_payload=reply_id)


def _button_content(button: JsonObject, message: JsonObject) -> _Content:
    # A quick-reply button of a template we sent.
    payload, text = button.string("payload").strip(), button.string("text").strip()
    return _Content(text=text or payload, button_payload=payload)


def _reaction_content(reaction: JsonObject, message: JsonObject) -> _Content:
    emoji = reaction.string("emoji").strip()
    if emoji:
        return _Content(content_items=(ContentItem(ContentItemKind.REACTION, {"emoji": emoji}),))
    return _Content(content_items=(ContentItem(ContentItemKind.REACTION_REMOVED),))


def _system_content(system: JsonObject, message: JsonObject) -> _Content:
    # The platform's own words (in English), as Meta wrote them; a notice without them is
    # worded in each reader's language.
    text = system.string("body").strip()
    return (
        _Content(text=text)
        if text
        else _Content(content_items=(ContentItem(ContentItemKind.PLATFORM_NOTICE),))
    )


def _unsupported_content(unsupported: JsonObject, message: JsonObject) -> _Content:
    kind = unsupported.line("type", max_length=MAX_TYPE_LENGTH)
    if not kind:
        errors = message.objects("errors")
        kind = errors[0].line("title", max_length=100) if errors else ""
    return _unsupported(kind)


def _unsupported(kind: str) -> _Content:
    """A kind of message we cannot show: named by the platform's type, worded when shown."""
    return _Content(content_items=(ContentItem(ContentItemKind.UNSUPPORTED, {"type": kind}),))


_CONTENT_READERS: dict[str, Callable[[JsonObject, JsonObject], _Content]] = {
    "text": _text_content,
    "location": _location_content,
    "interactive": _interactive_content,
    "button": _button_content,
    "reaction": _reaction_content,
    "system": _system_content,
    "unsupported": _unsupported_content,
}


def _status_updates(value: JsonObject) -> list[DeliveryStatusUpdate]:
    updates = []
    for status in value.objects("statuses"):
        state = status.string("status")
        if state not in DELIVERY_STATUSES:
            continue
        updates.append(
            DeliveryStatusUpdate(
                external_id=status.required_id("id"),
                status=state,
                error=_status_error(status) if state == "failed" else "",
            )
        )
    return updates


def _status_error(status: JsonObject) -> FailureReason:
    """Why the message failed, its detail `<code> <title>: <details>` as Meta explains it."""
    errors = status.objects("errors")
    if not errors:
        return FailureReason.of(FailureCode.NOT_DELIVERED, platform="WhatsApp")
    first = errors[0]
    code = first.integer("code")
    title = first.string("title").strip()
    message = first.string("message").strip()
    error_data = first.object("error_data")
    details = error_data.string("details").strip() if error_data is not None else ""
    head = f"{code} {title}".strip() if code is not None else title
    explanation = details or (message if message != title else "")
    text = f"{head}: {explanation}" if head and explanation else head or explanation
    return FailureReason.of(FailureCode.NOT_DELIVERED, platform="WhatsApp", detail=text[:2000])


def _extension(mime_type: str) -> str:
    base = mime_type.split(";")[0].strip().lower()
    guessed = mimetypes.guess_extension(base) if base else None
    return _EXTENSIONS.get(base) or (guessed or ".bin").lstrip(".")
