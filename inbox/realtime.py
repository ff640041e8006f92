"""The only module that talks to the channel layer: events to operators, after commit.

Groups: `inbox.all` (supervisors and admins see everything), `inbox.channel.<id>`
(operators of the teams serving that channel), `inbox.operator.<id>` (one operator).
Every event is serialized to JSON once and forwarded as text by the consumers. Delivery
is at-most-once: the database stays the truth and a reconnecting client catches up from
the API.
"""

import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.utils import translation

from inbox import redis_silence
from inbox.models import Attachment, Conversation, Label, Message
from inbox.representations import (
    conversation_event_representation,
    conversation_representation,
    message_representation,
)

logger = logging.getLogger(__name__)

# An event to operators: the groups it goes to, and its payload.
Event = tuple[list[str], dict[str, Any]]

ALL_CONVERSATIONS_GROUP = "inbox.all"
PRESENCE_GROUP = "inbox.presence"
CONSUMER_EVENT_TYPE = "inbox.event"
# Every operator socket listens here for "who may see what changed": it then works out
# its groups again (roles, teams, the channels teams serve, deactivated accounts).
ACCESS_GROUP = "inbox.access"
ACCESS_CHANGED_TYPE = "inbox.access.changed"


def channel_group(channel_id: int) -> str:
    return f"inbox.channel.{channel_id}"


def groups_for_channel(channel_id: int) -> list[str]:
    return [ALL_CONVERSATIONS_GROUP, channel_group(channel_id)]


def operator_group(operator_id: int) -> str:
    return f"inbox.operator.{operator_id}"


class InLanguages(dict):
    """An event with text a person reads: the payload in the default language
    (LANGUAGE_CODE), worded in each language as well; every operator socket forwards the
    wording in its operator's (the consumer message's `texts`)."""

    def __init__(self, build: Callable[[], dict[str, Any]]) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            super().__init__(build())
        self.by_language = {}
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                self.by_language[language] = build()


def _json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"))


def _consumer_message(payload: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"type": CONSUMER_EVENT_TYPE, "text": _json(payload)}
    if isinstance(payload, InLanguages):
        message["texts"] = {
            language: _json(worded) for language, worded in payload.by_language.items()
        }
    return message


def _consumer_messages(
    events: list[tuple[list[str], dict[str, Any]]],
) -> list[tuple[list[str], dict[str, Any]]]:
    return [(groups, _consumer_message(payload)) for groups, payload in events]


async def group_send_text(groups: list[str], payload: dict[str, Any]) -> None:
    await group_send_texts([(groups, payload)])


async def group_send_texts(events: list[Event]) -> None:
    """Several events, each to its groups, in order (one round trip where the layer
    can pipeline them)."""
    layer = get_channel_layer()
    if layer is None:
        return
    await _layer_send_batch(layer, _consumer_messages(events))


async def _layer_send_batch(layer, messages: list[tuple[list[str], dict[str, Any]]]) -> None:
    send_batch = getattr(layer, "group_send_batch", None)
    if send_batch is not None:
        await send_batch(messages)
        return
    for groups, message in messages:
        for group in groups:
            await layer.group_send(group, message)


def _layer_send_batch_now(messages: list[tuple[list[str], dict[str, Any]]]) -> None:
    """From sync code: straight to Redis where the layer can, else through an event loop."""
    layer = get_channel_layer()
    if layer is None:
        return
    send_batch_sync = getattr(layer, "group_send_batch_sync", None)
    if send_batch_sync is not None:
        send_batch_sync(messages)
    else:
        async_to_sync(_layer_send_batch)(layer, messages)


# Events held back by `broadcasts_gathered` on this thread, or None when sent one by one.
_gathering = threading.local()


@contextmanager
def broadcasts_gathered() -> Iterator[None]:
    """Events committed inside the block go out together when it ends, in order and in
    one round trip to the channel layer, rather than one round trip each: for writes
    that commit many messages at once. Events of a transaction rolled back inside the
    block never go out (they are queued on commit, as always)."""
    if getattr(_gathering, "events", None) is not None:
        yield  # the outer block sends them
        return
    events: list[tuple[list[str], dict[str, Any]]] = []
    _gathering.events = events
    try:
        yield
    finally:
        _gathering.events = None
        if events:
            _send_all_now(events)


def _send_now(groups: list[str], payload: dict[str, Any]) -> None:
    gathered = getattr(_gathering, "events", None)
    if gathered is not None:
        gathered.append((groups, payload))
        return
    _send_all_now([(groups, payload)])


def _send_all_now(events: list[tuple[list[str], dict[str, Any]]]) -> None:
    if not redis_silence.redis_worth_trying():
        logger.info("Redis did not answer lately: %d events not broadcast", len(events))
        return
    try:
        _layer_send_batch_now(_consumer_messages(events))
    except Exception:
        # Realtime is best effort: a broken layer must not undo a committed write.
        redis_silence.redis_went_silent()
        logger.exception(
            "could not broadcast %d events (%s…)", len(events), events[0][1].get("type")
        )
    else:
        redis_silence.redis_answered()


def broadcast_on_commit(groups: list[str], payload: dict[str, Any]) -> None:
    transaction.on_commit(lambda: _send_now(groups, payload), robust=True)


def access_changed() -> None:
    """After commit, have every operator socket check what it may still see."""

    def send() -> None:
        try:
            _layer_send_batch_now([([ACCESS_GROUP], {"type": ACCESS_CHANGED_TYPE})])
        except Exception:
            logger.exception("could not announce an access change")

    transaction.on_commit(send, robust=True)


# One builder per event below, for every path that sends it.
def message_created_event(
    message: Message, *, channel_id: int, attachments: Sequence[Attachment] | None = None
) -> Event:
    """`message.created`; `attachments` as stored with the message, else read."""
    if attachments is None:
        attachments = list(message.attachments.all())
    return (
        groups_for_channel(channel_id),
        _message_payload("message.created", message, attachments=attachments),
    )


def message_updated_event(message: Message, *, channel_id: int) -> Event:
    attachments = list(message.attachments.all())
    return (
        groups_for_channel(channel_id),
        _message_payload("message.updated", message, attachments=attachments),
    )


def _message_payload(
    event_type: str, message: Message, *, attachments: Sequence[Attachment]
) -> dict[str, Any]:
    def build() -> dict[str, Any]:
        return {
            "type": event_type,
            "conversation_id": message.conversation_id,
            "message": message_representation(message, attachments=attachments),
        }

    # Content items and failure reasons are worded for each reader; a message without
    # them reads the same in every language and is serialized once.
    return InLanguages(build) if message.content_items or message.error else build()


def conversation_changed_event(
    conversation: Conversation, *, is_new: bool = False, labels: Sequence[Label] | None = None
) -> Event:
    """`conversation.created` (is_new) or `conversation.updated`; `labels` as known (none
    for a conversation just opened), else read."""
    return (
        groups_for_channel(conversation.channel_id),
        {
            "type": "conversation.created" if is_new else "conversation.updated",
            "conversation": conversation_representation(conversation, labels=labels),
        },
    )


def message_created(
    message: Message, *, channel_id: int, attachments: Sequence[Attachment] | None = None
) -> None:
    broadcast_on_commit(
        *message_created_event(message, channel_id=channel_id, attachments=attachments)
    )


def message_updated(message: Message, *, channel_id: int) -> None:
    broadcast_on_commit(*message_updated_event(message, channel_id=channel_id))


def conversation_changed(
    conversation: Conversation, *, is_new: bool = False, labels: Sequence[Label] | None = None
) -> None:
    broadcast_on_commit(*conversation_changed_event(conversation, is_new=is_new, labels=labels))


def conversation_event_created(event, *, channel_id: int) -> None:
    """Its `text` is worded for each reader: in their own language."""
    broadcast_on_commit(
        groups_for_channel(channel_id),
        InLanguages(
            lambda: {
                "type": "conversation.event",
                "conversation_id": event.conversation_id,
                "event": conversation_event_representation(event),
            }
        ),
    )


def csat_low_rating(survey) -> None:
    """Supervisors (and admins) see a poor rating the moment it arrives."""
    broadcast_on_commit(
        [ALL_CONVERSATIONS_GROUP],
        {
            "type": "csat.low_rating",
            "survey": {
                "id": survey.pk,
                "kind": survey.kind,
                "conversation_id": survey.conversation_id,
                "rating": survey.rating,
                "comment": survey.comment,
                "operator_id": survey.operator_id,
                # So that a report page filtered by channel or team can tell if it is theirs.
                "channel_id": survey.channel_id,
                "team_id": survey.team_id,
            },
        },
    )


def survey_follow_up_changed(follow_up: dict[str, Any], *, channel_id: int) -> None:
    """A low score's follow-up opened or ended: supervisors and the channel's teams see it."""
    broadcast_on_commit(
        groups_for_channel(channel_id), {"type": "survey.follow_up", "follow_up": follow_up}
    )


async def typing_changed(
    *, channel_id: int, conversation_id: int, operator: dict, is_typing: bool
) -> None:
    await group_send_text(
        groups_for_channel(channel_id),
        {
            "type": "typing",
            "conversation_id": conversation_id,
            "operator": operator,
            "is_typing": is_typing,
        },
    )


async def viewing_changed(
    *, channel_id: int, conversation_id: int, operator: dict, is_viewing: bool
) -> None:
    """An operator opened (or left) a conversation: the others show "Anna is viewing"."""
    await group_send_text(
        groups_for_channel(channel_id),
        {
            "type": "viewing",
            "conversation_id": conversation_id,
            "operator": operator,
            "is_viewing": is_viewing,
        },
    )


async def presence_changed(*, operator: dict, status: str) -> None:
    await group_send_text(
        [PRESENCE_GROUP], {"type": "presence", "operator": operator, "status": status}
    )


def conversation_customer_group(conversation_id: int) -> str:
    """Sockets of the customer of one conversation (the website chat widget)."""
    return f"inbox.conversation.{conversation_id}.customer"


async def operator_read_to_customer(*, conversation_id: int, message_id: int) -> None:
    """An operator has seen the customer's messages up to `message_id` (website chat)."""
    await group_send_text(
        [conversation_customer_group(conversation_id)],
        {"type": "read", "conversation_id": conversation_id, "message_id": message_id},
    )


async def operator_typing_to_customer(
    *, conversation_id: int, operator: dict, is_typing: bool
) -> None:
    """An operator typing in a conversation whose customer can see it (website chat)."""
    await group_send_text(
        [conversation_customer_group(conversation_id)],
        {
            "type": "typing",
            "conversation_id": conversation_id,
            "operator": operator,
            "is_typing": is_typing,
        },
    )


async def customer_typing_changed(
    *, channel_id: int, conversation_id: int, customer: dict, is_typing: bool
) -> None:
    """The customer typing (website chat)."""
    await group_send_text(
        *_customer_typing_event(
            channel_id=channel_id,
            conversation_id=conversation_id,
            customer=customer,
            is_typing=is_typing,
        )
    )


def customer_typing(
    *, channel_id: int, conversation_id: int, customer: dict, is_typing: bool
) -> None:
    """The customer typing, as a platform reports it (VK), once the request's work commits."""
    broadcast_on_commit(
        *_customer_typing_event(
            channel_id=channel_id,
            conversation_id=conversation_id,
            customer=customer,
            is_typing=is_typing,
        )
    )


def _customer_typing_event(
    *, channel_id: int, conversation_id: int, customer: dict, is_typing: bool
) -> Event:
    """In the shape of an operator's `typing` event, so that inbox pages show it as they
    show colleagues typing."""
    return (
        groups_for_channel(channel_id),
        {
            "type": "typing",
            "conversation_id": conversation_id,
            "operator": {
                "id": f"customer-{customer['id']}",
                "username": "",
                "name": customer.get("name") or "Visitor",
            },
            "customer": customer,
            "is_customer": True,
            "is_typing": is_typing,
        },
    )
