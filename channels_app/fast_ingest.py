"""A hop-free path for the most common webhooks: a customer writing again into an open
conversation, and a new sender's first message.

It runs on the event loop with async psycopg. A few writers per process store the
messages: each takes every message waiting when it starts (at most `MAX_BATCH`), looks
up all their senders in one statement, stores the known senders' messages, their raw
events and the conversations' move up in one more, and broadcasts them in one round
trip. A lone message goes through the same two steps with a single-row statement, so a
quiet server answers as fast as before; under load the statements, the commits and the
round trips are shared (group commit). A new sender's first message is stored in one
statement of its own. Each sender has one webhook in hand at a time per process, in
arrival order, whichever path stores it.

Anything else (a new identity of a known customer, a profile field to fill, a closed
conversation or one another transaction holds, attachments, button answers, duplicates,
edits, statuses, a channel this process has not looked up lately, any conflict or error)
answers None, and the request goes through the regular Django view and services, which
remain the one place where the full rules live. What this path stores and broadcasts is
exactly what those services do for the same message."""

import asyncio
import hashlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from django.conf import settings
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

from channels_app.contracts import InboundMessage, WebhookRequest
from channels_app.models import Channel
from channels_app.registry import adapter_for
from channels_app.services import channel_cached_active
from customers.languages import supported_language
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

# Messages one statement stores at most, and statements in flight per process.
MAX_BATCH = 64
MAX_WRITERS = 2
BROADCAST_TIMEOUT_SECONDS = 2.0
LOCK_TIMEOUT_MS = 100

_pool: AsyncConnectionPool | None = None
_writer: "_Writer | None" = None
_turns: "_SenderTurns | None" = None


class _UseRegularPath(Exception):
    pass


class _NewSender:
    """No identity of the sender is known yet."""


NEW_SENDER = _NewSender()

# Every identity a pending message carries, by the message's position in the batch.
_SENDER_LOOKUP = """
SELECT wanted.position, i.customer_id, c.name, c.email, c.phone, c.language
FROM unnest(%s::int[], %s::text[], %s::text[]) AS wanted(position, kind, value)
JOIN customers_identity i ON i.kind = wanted.kind AND i.value = wanted.value
JOIN customers_customer c ON c.id = i.customer_id
"""

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
    RETURNING id, conversation_id, channel_id, external_id
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

_ON_DUPLICATE_NOTHING = (
    "ON CONFLICT (channel_id, direction, external_id) WHERE external_id IS NOT NULL DO NOTHING"
)

# A known customer's message into their open conversation, which then moves up; a
# duplicate or a closed conversation stores and moves nothing. The latest conversation is
# locked while it is looked at, so a concurrent resolve is seen; one that another
# transaction holds is skipped, not waited for (the writers serve every sender of the
# process, and the regular path then waits its turn).
_STORE_MESSAGE = (
    """
WITH latest AS (
    SELECT id, status FROM inbox_conversation
    WHERE id = (
        SELECT id FROM inbox_conversation
        WHERE customer_id = %(customer)s AND channel_id = %(channel)s
        ORDER BY id DESC LIMIT 1
    )
    FOR UPDATE SKIP LOCKED
), open_conversation AS (
    -- The status as the lock found it, not as the statement began.
    SELECT id FROM latest WHERE status = 'open'
),"""
    + _MESSAGE_AND_RAW_EVENT.format(source="open_conversation", on_conflict=_ON_DUPLICATE_NOTHING)
    + """, bumped AS (
    UPDATE inbox_conversation
    SET last_message_at = %(now)s, last_inbound_at = %(now)s, updated_at = %(now)s
    WHERE id IN (SELECT conversation_id FROM message)
)
SELECT id, conversation_id, channel_id, external_id FROM message
"""
)

# The same for several known customers' messages at once, in the order given. Callers
# send no two messages with the same external id or the same raw body of one channel in
# one batch.
_STORE_MESSAGES = f"""
WITH wanted AS (
    SELECT * FROM unnest(
        %(customers)s::bigint[], %(channels)s::bigint[], %(texts)s::text[],
        %(external_ids)s::text[], %(sent_ats)s::timestamptz[], %(raws)s::bytea[],
        %(raw_sha256s)s::text[], %(content_types)s::text[]
    ) WITH ORDINALITY AS wanted(
        customer_id, channel_id, body, external_id, sent_at, raw, raw_sha256, content_type,
        position
    )
), latest AS (
    SELECT wanted.position, conversation.id
    FROM wanted CROSS JOIN LATERAL (
        SELECT id FROM inbox_conversation
        WHERE customer_id = wanted.customer_id AND channel_id = wanted.channel_id
        ORDER BY id DESC LIMIT 1
    ) AS conversation
), locked AS (
    -- Primary-key lookups (an array, not IN): never a pass over every open conversation.
    SELECT id, status FROM inbox_conversation
    WHERE id = ANY(ARRAY(SELECT id FROM latest))
    FOR UPDATE SKIP LOCKED
), open_conversation AS (
    -- The status as the lock found it, not as the statement began.
    SELECT id FROM locked WHERE status = 'open'
), message AS (
    INSERT INTO inbox_message (
        conversation_id, channel_id, direction, body, is_private, status, error,
        external_id, delivery_attempts, created_at, updated_at, sent_at
    )
    SELECT latest.id, wanted.channel_id, %(direction)s, wanted.body, false, %(status)s, '',
        wanted.external_id, 0, %(now)s, %(now)s, wanted.sent_at
    FROM wanted
    JOIN latest ON latest.position = wanted.position
    JOIN open_conversation ON open_conversation.id = latest.id
    ORDER BY wanted.position
    {_ON_DUPLICATE_NOTHING}
    RETURNING id, conversation_id, channel_id, external_id
), raw_event AS (
    INSERT INTO channels_app_webhookevent (
        channel_id, body, body_sha256, content_type, status, error, attempts, created_at,
        processed_at
    )
    SELECT wanted.channel_id, wanted.raw, wanted.raw_sha256, wanted.content_type,
        'processed', '', 1, %(now)s, %(now)s
    FROM wanted
    JOIN message
        ON message.channel_id = wanted.channel_id AND message.external_id = wanted.external_id
    ON CONFLICT (channel_id, body_sha256) DO UPDATE
    SET status = 'processed', error = '', processed_at = EXCLUDED.processed_at
), bumped AS (
    UPDATE inbox_conversation
    SET last_message_at = %(now)s, last_inbound_at = %(now)s, updated_at = %(now)s
    WHERE id IN (SELECT conversation_id FROM message)
)
SELECT id, conversation_id, channel_id, external_id FROM message
"""

# A sender no identity of which is known yet: their customer, identities, first
# conversation, message and raw event, all or (any conflict: a concurrent first message,
# a duplicate) nothing.
_STORE_FIRST_MESSAGE = (
    """
WITH customer AS (
    INSERT INTO customers_customer (
        name, email, phone, language, attributes, merged_into_id, created_at, updated_at
    )
    VALUES (%(name)s, %(email)s, %(phone)s, %(language)s, '{}'::jsonb, NULL, %(now)s, %(now)s)
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


@dataclass(eq=False)
class PendingMessage:
    """A parsed message from verified identities, waiting for a writer."""

    channel: Channel
    inbound: InboundMessage
    identities: list[tuple[str, str]]
    raw: bytes
    raw_sha256: str
    content_type: str
    # Set by the writer: the stored Message, or None for the regular path.
    outcome: asyncio.Future = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    @property
    def key(self) -> tuple[int, str]:
        return (self.channel.pk, self.inbound.external_id)

    @property
    def raw_key(self) -> tuple[int, str]:
        return (self.channel.pk, self.raw_sha256)


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
            # Each statement is its own transaction: no BEGIN/COMMIT round trips. A
            # statement that would wait long for a row another transaction holds (a
            # duplicate being stored by the regular path, which locks in the other order)
            # gives up and leaves its messages to the regular path.
            kwargs={
                "autocommit": True,
                "options": f"-c lock_timeout={LOCK_TIMEOUT_MS}",
                "application_name": f"switchboard webhooks {os.getpid()}",
            },
            open=False,
        )
        await pool.open()
        _pool = pool
    return _pool


async def close() -> None:
    """Finish what is being written and close this process's connections (the next
    message opens them again)."""
    global _pool, _writer, _turns
    if _writer is not None:
        await _writer.finish()
        _writer = _turns = None
    if _pool is not None:
        pool, _pool = _pool, None
        await pool.close()


def is_enabled() -> bool:
    return settings.WEBHOOK_FAST_PATH and not settings.IS_EMBEDDED


@asynccontextmanager
async def received(
    *, kind: str, public_id: str, request: WebhookRequest
) -> AsyncIterator[dict[str, Any] | None]:
    """The answer to a webhook this path stored (and broadcast), or None: then the caller
    hands the request to the regular path inside the block.

    A sender's webhooks are taken one at a time in each web process, in arrival order,
    whichever path stores them: the block holds the sender's turn, so their next message
    cannot overtake one the regular path is still storing.
    """
    channel = channel_cached_active(kind=kind, public_id=public_id)
    inbound = _parse_single_message(channel, request) if channel is not None else None
    if channel is None or inbound is None:
        yield None
        return
    async with _turns_for_this_loop().turn((channel.pk, inbound.recipient_address)):
        yield await _store(channel, inbound, request)


def _parse_single_message(channel: Channel, request: WebhookRequest) -> InboundMessage | None:
    """The one message a verified webhook carries; None when it is anything else (or the
    regular path should say what is wrong with it)."""
    try:
        adapter = adapter_for(channel)
        if adapter.uses_thread_references or adapter.accepted_answer is not None:
            # Email: parsing a sender's MIME is too heavy for the event loop, and it
            # threads by reference, which only the regular path does.
            return None
        adapter.verify(request)
        events = adapter.parse(request)
    except Exception:
        return None  # refused or malformed: the regular path answers it
    if len(events) != 1 or not isinstance(events[0], InboundMessage):
        return None
    return events[0]


async def _store(
    channel: Channel, inbound: InboundMessage, request: WebhookRequest
) -> dict[str, Any] | None:
    # Only the regular path stores files, button answers, mail threads and identities a
    # sender merely typed.
    if (
        inbound.attachments
        or inbound.button_payload
        or inbound.threads_by_reference
        or inbound.conversation_per_address
        or not all(item.is_verified for item in inbound.identities)
    ):
        return None
    try:
        identities = list(
            dict.fromkeys(
                (item.kind, normalize_identity_value(item.kind, item.value))
                for item in inbound.identities
            )
        )
        body = request.body
        pending = PendingMessage(
            channel=channel,
            inbound=inbound,
            identities=identities,
            raw=body,
            raw_sha256=hashlib.sha256(body).hexdigest(),
            content_type=request.headers.get("content-type", "")[:255],
        )
        message = await _writer_for_this_loop().store(pending)
    except InvalidIdentityValue:
        return None
    except Exception:
        # Whatever went wrong, the regular path answers it properly (and keeps the event).
        logger.exception("webhook fast path gave up for channel %s", channel.pk)
        return None
    if message is None:
        return None
    return {
        "status": "ok",
        "messages": [
            {"id": message.pk, "conversation_id": message.conversation_id, "duplicate": False}
        ],
    }


def _turns_for_this_loop() -> "_SenderTurns":
    global _turns
    loop = asyncio.get_running_loop()
    if _turns is None or _turns.loop is not loop:
        _turns = _SenderTurns(loop)
    return _turns


class _SenderTurns:
    """One webhook per sender at a time, in arrival order (asyncio locks queue fairly)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.locks: dict[tuple[int, str], asyncio.Lock] = {}
        self.holders: dict[tuple[int, str], int] = {}

    @asynccontextmanager
    async def turn(self, sender: tuple[int, str]) -> AsyncIterator[None]:
        lock = self.locks.setdefault(sender, asyncio.Lock())
        self.holders[sender] = self.holders.get(sender, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self.holders[sender] -= 1
            if not self.holders[sender]:
                del self.holders[sender], self.locks[sender]


def _writer_for_this_loop() -> "_Writer":
    global _writer
    loop = asyncio.get_running_loop()
    if _writer is None or _writer.loop is not loop:
        _writer = _Writer(loop)
    return _writer


class _Writer:
    """Stores the messages of a web process, known senders' several per statement when
    they arrive together. Callers send one message per sender at a time (their turn)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: list[PendingMessage] = []
        self.writing = 0
        self.tasks: set[asyncio.Task] = set()  # asyncio keeps only weak references

    async def store(self, pending: PendingMessage) -> Message | None:
        """The stored message, or None for the regular path."""
        self.waiting.append(pending)
        if self.writing < MAX_WRITERS:
            # Counted now, not when the task starts, so a burst starts no more writers.
            self.writing += 1
            self._start_task(self._write_while_waiting())
        return await pending.outcome

    async def finish(self) -> None:
        """Wait for what is being written (without cancelling it if cancelled itself)."""
        while self.tasks:
            await asyncio.wait(set(self.tasks))

    def _start_task(self, coroutine) -> None:
        task = self.loop.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _write_while_waiting(self) -> None:
        try:
            while batch := self._take_batch():
                first_messages: list[PendingMessage] = []
                try:
                    first_messages = await _store_batch(batch)
                except Exception as error:
                    logger.exception("webhook fast path could not store %d messages", len(batch))
                    await _after_failure(error)
                finally:
                    for pending in batch:
                        if pending in first_messages:
                            self._start_task(self._store_first_message(pending))
                        else:
                            _settle(pending, None)  # unless settled already
        finally:
            # No await between the last look at `waiting` and this: a message added after
            # it finds a free writer.
            self.writing -= 1

    async def _store_first_message(self, pending: PendingMessage) -> None:
        message = None
        try:
            message = await _store_first_message(pending)
        except _UseRegularPath:
            pass
        except Exception as error:
            logger.exception("webhook fast path could not store a first message")
            await _after_failure(error)
        finally:
            _settle(pending, message)

    def _take_batch(self) -> list[PendingMessage]:
        """The oldest waiting messages, no two of one channel with the same external id or
        raw body (the others wait for the next statement)."""
        batch: list[PendingMessage] = []
        keys: set[tuple[int, str]] = set()
        raw_keys: set[tuple[int, str]] = set()
        later: list[PendingMessage] = []
        for pending in self.waiting:
            if pending.outcome.done():
                continue  # its request went away
            if len(batch) >= MAX_BATCH or pending.key in keys or pending.raw_key in raw_keys:
                later.append(pending)
                continue
            batch.append(pending)
            keys.add(pending.key)
            raw_keys.add(pending.raw_key)
        self.waiting = later
        return batch


async def _after_failure(error: Exception) -> None:
    """After a lost connection (a database restart, say), the pool's other connections
    are likely lost too: check them now rather than fail one statement on each."""
    if isinstance(error, psycopg.OperationalError) and _pool is not None:
        try:
            await _pool.check()
        except Exception:
            logger.exception("webhook fast path could not check its connections")


def _settle(pending: PendingMessage, message: Message | None) -> None:
    # A request that went away has cancelled its future.
    if not pending.outcome.done():
        pending.outcome.set_result(message)


async def _broadcast(events: list[tuple[list[str], dict[str, Any]]]) -> None:
    """Best effort, as after the regular path's commit: what is stored stays stored and
    answered, and operators catch up from the API."""
    try:
        await asyncio.wait_for(realtime.group_send_texts(events), BROADCAST_TIMEOUT_SECONDS)
    except Exception:
        logger.exception("webhook fast path could not broadcast %d events", len(events))


async def _store_batch(batch: list[PendingMessage]) -> list[PendingMessage]:
    """Look up the senders, store and broadcast what belongs to a known sender's open
    conversation, and settle those messages. Answers the messages of new senders, which
    are left unsettled for a first-message statement each."""
    pool = await _connection_pool()
    now = datetime.now(UTC)
    async with pool.connection() as connection:
        senders = await _senders(connection, batch)
        known = [
            (pending, sender)
            for pending, sender in zip(batch, senders, strict=True)
            if isinstance(sender, int)
        ]
        stored = await _store_known_messages(connection, known, now)
    ids = {
        (channel_id, external_id): (message_id, conversation_id)
        for message_id, conversation_id, channel_id, external_id in stored
    }
    created = [
        (pending, _message(*ids[pending.key], pending.channel, pending.inbound, now))
        for pending, _ in known
        if pending.key in ids
    ]
    # What the regular path broadcasts after its commit.
    await _broadcast(
        [
            (
                realtime.groups_for_channel(pending.channel.pk),
                {
                    "type": "message.created",
                    "conversation_id": message.conversation_id,
                    "message": message_representation(message),
                },
            )
            for pending, message in created
        ]
    )
    for pending, message in created:
        _settle(pending, message)
    return [pending for pending, sender in zip(batch, senders, strict=True) if sender is NEW_SENDER]


async def _senders(connection, batch: list[PendingMessage]) -> list[int | _NewSender | None]:
    """For each message: its customer's id when one customer has every identity the
    message names and no blank profile field it would fill; NEW_SENDER when none of them
    is known; None otherwise (the regular path decides)."""
    positions, kinds, values = [], [], []
    for position, pending in enumerate(batch):
        for kind, value in pending.identities:
            positions.append(position)
            kinds.append(kind)
            values.append(value)
    rows = await (await connection.execute(_SENDER_LOOKUP, (positions, kinds, values))).fetchall()
    found: dict[int, list[tuple]] = {}
    for position, *customer in rows:
        found.setdefault(position, []).append(tuple(customer))
    return [_sender(pending, found.get(position, [])) for position, pending in enumerate(batch)]


def _sender(pending: PendingMessage, matches: list[tuple]) -> int | _NewSender | None:
    if not matches:
        return NEW_SENDER
    if len(matches) != len(pending.identities) or len({row[0] for row in matches}) != 1:
        return None
    customer_id, name, email, phone, language = matches[0]
    given = dict(pending.identities)
    if (
        (pending.inbound.sender_name and not name)
        or (not language and supported_language(pending.inbound.sender_language))
        or (given.get("email") and not email)
        or (given.get("phone") and not phone)
    ):
        return None  # the services fill blank profile fields
    return customer_id


async def _store_known_messages(
    connection, known: list[tuple[PendingMessage, int]], now: datetime
) -> list[tuple]:
    """(message id, conversation id, channel id, external id) of each message stored, for
    (message, customer id) pairs. One statement, so one transaction of its own: a duplicate
    or a message whose sender has no open conversation is left out, and the regular path
    takes it."""
    if not known:
        return []
    constants = {
        "now": now,
        "direction": MessageDirection.INBOUND,
        "status": MessageStatus.RECEIVED,
    }
    if len(known) == 1:
        ((pending, customer_id),) = known
        parameters = {
            **constants,
            "customer": customer_id,
            "channel": pending.channel.pk,
            "text": pending.inbound.text,
            "external_id": pending.inbound.external_id,
            "sent_at": pending.inbound.sent_at,
            "raw": pending.raw,
            "raw_sha256": pending.raw_sha256,
            "content_type": pending.content_type,
        }
        return await (await connection.execute(_STORE_MESSAGE, parameters)).fetchall()
    parameters = {
        **constants,
        "customers": [customer_id for _, customer_id in known],
        "channels": [pending.channel.pk for pending, _ in known],
        "texts": [pending.inbound.text for pending, _ in known],
        "external_ids": [pending.inbound.external_id for pending, _ in known],
        "sent_ats": [pending.inbound.sent_at for pending, _ in known],
        "raws": [pending.raw for pending, _ in known],
        "raw_sha256s": [pending.raw_sha256 for pending, _ in known],
        "content_types": [pending.content_type for pending, _ in known],
    }
    return await (await connection.execute(_STORE_MESSAGES, parameters)).fetchall()


async def _store_first_message(pending: PendingMessage) -> Message:
    """A new customer's first message, stored and broadcast as customer_get_or_create and
    message_receive would store and broadcast it."""
    channel, inbound, identities = pending.channel, pending.inbound, pending.identities
    teams = list(channel.teams.all()[:2])  # prefetched with the cached channel
    team = teams[0] if len(teams) == 1 else None
    if team is not None and team.auto_assign:
        raise _UseRegularPath  # which queues the assignment after its commit
    customer = Customer(
        name=inbound.sender_name.strip()[:255],
        email=next((value for kind, value in identities if kind == IdentityKind.EMAIL), ""),
        phone=next((value for kind, value in identities if kind == IdentityKind.PHONE), ""),
        language=supported_language(inbound.sender_language),
    )
    now = datetime.now(UTC)
    pool = await _connection_pool()
    try:
        async with pool.connection() as connection:
            stored = await (
                await connection.execute(
                    _STORE_FIRST_MESSAGE,
                    {
                        "now": now,
                        "channel": channel.pk,
                        "direction": MessageDirection.INBOUND,
                        "text": inbound.text,
                        "status": MessageStatus.RECEIVED,
                        "external_id": inbound.external_id,
                        "sent_at": inbound.sent_at,
                        "raw": pending.raw,
                        "raw_sha256": pending.raw_sha256,
                        "content_type": pending.content_type,
                        "name": customer.name,
                        "email": customer.email,
                        "phone": customer.phone,
                        "language": customer.language,
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
    if stored is None:
        raise _UseRegularPath
    message_id, conversation_id, customer_id = stored
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
    message = _message(message_id, conversation_id, channel, inbound, now)
    # What the regular path broadcasts after its commit, in the same order.
    groups = realtime.groups_for_channel(channel.pk)
    await _broadcast(
        [
            (
                groups,
                {
                    "type": "message.created",
                    "conversation_id": message.conversation_id,
                    "message": message_representation(message),
                },
            ),
            (
                groups,
                {
                    "type": "conversation.created",
                    "conversation": conversation_representation(conversation),
                },
            ),
        ]
    )
    return message


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
