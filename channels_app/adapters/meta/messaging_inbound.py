"""The Messenger Platform's webhook envelope, which Facebook Messenger and Instagram
messaging share: `{"object", "entry": [{"id": <account id>, "time", "messaging": [...]}]}`,
each `messaging` item one event of one person, read into InboundEvents.

Times are Unix milliseconds. The business's own messages come back as echoes
(`message.is_echo`), with the person as the recipient instead of the sender.
"""

import logging
from dataclasses import dataclass

from channels_app.adapters.payload import JsonObject
from channels_app.contracts import (
    ContentItem,
    ContentItemKind,
    DeliveryStatusUpdate,
    DeliveryWatermark,
    InboundAttachment,
    InboundDeletion,
    InboundEdit,
    InboundEvent,
    InboundIdentity,
    InboundMessage,
    InboundReaction,
    OutboundEcho,
)

logger = logging.getLogger(__name__)

# What our own Send API calls put in `message.metadata`: their echoes are recognised by it.
OWN_METADATA_PREFIX = "switchboard:"
# The thumbs-up "like" Messenger sends as a sticker, in its three sizes.
LIKE_STICKER_IDS = frozenset({"369239263222822", "369239343222814", "369239383222810"})
MEDIA_TYPES = {"image": "image", "video": "video", "audio": "audio", "file": "file"}
MAX_ITEMS_PER_ENTRY = 1_000
# Meta names each reaction beside its emoji, which older payloads leave out.
REACTION_EMOJIS = {
    "like": "👍",
    "love": "❤️",
    "smile": "😆",
    "wow": "😮",
    "sad": "😢",
    "angry": "😠",
}
MAX_REACTION_LENGTH = 64

_DEFAULT_NAMES = {
    "image": "image.jpg",
    "video": "video.mp4",
    "audio": "audio.mp4",
    "file": "file",
}


@dataclass(frozen=True)
class Platform:
    """Which of Meta's messaging platforms an envelope comes from."""

    object_name: str  # "page" or "instagram"
    identity_kind: str  # "messenger" (PSID) or "instagram" (IGSID)
    account_id: str  # the page id or the Instagram account id the channel serves
    echo_source: str = ""  # the app the account's echoes are said to come from


def events_from_webhook(body: bytes, *, platform: Platform) -> list[InboundEvent]:
    """The events of every entry meant for the channel's account, in the order given."""
    payload = JsonObject.from_body(body)
    if payload.string("object") != platform.object_name:
        return []
    events: list[InboundEvent] = []
    for entry in payload.objects("entry"):
        entry_id = entry.id("id")
        if platform.account_id and entry_id and entry_id != platform.account_id:
            # One Meta app serves many pages through one callback URL: another page's
            # events are another channel's.
            logger.info("%s webhook entry for another account ignored", platform.object_name)
            continue
        for item in entry.objects("messaging", max_items=MAX_ITEMS_PER_ENTRY):
            events.extend(_events(item, platform))
    return events


def _events(item: JsonObject, platform: Platform) -> list[InboundEvent]:
    delivery = item.object("delivery")
    if delivery is not None:
        return _delivery_reports(item, delivery, "delivered")
    read = item.object("read")
    if read is not None and read.has("watermark"):
        return _delivery_reports(item, read, "read")
    event = _event(item, platform)
    return [event] if event is not None else []


def _event(item: JsonObject, platform: Platform) -> InboundEvent | None:
    sent_at = item.millisecond_timestamp("timestamp")
    message = item.object("message")
    if message is not None:
        if message.boolean("is_echo"):
            return _echo(item, message, sent_at, platform.echo_source)
        if message.boolean("is_deleted"):
            return InboundDeletion(external_id=message.required_id("mid"), deleted_at=sent_at)
        return _customer_message(item, message, platform, sent_at)
    postback = item.object("postback")
    if postback is not None:
        return _postback(item, postback, platform, sent_at)
    reaction = item.object("reaction")
    if reaction is not None:
        return _reaction(reaction)
    edit = item.object("message_edit")
    if edit is not None:
        return InboundEdit(
            external_id=edit.required_id("mid"), text=edit.string("text"), edited_at=sent_at
        )
    read = item.object("read")
    if read is not None:
        # Instagram names the one message read instead of a watermark.
        return DeliveryStatusUpdate(external_id=read.required_id("mid"), status="read")
    return None


def _person(item: JsonObject, key: str) -> str:
    return item.required_object(key).required_id("id")


def _identities(person_id: str, platform: Platform) -> tuple[InboundIdentity, ...]:
    return (InboundIdentity(kind=platform.identity_kind, value=person_id),)


def _customer_message(
    item: JsonObject, message: JsonObject, platform: Platform, sent_at
) -> InboundMessage | None:
    sender = _person(item, "sender")
    text = message.string("text")
    attachments, lines, items = _attachments(message)
    quick_reply = message.object("quick_reply")
    reply_to = message.object("reply_to")
    items = [*_story_reply(reply_to), *items]
    body = "\n".join(part for part in (text, *lines) if part)
    if not body and not attachments and not items:
        return None
    return InboundMessage(
        external_id=message.required_id("mid"),
        recipient_address=sender,
        identities=_identities(sender, platform),
        text=body,
        attachments=attachments,
        content_items=tuple(items),
        sent_at=sent_at,
        button_payload=quick_reply.line("payload") if quick_reply is not None else "",
        reply_to_id=reply_to.id("mid") if reply_to is not None else "",
    )


def _story_reply(reply_to: JsonObject | None) -> list[ContentItem]:
    story = reply_to.object("story") if reply_to is not None else None
    if story is None:
        return []
    url = story.string("url", max_length=2000).strip()
    return [ContentItem(ContentItemKind.STORY_REPLY, {"url": url})]


def _attachments(
    message: JsonObject,
) -> tuple[tuple[InboundAttachment, ...], list[str], list[ContentItem]]:
    """Files to fetch, lines of text that speak for themselves (links, places), and
    content items for the rest (stickers, story mentions, shared posts)."""
    files: list[InboundAttachment] = []
    lines: list[str] = []
    items: list[ContentItem] = []
    for attachment in message.objects("attachments"):
        kind = attachment.line("type", max_length=50)
        payload = attachment.object("payload")
        url = payload.string("url", max_length=2000).strip() if payload is not None else ""
        if payload is not None and payload.id("sticker_id"):
            if payload.id("sticker_id") in LIKE_STICKER_IDS:
                lines.append("👍")
            else:
                items.append(ContentItem(ContentItemKind.STICKER))
            continue
        if kind in MEDIA_TYPES and url:
            files.append(_file(kind, url, payload))
        elif kind == "story_mention":
            items.append(ContentItem(ContentItemKind.STORY_MENTION, {"url": url}))
        elif kind in ("share", "ig_reel", "reel", "ig_post"):
            title = payload.line("title") if payload is not None else ""
            items.append(ContentItem(ContentItemKind.SHARED_POST, {"title": title, "url": url}))
        elif kind in ("fallback", "template"):
            title = attachment.line("title") or (payload.line("title") if payload else "")
            link = attachment.string("url", max_length=2000).strip() or url
            if title or link:
                lines.append(" — ".join(part for part in (title, link) if part))
            else:
                items.append(ContentItem(ContentItemKind.UNSUPPORTED, {"type": kind}))
        elif kind == "location" and payload is not None:
            coordinates = payload.object("coordinates")
            if coordinates is not None:
                latitude, longitude = coordinates.number("lat"), coordinates.number("long")
                lines.append(f"📍 {latitude}, {longitude}")
        elif url:
            lines.append(url)
    return tuple(files), lines, items


def _file(kind: str, url: str, payload: JsonObject | None) -> InboundAttachment:
    name = payload.line("name") if payload is not None else ""
    # The CDN URL is where the file is fetched from after commit; longer ones than the
    # column keeps stay a link only.
    return InboundAttachment(
        filename=name or _DEFAULT_NAMES[kind],
        content_type=_content_type(kind),
        url=url,
        media_id=url if len(url) <= 500 else "",
    )


def _content_type(kind: str) -> str:
    return {
        "image": "image/jpeg",
        "video": "video/mp4",
        "audio": "audio/mp4",
    }.get(kind, "application/octet-stream")


def _postback(
    item: JsonObject, postback: JsonObject, platform: Platform, sent_at
) -> InboundMessage:
    sender = _person(item, "sender")
    title = postback.line("title")
    payload = postback.line("payload")
    # Postbacks of old API versions carry no mid: one per person and moment is enough.
    external_id = postback.id("mid") or f"postback:{sender}:{item.required_id('timestamp')}"
    return InboundMessage(
        external_id=external_id,
        recipient_address=sender,
        identities=_identities(sender, platform),
        text=title or payload,
        sent_at=sent_at,
        button_payload=payload,
    )


def _reaction(reaction: JsonObject) -> InboundReaction:
    """`{"mid", "action": "react" | "unreact", "reaction", "emoji"}`: shown on the message
    it names; an unreact takes the person's reaction back."""
    if reaction.line("action", max_length=20) == "unreact":
        emoji = ""
    else:
        name = reaction.line("reaction", max_length=20)
        emoji = reaction.line("emoji", max_length=MAX_REACTION_LENGTH)
        emoji = emoji or REACTION_EMOJIS.get(name, "") or name or REACTION_EMOJIS["like"]
    return InboundReaction(external_id=reaction.required_id("mid"), emoji=emoji)


def _delivery_reports(item: JsonObject, report: JsonObject, status: str) -> list[InboundEvent]:
    """Messenger reports delivery and reading by watermark: everything we sent the person
    before it. A delivery report may also name the messages (`mids`)."""
    watermark = report.millisecond_timestamp("watermark")
    if watermark is None:
        raise report.malformed("needs its watermark")
    named: list[InboundEvent] = [
        DeliveryStatusUpdate(external_id=mid, status=status) for mid in report.ids("mids")
    ]
    return [
        *named,
        DeliveryWatermark(
            recipient_address=_person(item, "sender"), status=status, watermark=watermark
        ),
    ]


def _echo(item: JsonObject, message: JsonObject, sent_at, source: str) -> OutboundEcho | None:
    if message.line("metadata").startswith(OWN_METADATA_PREFIX):
        return None  # the echo of a reply we sent ourselves
    customer = _person(item, "recipient")
    attachments, lines, items = _attachments(message)
    text = "\n".join(part for part in (message.string("text"), *lines) if part)
    if not text and not attachments and not items:
        return None
    return OutboundEcho(
        external_id=message.required_id("mid"),
        recipient_address=customer,
        text=text,
        attachments=attachments,
        content_items=tuple(items),
        sent_at=sent_at,
        sent_from=source,
    )
