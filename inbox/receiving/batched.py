"""The batched receiving path, hop-free, for the most common webhooks: a customer
writing again into an open conversation, and a new sender's first message.

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
edits, statuses, a channel this process has not looked up lately, an outgoing webhook
subscribed to messages or conversations, any conflict or error) answers None, and the
request goes through the regular Django view and inbox.receiving.regular, which remains
the one place where the full rules live. What this path stores and broadcasts is exactly
what the regular path does for the same message: the same row definitions
(inbox.receiving.stored, model defaults through inbox.receiving.rows) and the same event
builders (inbox.realtime).

The webhook edge (channels_app.webhook_edge) decides which path a webhook takes; the
statements are in batched_statements and run in batched_store."""

import asyncio
import contextlib
import logging
from typing import Any

from django.conf import settings

from channels_app.contracts import InboundMessage
from customers.normalization import InvalidIdentityValue, normalize_identity_value
from customers.services import avatar_url_storable
from inbox import rule_events
from inbox.models import Message
from inbox.outgoing_webhooks.emitting import (
    CONVERSATION_CREATED,
    CONVERSATION_UPDATED,
    MESSAGE_CREATED,
    events_subscribed,
    events_subscribed_cached,
)
from inbox.receiving.batched_store import (
    PendingMessage,
    UseRegularPath,
    after_failure,
    connection_pool_close,
    store_batch,
    store_first_message,
)
from inbox.sla.policies import policies_in_force

logger = logging.getLogger(__name__)

# Messages one statement stores at most, and statements in flight per process.
MAX_BATCH = 64
MAX_WRITERS = 2

_writer: "_Writer | None" = None


def is_enabled() -> bool:
    return settings.WEBHOOK_FAST_PATH and not settings.IS_EMBEDDED


def is_batchable(inbound: InboundMessage) -> bool:
    """Only the regular path stores files, button answers, mail threads, conversations per
    address and identities a sender merely typed."""
    return not (
        inbound.attachments
        or inbound.button_payload
        or inbound.threads_by_reference
        or inbound.conversation_per_address
        or not all(item.is_verified for item in inbound.identities)
    )


# What this path stores: a message, and a conversation opened or moved up.
EVENTS_STORED = frozenset({MESSAGE_CREATED, CONVERSATION_CREATED, CONVERSATION_UPDATED})
# The rule triggers of what it stores.
STORED_TRIGGERS = (rule_events.Trigger.CONVERSATION_CREATED, rule_events.Trigger.MESSAGE_CREATED)


def batched_path_copies_read() -> None:
    """Read again, where a few seconds old, every copy this path consults without querying
    (the SLA policies, the triggers automation rules watch, the events webhooks want).
    Whoever looks a webhook's channel up calls it, so the copies expire and are read again
    together, with the channel's: one message in a few seconds per process takes the
    regular path to renew them all, not one per copy."""
    policies_in_force()
    rule_events.watched_triggers()
    events_subscribed()


def events_subscribed_by_webhooks() -> bool:
    """Whether an outgoing webhook may want what this path would store, which the regular
    path then stores and emits. No query: without this process's fresh copy of the
    subscribed events (kept by the regular path), the answer is yes."""
    subscribed = events_subscribed_cached()
    return subscribed is None or not subscribed.isdisjoint(EVENTS_STORED)


async def message_receive_batched(
    *, channel, inbound: InboundMessage, raw_event: Any, opens_conversations: bool = True
) -> Message | None:
    """Store one verified inbound message with the others arriving meanwhile, and
    broadcast it; None when the regular path should take it. `raw_event`: the unsaved raw
    event row to keep with it; `opens_conversations` False leaves a new sender's message to
    the regular path. Callers send one message per sender at a time."""
    if not is_batchable(inbound) or events_subscribed_by_webhooks():
        return None
    # Automation rules are queued through the outbox: the statement storing a message
    # records its events. One message goes to the regular path each time this process's
    # copy of what the rules watch has gone stale, which reads it again.
    watched = rule_events.watched_triggers_cached()
    if watched is None:
        return None
    rule_triggers = tuple(trigger for trigger in STORED_TRIGGERS if trigger in watched)
    try:
        normalized = [
            (item, (item.kind, normalize_identity_value(item.kind, item.value)))
            for item in inbound.identities
        ]
    except InvalidIdentityValue:
        return None
    profiles = {
        identity: (avatar_url_storable(item.avatar_url), item.client_info)
        for item, identity in reversed(normalized)
        if item.avatar_url or item.client_info is not None
    }
    pending = PendingMessage(
        channel=channel,
        inbound=inbound,
        identities=list(dict.fromkeys(identity for _, identity in normalized)),
        profiles=profiles,
        raw_event=raw_event,
        opens_conversations=opens_conversations,
        rule_triggers=rule_triggers,
    )
    return await _writer_for_this_loop().store(pending)


async def close() -> None:
    """Finish what is being written and close this process's connections (the next
    message opens them again)."""
    global _writer
    if _writer is not None:
        await _writer.finish()
        _writer = None
    await connection_pool_close()


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
        try:
            return await asyncio.shield(pending.outcome)
        except asyncio.CancelledError:
            await self._settled_or_dropped(pending)
            raise

    async def _settled_or_dropped(self, pending: PendingMessage) -> None:
        """For a request that went away: drop its message if it still waits, else wait
        until the writer that took it has stored it, so the sender's next message (which
        waits for this one's turn) cannot overtake it."""
        if pending in self.waiting:
            self.waiting.remove(pending)
            pending.outcome.cancel()
            return
        while not pending.outcome.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(pending.outcome)

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
                    first_messages = await store_batch(batch, _settle)
                except Exception as error:
                    logger.exception("webhook fast path could not store %d messages", len(batch))
                    await after_failure(error)
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
            message = await store_first_message(pending)
        except UseRegularPath:
            pass
        except Exception as error:
            logger.exception("webhook fast path could not store a first message")
            await after_failure(error)
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
                continue  # dropped
            if len(batch) >= MAX_BATCH or pending.key in keys or pending.raw_key in raw_keys:
                later.append(pending)
                continue
            batch.append(pending)
            keys.add(pending.key)
            raw_keys.add(pending.raw_key)
        self.waiting = later
        return batch


def _settle(pending: PendingMessage, message: Message | None) -> None:
    # A request that went away has cancelled its future.
    if not pending.outcome.done():
        pending.outcome.set_result(message)
