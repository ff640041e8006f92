"""Reads for the widget: the visitor's conversation and the thread they may see."""

import time
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from channels_app.adapters.webchat import (
    IDENTITY_KIND,
    user_identity_value,
    visitor_identity_value,
)
from channels_app.models import Channel
from channels_app.widget.visitors import Visitor
from customers.models import Identity
from inbox import selectors as inbox_selectors
from inbox.attachments import attachment_public_url
from inbox.models import Conversation, Message, MessageDirection

HISTORY_LENGTH = 50


@dataclass(frozen=True)
class VisitorConversation:
    conversation_id: int
    customer_id: int
    customer_name: str


def _time(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def visitor_message_frame(message: Message) -> dict[str, Any]:
    """A message as the visitor sees it: no status details, notes or operator usernames."""
    is_inbound = message.direction == MessageDirection.INBOUND
    external_id = message.external_id or ""
    return {
        "id": message.pk,
        "direction": message.direction,
        "body": message.body,
        "author": None
        if is_inbound or message.author is None
        else {"name": message.author.display_name},
        "created_at": _time(message.created_at),
        "status": message.status,
        # The id the browser gave its own message, so a tab can match its echo.
        "client_id": external_id.rsplit(":", 1)[-1] if is_inbound else None,
        "attachments": [
            {
                "filename": attachment.filename,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "url": attachment_public_url(attachment),
            }
            for attachment in message.attachments.all()
        ],
    }


def _visitor_conversations(channel: Channel, visitor: Visitor) -> QuerySet[Conversation]:
    # Through the visitor's identities (indexed) to their customers, then by recipient:
    # a verified visitor writes as the customer their site account belongs to.
    values = [visitor_identity_value(channel.public_id, visitor.visitor_id)]
    if visitor.is_verified:
        values.append(user_identity_value(channel.public_id, visitor.user_id))
    customer_ids = Identity.objects.filter(kind=IDENTITY_KIND, value__in=values).values(
        "customer_id"
    )
    return Conversation.objects.filter(
        customer_id__in=customer_ids, channel=channel, recipient_address=visitor.visitor_id
    )


def visitor_conversation_latest(
    *, channel: Channel, visitor: Visitor
) -> VisitorConversation | None:
    conversation = (
        _visitor_conversations(channel, visitor).select_related("customer").order_by("-id").first()
    )
    if conversation is None:
        return None
    return VisitorConversation(
        conversation_id=conversation.pk,
        customer_id=conversation.customer_id,
        customer_name=conversation.customer.name,
    )


def visitor_history(*, channel: Channel, visitor: Visitor) -> list[dict[str, Any]]:
    """The visitor's last messages on this channel, oldest first; never private notes."""
    messages = list(
        Message.objects.filter(
            conversation__in=_visitor_conversations(channel, visitor), is_private=False
        )
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("-id")[:HISTORY_LENGTH]
    )
    return [visitor_message_frame(message) for message in reversed(messages)]


def visitor_message_get(*, message_id: int) -> dict[str, Any]:
    message = (
        Message.objects.select_related("author").prefetch_related("attachments").get(pk=message_id)
    )
    return visitor_message_frame(message)


# Every visitor's connect asks; a few seconds of staleness spares a query each time.
ONLINE_CACHE_SECONDS = 5.0
_operators_online: tuple[float, bool] = (0.0, False)


def operators_are_online() -> bool:
    global _operators_online
    checked_until, is_online = _operators_online
    if checked_until > time.monotonic():
        return is_online
    is_online = any(
        entry["status"] == "online" for entry in inbox_selectors.operator_presence_list()
    )
    _operators_online = (time.monotonic() + ONLINE_CACHE_SECONDS, is_online)
    return is_online


def visitor_conversation_ids(*, channel: Channel, visitor: Visitor) -> QuerySet[Conversation, Any]:
    return _visitor_conversations(channel, visitor).values("pk")
