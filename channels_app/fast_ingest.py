"""A hop-free path for the most common webhooks: a customer writing again into an open
conversation, and a new sender's first message.

It runs on the event loop with async psycopg: an identity lookup, then one statement
that stores everything in one transaction of its own. Anything else (a new identity of
a known customer, a profile field to fill, a closed conversation, attachments, button
answers, duplicates, edits, statuses, a channel this process has not looked up lately,
any conflict or error) answers None, and the request goes through the regular Django
view and services, which remain the one place where the full rules live. What this path
stores and broadcasts is exactly what those services do for the same message.
"""

import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

import psycopg
from django.conf import settings
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

from channels_app.contracts import InboundMessage, WebhookRequest
from channels_app.registry import adapter_for
from channels_app.services import channel_cached_active
from customers.models import Customer, IdentityKind
from customers.normalization import InvalidIdentityValue, normalize_identity_value
from inbox import realtime
from inbox.models import (
    Conversation,
    ConversationStatus,
    Message,
    MessageDirection,
    MessageStatus,
    Priority,
)
from inbox.representations import conversation_representation, message_representation

logger = logging.getLogger(__name__)

_pool: AsyncConnectionPool | None = None


class _UseRegularPath(Exception):
    pass


# The message, inserted into the conversation that `source` (a CTE naming `id`) yields,
# and the raw event once the message is in.
_MESSAGE_AND_RAW_EVENT = """
message AS (
    INSERT INTO inbox_message (
        conversation_id, channel_id, direction, body, is_private, status, error,
        external_id, delivery_attempts, created_at, updated_at, sent_at
    )
    SELECT id, %(channel)s, %(direction)s, %(text)s, false, %(status)s, '',
        %(external_id)s, 0, %(now)s, %(now)s, %(sent_at)s
    FROM {source}
    {on_conflict}
    RETURNING id, conversation_id
), raw_event AS (
    INSERT INTO channels_app_webhookevent (
        channel_id, body, body_sha256, content_type, status, error, attempts, created_at,
        processed_at
    )
    SELECT %(channel)s, %(raw)s, %(raw_sha256)s, %(content_type)s, 'processed', '', 1,
        %(now)s, %(now)s
    FROM message
    ON CONFLICT (channel_id, body_sha256) DO UPDATE
    SET status = 'processed', error = '', processed_at = EXCLUDED.processed_at
)"""

# A known customer's message into their open conversation, which then moves up; a
# duplicate or a closed conversation stores and moves nothing. The latest conversation is
# locked while it is looked at, so a concurrent resolve is seen.
_STORE_MESSAGE = (
    """
WITH latest AS (
    SELECT id, status FROM inbox_conversation
    WHERE customer_id = %(customer)s AND channel_id = %(channel)s
    ORDER BY id DESC LIMIT 1
    FOR UPDATE
), open_conversation AS (
    SELECT id FROM latest WHERE status = 'open'
),"""
    + _MESSAGE_AND_RAW_EVENT.format(
        source="open_conversation",
        on_conflict="ON CONFLICT (channel_id, external_id) WHERE external_id IS NOT NULL "
        "DO NOTHING",
    )
    + """, bumped AS (
    UPDATE inbox_conversation
    SET last_message_at = %(now)s, last_inbound_at = %(now)s, updated_at = %(now)s
    WHERE id IN (SELECT conversation_id FROM message)
)
SELECT id, conversation_id FROM message
"""
)

# A sender no identity of which is known yet: their customer, identities, first
# conversation, message and raw event, all or (any conflict: a concurrent first message,
# a duplicate) nothing.
_STORE_FIRST_MESSAGE = (
    """
WITH customer AS (
    INSERT INTO customers_customer (
        name, email, phone, attributes, merged_into_id, created_at, updated_at
    )
    VALUES (%(name)s, %(email)s, %(phone)s, '{}'::jsonb, NULL, %(now)s, %(now)s)
    RETURNING id
), identity AS (
    INSERT INTO customers_identity (customer_id, kind, value, is_reachable, created_at)
    SELECT customer.id, wanted.kind, wanted.value, true, %(now)s
    FROM customer, unnest(%(kinds)s::text[], %(values)s::text[]) AS wanted(kind, value)
), conversation AS (
    INSERT INTO inbox_conversation (
        customer_id, channel_id, recipient_address, status, priority, subject, assignee_id,
        team_id, last_message_at, last_inbound_at, first_response_at, resolved_at,
        resolved_by_id, assignee_at_resolve_id, snoozed_until, created_at, updated_at
    )
    SELECT customer.id, %(channel)s, %(recipient_address)s, %(open)s, %(no_priority)s,
        %(subject)s, NULL, %(team)s, %(now)s, %(now)s, NULL, NULL, NULL, NULL, NULL,
        %(now)s, %(now)s
    FROM customer
    RETURNING id, customer_id
),"""
    + _MESSAGE_AND_RAW_EVENT.format(source="conversation", on_conflict="")
    + """
SELECT message.id, message.conversation_id, conversation.customer_id
FROM message, conversation
"""
)


async def _connection_pool() -> AsyncConnectionPool:
    global _pool
    if _pool is None:
        database = settings.DATABASES["default"]
        pool = AsyncConnectionPool(
            make_conninfo(
                host=database["HOST"] or "127.0.0.1",
                port=str(database["PORT"] or 5432),
                dbname=database["NAME"],
                user=database["USER"] or "",
                password=database["PASSWORD"] or "",
            ),
            min_size=1,
            max_size=settings.WEBHOOK_FAST_PATH_CONNECTIONS,
            # Each statement is its own transaction: no BEGIN/COMMIT round trips.
            kwargs={"autocommit": True},
            open=False,
        )
        await pool.open()
        _pool = pool
    return _pool


def is_enabled() -> bool:
    return settings.WEBHOOK_FAST_PATH and not settings.IS_EMBEDDED


async def receive_known_sender(
    *, kind: str, public_id: str, request: WebhookRequest
) -> dict[str, Any] | None:
    """Store the message and notify operators, or None to let the regular path do it."""
    channel = channel_cached_active(kind=kind, public_id=public_id)
    if channel is None:
        return None
    try:
        adapter = adapter_for(channel)
        if adapter.uses_thread_references:
            # Email: parsing a sender's MIME is too heavy for the event loop, and it
            # threads by reference, which only the regular path does.
            return None
        adapter.verify(request)
        events = adapter.parse(request)
        if len(events) != 1 or not isinstance(events[0], InboundMessage):
            return None
        inbound = events[0]
        # Email threads by reference and carries more than text: the regular path.
        if (
            inbound.attachments
            or inbound.button_payload
            or inbound.threads_by_reference
            or inbound.conversation_per_address
        ):
            return None
        identities = list(
            dict.fromkeys(
                (item.kind, normalize_identity_value(item.kind, item.value))
                for item in inbound.identities
            )
        )
        if not all(item.is_verified for item in inbound.identities):
            return None
        message, new_conversation = await _store(channel, inbound, identities, request)
    except (_UseRegularPath, InvalidIdentityValue):
        return None
    except Exception:
        # Whatever went wrong, the regular path answers it properly (and keeps the event).
        logger.exception("webhook fast path gave up for channel %s", channel.pk)
        return None
    # What the regular path broadcasts after its commit, in the same order.
    groups = realtime.groups_for_channel(channel.pk)
    await realtime.group_send_text(
        groups,
        {
            "type": "message.created",
            "conversation_id": message.conversation_id,
            "message": message_representation(message),
        },
    )
    if new_conversation is not None:
        await realtime.group_send_text(
            groups,
            {
                "type": "conversation.created",
                "conversation": conversation_representation(new_conversation),
            },
        )
    return {
        "status": "ok",
        "messages": [
            {"id": message.pk, "conversation_id": message.conversation_id, "duplicate": False}
        ],
    }


async def _store(
    channel, inbound: InboundMessage, identities: list[tuple[str, str]], request: WebhookRequest
) -> tuple[Message, Conversation | None]:
    """The stored message, and the conversation it opened if its sender is new."""
    now = datetime.now(UTC)
    body = request.body
    raw_event = {
        "raw": body,
        "raw_sha256": hashlib.sha256(body).hexdigest(),
        "content_type": request.headers.get("content-type", "")[:255],
    }
    message_fields = {
        "now": now,
        "channel": channel.pk,
        "direction": MessageDirection.INBOUND,
        "text": inbound.text,
        "status": MessageStatus.RECEIVED,
        "external_id": inbound.external_id,
        "sent_at": inbound.sent_at,
        **raw_event,
    }
    pool = await _connection_pool()
    async with pool.connection() as connection:
        rows = await (
            await connection.execute(
                "SELECT i.kind, i.value, i.customer_id, c.name, c.email, c.phone "
                "FROM unnest(%s::text[], %s::text[]) AS wanted(kind, value) "
                "JOIN customers_identity i ON i.kind = wanted.kind AND i.value = wanted.value "
                "JOIN customers_customer c ON c.id = i.customer_id",
                ([kind for kind, _ in identities], [value for _, value in identities]),
            )
        ).fetchall()
        if not rows:
            return await _store_first_message(
                connection, channel, inbound, identities, message_fields
            )
        customers = {row[2] for row in rows}
        if len(rows) != len(identities) or len(customers) != 1:
            raise _UseRegularPath
        _, _, customer_id, name, email, phone = rows[0]
        given = dict(identities)
        if (
            (inbound.sender_name and not name)
            or (given.get("email") and not email)
            or (given.get("phone") and not phone)
        ):
            raise _UseRegularPath  # the services fill blank profile fields
        # One statement, so one transaction of its own: the conversation moves up, the
        # message and the raw event are stored, or (a duplicate, no open conversation)
        # nothing at all happens and the regular path takes over.
        stored = await (
            await connection.execute(_STORE_MESSAGE, {**message_fields, "customer": customer_id})
        ).fetchone()
    if stored is None:
        raise _UseRegularPath
    message_id, conversation_id = stored
    return _message(message_id, conversation_id, channel, inbound, now), None


async def _store_first_message(
    connection, channel, inbound: InboundMessage, identities, message_fields
) -> tuple[Message, Conversation]:
    """A new customer's first message, stored as customer_get_or_create and
    message_receive would store it."""
    teams = list(channel.teams.all()[:2])  # prefetched with the cached channel
    team = teams[0] if len(teams) == 1 else None
    if team is not None and team.auto_assign:
        raise _UseRegularPath  # which queues the assignment after its commit
    customer = Customer(
        name=inbound.sender_name.strip()[:255],
        email=next((value for kind, value in identities if kind == IdentityKind.EMAIL), ""),
        phone=next((value for kind, value in identities if kind == IdentityKind.PHONE), ""),
    )
    try:
        stored = await (
            await connection.execute(
                _STORE_FIRST_MESSAGE,
                {
                    **message_fields,
                    "name": customer.name,
                    "email": customer.email,
                    "phone": customer.phone,
                    "kinds": [kind for kind, _ in identities],
                    "values": [value for _, value in identities],
                    "recipient_address": inbound.recipient_address,
                    "open": ConversationStatus.OPEN,
                    "no_priority": Priority.NONE,
                    "subject": inbound.subject[:255],
                    "team": team.pk if team else None,
                },
            )
        ).fetchone()
    except psycopg.errors.UniqueViolation as error:
        # A concurrent first message of the same sender, or a duplicate delivery.
        raise _UseRegularPath from error
    message_id, conversation_id, customer_id = stored
    now = message_fields["now"]
    customer.pk, customer.created_at, customer.updated_at = customer_id, now, now
    conversation = Conversation(
        pk=conversation_id,
        customer=customer,
        channel=channel,
        recipient_address=inbound.recipient_address,
        subject=inbound.subject[:255],
        team=team,
        last_message_at=now,
        last_inbound_at=now,
        created_at=now,
        updated_at=now,
    )
    conversation._prefetched_objects_cache = {"labels": []}  # type: ignore[attr-defined]
    return _message(message_id, conversation_id, channel, inbound, now), conversation


def _message(message_id, conversation_id, channel, inbound: InboundMessage, now) -> Message:
    message = Message(
        pk=message_id,
        conversation_id=conversation_id,
        channel_id=channel.pk,
        direction=MessageDirection.INBOUND,
        body=inbound.text,
        status=MessageStatus.RECEIVED,
        external_id=inbound.external_id,
        created_at=now,
        updated_at=now,
        sent_at=inbound.sent_at,
    )
    message._prefetched_objects_cache = {"attachments": []}  # type: ignore[attr-defined]
    return message
