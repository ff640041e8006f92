"""VK Callback API events in: checked against the community's secret key and read through
the shared JSON reader into InboundEvents.

`confirmation` (VK checking the server address) is answered with the channel's
confirmation code before anything else. `message_new` from a customer's dialog with the
community becomes an InboundMessage with the VK message id as its id, `message_edit` an
InboundEdit, `message_event` (a callback button pressed) an InboundMessage carrying the
button's payload, `message_allow` / `message_deny` an IdentityReachability and
`message_typing_state` a CustomerTyping. Messages
the community sends (`message_reply`), group chats and other events are acknowledged and
ignored.
"""

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass

from channels_app.adapters.payload import JsonObject
from channels_app.adapters.vk.vk_api import KIND
from channels_app.contracts import (
    CustomerTyping,
    IdentityReachability,
    InboundAttachment,
    InboundEdit,
    InboundEvent,
    InboundIdentity,
    InboundMessage,
    PayloadMalformed,
    SignatureInvalid,
    VerificationAnswer,
    WebhookRejected,
    WebhookRequest,
)

# The event types events_from_callback() maps; vk_setup turns on these only.
HANDLED_EVENTS = (
    "message_new",
    "message_edit",
    "message_event",
    "message_allow",
    "message_deny",
    "message_typing_state",
)
# Peer ids from this one up are group chats, not a customer's dialog with the community.
FIRST_CHAT_PEER_ID = 2_000_000_000
# A button's payload carries ours under this key ({"switchboard": "csat:<token>:4"}).
BUTTON_PAYLOAD_KEY = "switchboard"
EVENT_EXTERNAL_ID_PREFIX = "event:"
MAX_EVENT_ID_LENGTH = 200
# Forwarded messages can nest; deeper ones are left out of the quote.
MAX_QUOTE_DEPTH = 3
# The survey keyboards a customer's app may show, best first (see survey).
CALLBACK_BUTTONS = "callback"
INLINE_TEXT_BUTTONS = "inline_text"
TEXT_KEYBOARD = "keyboard"
NO_KEYBOARD = "none"
# VK's lang_id for the languages we speak (client_info.lang_id).
LANGUAGES_BY_VK_ID = {0: "ru", 3: "en"}


def confirmation_answer(channel, request: WebhookRequest) -> VerificationAnswer | None:
    """The confirmation code, for VK's `confirmation` request about this channel's
    community; None for any other request. VK may send it without the secret."""
    if b"confirmation" not in request.body:
        return None
    callback = JsonObject.from_body(request.body)
    if callback.string("type") != "confirmation":
        return None
    group_id = str(channel.config.get("group_id") or "")
    if not group_id or callback.id("group_id") != group_id:
        raise WebhookRejected("a confirmation for another community", status_code=403)
    code = channel.secrets.get("confirmation_code")
    if not code:
        raise WebhookRejected("the channel has no confirmation_code configured", status_code=403)
    return VerificationAnswer(status_code=200, body=code)


def secret_check(channel, request: WebhookRequest) -> None:
    """Raise SignatureInvalid (403) unless the body carries the channel's secret key and,
    where it names one, the channel's community."""
    expected = channel.secrets.get("secret_key")
    if not expected:
        raise SignatureInvalid("the channel has no secret_key configured", status_code=403)
    callback = JsonObject.from_body(request.body)
    received = callback.string("secret", max_length=1000)
    if not received or not hmac.compare_digest(received.encode(), expected.encode()):
        raise SignatureInvalid("secret does not match", status_code=403)
    group_id = str(channel.config.get("group_id") or "")
    if group_id and callback.id("group_id") not in ("", group_id):
        raise SignatureInvalid("the event is for another community", status_code=403)


def events_from_callback(body: bytes) -> list[InboundEvent]:
    """The events a callback carries."""
    callback = JsonObject.from_body(body)
    event_type = callback.string("type")
    if event_type == "message_new":
        container = callback.required_object("object")
        return _message_events(
            container.required_object("message"), container.object("client_info")
        )
    if event_type == "message_edit":
        return _edit_events(callback.required_object("object"))
    if event_type == "message_event":
        return _button_events(callback.required_object("object"))
    if event_type in ("message_allow", "message_deny"):
        user = callback.required_object("object")
        return [
            IdentityReachability(
                kind=KIND,
                value=str(user.required_integer("user_id", minimum=1)),
                is_reachable=event_type == "message_allow",
            )
        ]
    if event_type == "message_typing_state":
        return _typing_events(callback.required_object("object"))
    return []


def _typing_events(state: JsonObject) -> list[InboundEvent]:
    # VK reports only the start ("typing"); the inbox lets the indicator lapse by itself.
    from_id = state.integer("from_id")
    if state.string("state") != "typing" or from_id is None:
        return []
    if not 0 < from_id < FIRST_CHAT_PEER_ID:
        return []  # the community itself, or a group chat
    return [CustomerTyping(sender_address=str(from_id))]


def client_info_kept(client_info: JsonObject | None) -> dict[str, object] | None:
    """What the identity keeps of a message's client_info: what the customer's app can
    show, and its language; None when the message says nothing."""
    if client_info is None:
        return None
    kept: dict[str, object] = {
        "button_actions": sorted(set(client_info.lines("button_actions", max_items=50))),
        "keyboard": client_info.boolean("keyboard"),
        "inline_keyboard": client_info.boolean("inline_keyboard"),
        "carousel": client_info.boolean("carousel"),
    }
    lang_id = client_info.integer("lang_id")
    if lang_id is not None:
        kept["lang_id"] = lang_id
    return kept


def keyboard_capability(client_info: Mapping[str, object]) -> str:
    """The best survey keyboard a customer's app shows, from the client_info their identity
    keeps (empty when VK never said: text buttons, which every app with keyboards shows)."""
    if not client_info:
        return TEXT_KEYBOARD
    actions = client_info.get("button_actions")
    if client_info.get("inline_keyboard") is True:
        has_callback = isinstance(actions, list) and "callback" in actions
        return CALLBACK_BUTTONS if has_callback else INLINE_TEXT_BUTTONS
    return TEXT_KEYBOARD if client_info.get("keyboard") is True else NO_KEYBOARD


def _is_customer_dialog(message: JsonObject) -> bool:
    """An incoming message in a person's own dialog with the community."""
    peer_id = message.required_integer("peer_id")
    from_id = message.required_integer("from_id")
    return message.integer("out") != 1 and 0 < from_id < FIRST_CHAT_PEER_ID and peer_id == from_id


def _message_events(message: JsonObject, client_info: JsonObject | None) -> list[InboundEvent]:
    if not _is_customer_dialog(message):
        return []
    content = _content(message)
    if content is None:
        return []
    sender_id = str(message.required_integer("from_id"))
    kept_client_info = client_info_kept(client_info)
    lang_id = kept_client_info.get("lang_id") if kept_client_info else None
    language = LANGUAGES_BY_VK_ID.get(lang_id, "") if isinstance(lang_id, int) else ""
    return [
        InboundMessage(
            external_id=_message_id(message),
            recipient_address=sender_id,
            identities=(InboundIdentity(KIND, sender_id, client_info=kept_client_info),),
            sender_language=language,
            text=content.text,
            attachments=content.attachments,
            sent_at=message.timestamp("date"),
            button_payload=_button_payload(message.string("payload", max_length=4096)),
        )
    ]


def _edit_events(message: JsonObject) -> list[InboundEvent]:
    if not _is_customer_dialog(message):
        return []
    content = _content(message)
    return [
        InboundEdit(
            external_id=_message_id(message),
            text=content.text if content is not None else "",
            edited_at=message.timestamp("update_time"),
        )
    ]


def _button_events(event: JsonObject) -> list[InboundEvent]:
    user_id = event.required_integer("user_id", minimum=1)
    if event.required_integer("peer_id") != user_id:
        return []
    payload = event.object("payload")
    button_payload = payload.string(BUTTON_PAYLOAD_KEY, max_length=500) if payload else ""
    if not button_payload:
        return []
    label = payload.line("label") if payload else ""
    return [
        InboundMessage(
            external_id=EVENT_EXTERNAL_ID_PREFIX
            + event.required_id("event_id", max_length=MAX_EVENT_ID_LENGTH),
            recipient_address=str(user_id),
            identities=(InboundIdentity(KIND, str(user_id)),),
            text=label or button_payload.rsplit(":", 1)[-1],
            button_payload=button_payload,
        )
    ]


def _message_id(message: JsonObject) -> str:
    message_id = message.integer("id")
    if message_id:
        return str(message_id)
    # Without a community-wide id, the message's number within its dialog names it.
    peer_id = message.required_integer("peer_id")
    return f"{peer_id}:{message.required_integer('conversation_message_id')}"


def _button_payload(payload: str) -> str:
    """Ours from a text button's payload (a JSON object as a string); "" for any other."""
    if not payload:
        return ""
    try:
        data = JsonObject.from_body(payload.encode())
        return data.string(BUTTON_PAYLOAD_KEY, max_length=500)
    except PayloadMalformed:
        return ""


@dataclass(frozen=True)
class _Content:
    text: str
    attachments: tuple[InboundAttachment, ...] = ()


def _content(message: JsonObject, *, depth: int = 0) -> _Content | None:
    """What a message says, as text and files; None when it says nothing we can show."""
    lines: list[str] = []
    reply = message.object("reply_message")
    if reply is not None and depth < MAX_QUOTE_DEPTH:
        lines.append(_quoted(reply, depth=depth))
    lines.append(message.string("text").strip())
    attachments: list[InboundAttachment] = []
    for item in message.objects("attachments", max_items=50):
        line, attachment = _attachment(item)
        if line:
            lines.append(line)
        if attachment is not None:
            attachments.append(attachment)
    geo = message.object("geo")
    if geo is not None:
        lines.append(_geo_text(geo))
    if depth < MAX_QUOTE_DEPTH:
        for forwarded in message.objects("fwd_messages", max_items=100):
            lines.append(_quoted(forwarded, depth=depth))
    text = "\n".join(line for line in lines if line)
    if not text and not attachments:
        return None
    return _Content(text=text, attachments=tuple(attachments))


def _quoted(message: JsonObject, *, depth: int) -> str:
    """A forwarded or replied-to message as a quote: its text and links, files by name."""
    content = _content(message, depth=depth + 1)
    if content is None:
        return ""
    lines = content.text.splitlines() or [""]
    lines += [f"📎 {attachment.url or attachment.filename}" for attachment in content.attachments]
    return "\n".join(f"> {line}" if line else ">" for line in lines)


def _attachment(item: JsonObject) -> tuple[str, InboundAttachment | None]:
    """One of a message's attachments: a line of text, a file, or both."""
    kind = item.line("type", max_length=50)
    body = item.object(kind) if kind else None
    if body is None:
        return "", None
    if kind == "photo":
        return "", _largest_image(
            body.objects("sizes"), filename="photo.jpg", content_type="image/jpeg"
        )
    if kind == "sticker":
        images = body.objects("images") or body.objects("images_with_background")
        return "", _largest_image(images, filename="sticker.png", content_type="image/png")
    if kind == "doc":
        url = body.string("url", max_length=2048).strip()
        title = body.line("title") or f"document.{body.line('ext', max_length=10) or 'bin'}"
        if not url:
            return f"📎 {title}", None
        size = body.integer("size", minimum=0) or 0
        return "", InboundAttachment(filename=title, url=url, size=size)
    if kind == "audio_message":
        url = body.string("link_mp3", max_length=2048).strip()
        if url:
            return "", InboundAttachment(filename="voice.mp3", content_type="audio/mpeg", url=url)
        url = body.string("link_ogg", max_length=2048).strip()
        if url:
            return "", InboundAttachment(filename="voice.ogg", content_type="audio/ogg", url=url)
        return "", None
    if kind == "video":
        link = (
            f"https://vk.com/video{body.required_integer('owner_id')}_{body.required_integer('id')}"
        )
        title = body.line("title")
        return f"🎬 {title}\n{link}" if title else f"🎬 {link}", None
    if kind == "link":
        url = body.string("url", max_length=2048).strip()
        title = body.line("title")
        return (f"🔗 {title}\n{url}" if title else f"🔗 {url}") if url else "", None
    if kind == "wall":
        owner_id = body.integer("owner_id") or body.integer("from_id") or body.integer("to_id")
        link = f"https://vk.com/wall{owner_id}_{body.required_integer('id')}"
        text = body.string("text").strip()
        return "📝 " + (f"{link}\n{_shortened(text)}" if text else link), None
    if kind == "audio":
        name = " - ".join(part for part in (body.line("artist"), body.line("title")) if part)
        return f"🎵 {name}" if name else "", None
    return "", None


def _largest_image(
    sizes: list[JsonObject], *, filename: str, content_type: str
) -> InboundAttachment | None:
    usable = [size for size in sizes if size.string("url", max_length=2048).strip()]
    if not usable:
        return None
    largest = max(
        usable, key=lambda size: (size.integer("width") or 0) * (size.integer("height") or 0)
    )
    return InboundAttachment(
        filename=filename, content_type=content_type, url=largest.string("url").strip()
    )


def _geo_text(geo: JsonObject) -> str:
    coordinates = geo.required_object("coordinates")
    latitude = coordinates.required_number("latitude")
    longitude = coordinates.required_number("longitude")
    place = geo.object("place")
    title = place.line("title") if place is not None else ""
    link = f"https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}#map=17/{latitude}/{longitude}"
    return f"📍 {title}\n{link}" if title else f"📍 {latitude}, {longitude}\n{link}"


def _shortened(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def button_payload_json(payload: str, *, label: str = "") -> str:
    """The payload a keyboard button carries for one of our answers."""
    data = {BUTTON_PAYLOAD_KEY: payload}
    if label:
        data["label"] = label
    return json.dumps(data, ensure_ascii=False)
