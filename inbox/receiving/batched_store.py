"""The statements of the batched receiving path, run on this process's own connections:
look up a batch's senders, store known senders' messages together, store a new sender's
first message, and broadcast what was stored with the regular path's event builders."""

import asyncio
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from django.conf import settings
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

from channels_app.contracts import InboundMessage
from customers.languages import supported_language
from customers.models import Customer, Identity, IdentityKind
from inbox import realtime, redis_silence
from inbox.models import Conversation, ConversationStatus, Message
from inbox.receiving import batched_statements as statements
from inbox.receiving.rows import Row, model_row
from inbox.receiving.stored import (
    default_team,
    inbound_message_values,
    is_assigned_automatically,
)
from inbox.rule_events import RULES_RUN_EVENTS_TASK, Trigger
from inbox.sla.clock import sla_attach_on_open
from inbox.sla.policies import policies_in_force_cached
from inbox.task_outbox import recorded_tasks_publish

logger = logging.getLogger(__name__)

LOCK_TIMEOUT_MS = 100

_pool: AsyncConnectionPool | None = None


class UseRegularPath(Exception):
    pass


class _NewSender:
    """No identity of the sender is known yet."""


NEW_SENDER = _NewSender()


@dataclass(eq=False)
class PendingMessage:
    """A parsed message from verified identities, waiting for a writer."""

    channel: Any
    inbound: InboundMessage
    identities: list[tuple[str, str]]
    # The raw event to keep with the message (an unsaved row of the channel's app).
    raw_event: Any
    # What the message says of the person behind an identity: (avatar URL, client info),
    # for the identities it says something of.
    profiles: dict[tuple[str, str], tuple[str, dict | None]] = field(default_factory=dict)
    # False where a new conversation needs what only the regular path does after it
    # (asking the platform for the sender's name): a new sender's message goes there.
    opens_conversations: bool = True
    # The triggers of this message (a conversation created, a customer's message) that an
    # active automation rule answers: the statement storing it records their event in the
    # outbox too.
    rule_triggers: tuple[str, ...] = ()
    # Set by the writer: the stored Message, or None for the regular path.
    outcome: asyncio.Future = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    @property
    def key(self) -> tuple[int, str]:
        return (self.channel.pk, self.inbound.external_id)

    @property
    def raw_key(self) -> tuple[int, str]:
        return (self.channel.pk, self.raw_event.body_sha256)


async def connection_pool() -> AsyncConnectionPool:
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
            # With the database down, the regular path's 503 comes no later than this.
            timeout=settings.DATABASE_POOL_TIMEOUT,
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


async def connection_pool_close() -> None:
    global _pool
    if _pool is not None:
        pool, _pool = _pool, None
        await pool.close()


async def after_failure(error: Exception) -> None:
    """After a lost connection (a database restart, say), the pool's other connections
    are likely lost too: check them now rather than fail one statement on each."""
    if isinstance(error, psycopg.OperationalError) and _pool is not None:
        try:
            await _pool.check()
        except Exception:
            logger.exception("webhook fast path could not check its connections")


async def _broadcast(events: list[realtime.Event]) -> None:
    """Best effort, as after the regular path's commit: what is stored stays stored and
    answered, and operators catch up from the API."""
    if not redis_silence.redis_worth_trying():
        logger.info("Redis did not answer lately: %d events not broadcast", len(events))
        return
    try:
        await asyncio.wait_for(
            realtime.group_send_texts(events), settings.REDIS_SOCKET_TIMEOUT_SECONDS
        )
    except Exception:
        redis_silence.redis_went_silent()
        logger.exception("webhook fast path could not broadcast %d events", len(events))
    else:
        redis_silence.redis_answered()


def _rule_events_parameters(triggers: Sequence[str], now: datetime) -> dict[str, Any]:
    return {
        "rules_task": RULES_RUN_EVENTS_TASK,
        "rules_triggers": json.dumps(triggers),
        "now": now,
    }


async def _tasks_hand_over(row_ids: list[int]) -> None:
    """The outbox rows a statement recorded, handed to the broker as a transaction's are
    after its commit (the broker's client off the event loop) and deleted once it took
    them; what it did not take is left to beat's sweep, as there."""
    pool = await connection_pool()
    try:
        async with pool.connection() as connection:
            rows = await (
                await connection.execute(statements.TASKS_RECORDED, (row_ids,))
            ).fetchall()
        sent = await asyncio.to_thread(recorded_tasks_publish, rows)
        if sent:
            async with pool.connection() as connection:
                await connection.execute(statements.TASKS_SENT, (sent,))
    except Exception:
        logger.exception("webhook fast path could not hand over tasks %s", row_ids)


def _message(pending: PendingMessage, now: datetime) -> Message:
    return Message(
        channel_id=pending.channel.pk,
        created_at=now,
        updated_at=now,
        **inbound_message_values(pending.inbound),
    )


def _message_row(message: Message) -> Row:
    return model_row(message, filled_by_statement=("conversation_id",))


def _columns_as_arrays(rows: list[Row], prefix: str) -> dict[str, list[Any]]:
    return {
        f"{prefix}{column}": [row.values[index] for row in rows]
        for index, column in enumerate(rows[0].columns)
    }


async def store_batch(batch: list[PendingMessage], settle) -> list[PendingMessage]:
    """Look up the senders, store and broadcast what belongs to a known sender's open
    conversation, and `settle` those messages. Answers the messages of new senders, which
    are left unsettled for a first-message statement each."""
    pool = await connection_pool()
    now = datetime.now(UTC)
    async with pool.connection() as connection:
        senders = await _senders(connection, batch)
        known = [
            (pending, sender, _message(pending, now))
            for pending, sender in zip(batch, senders, strict=True)
            if isinstance(sender, int)
        ]
        stored = await _store_known_messages(connection, known, now)
    ids = {
        (channel_id, external_id): (message_id, conversation_id)
        for message_id, conversation_id, channel_id, external_id, _ in stored
    }
    queued = sorted({task_id for *_, task_id in stored if task_id is not None})
    created = []
    for pending, _, message in known:
        if pending.key in ids:
            message.pk, message.conversation_id = ids[pending.key]
            created.append((pending, message))
    await _broadcast(
        [
            realtime.message_created_event(message, channel_id=pending.channel.pk, attachments=[])
            for pending, message in created
        ]
    )
    for pending, message in created:
        settle(pending, message)
    if queued:
        await _tasks_hand_over(queued)
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
    rows = await (
        await connection.execute(statements.SENDER_LOOKUP, (positions, kinds, values))
    ).fetchall()
    found: dict[int, list[tuple]] = {}
    for position, *customer in rows:
        found.setdefault(position, []).append(tuple(customer))
    return [_sender(pending, found.get(position, [])) for position, pending in enumerate(batch)]


def _sender(pending: PendingMessage, matches: list[tuple]) -> int | _NewSender | None:
    if not matches:
        return NEW_SENDER
    if len(matches) != len(pending.identities) or len({row[0] for row in matches}) != 1:
        return None
    customer_id, name, email, phone, language = matches[0][:5]
    given = dict(pending.identities)
    if (
        (pending.inbound.sender_name and not name)
        or (not language and supported_language(pending.inbound.sender_language))
        or (given.get(IdentityKind.EMAIL) and not email)
        or (given.get(IdentityKind.PHONE) and not phone)
        or any(_is_profile_news(pending, row[5:]) for row in matches)
    ):
        return None  # the services fill blank profile fields and keep identities' news
    return customer_id


def _is_profile_news(pending: PendingMessage, identity: tuple) -> bool:
    kind, value, avatar_url, client_info = identity
    given = pending.profiles.get((kind, value))
    if given is None:
        return False
    given_avatar_url, given_client_info = given
    return bool(given_avatar_url and given_avatar_url != avatar_url) or (
        given_client_info is not None and given_client_info != client_info
    )


async def _store_known_messages(
    connection, known: list[tuple[PendingMessage, int, Message]], now: datetime
) -> list[tuple]:
    """(message id, conversation id, channel id, external id) of each message stored, for
    (message, customer id, message row) triples. One statement, so one transaction of its
    own: a duplicate or a message whose sender has no open conversation is left out, and
    the regular path takes it."""
    if not known:
        return []
    message_rows = [_message_row(message) for _, _, message in known]
    raw_event_rows = [model_row(pending.raw_event) for pending, _, _ in known]
    constants = {"now": now, "open": ConversationStatus.OPEN}
    # While the copy of what rules watch renews, a batch may hold messages taken before and
    # after: it queues for all of them (a rule that is no longer active then does nothing).
    queues = any(Trigger.MESSAGE_CREATED in pending.rule_triggers for pending, _, _ in known)
    if queues:
        constants |= _rule_events_parameters([Trigger.MESSAGE_CREATED], now)
    if len(known) == 1:
        ((_, customer_id, _),) = known
        statement = statements.store_message(message_rows[0].shape, raw_event_rows[0].shape, queues)
        parameters = {
            **constants,
            "customer": customer_id,
            **message_rows[0].named(statements.MESSAGE),
            **raw_event_rows[0].named(statements.RAW_EVENT),
        }
    else:
        statement = statements.store_messages(
            message_rows[0].shape, raw_event_rows[0].shape, queues
        )
        parameters = {
            **constants,
            "customers": [customer_id for _, customer_id, _ in known],
            **_columns_as_arrays(message_rows, statements.MESSAGE),
            **_columns_as_arrays(raw_event_rows, statements.RAW_EVENT),
        }
    return await (await connection.execute(statement, parameters)).fetchall()


async def store_first_message(pending: PendingMessage) -> Message:
    """A new customer's first message, stored and broadcast as customer_identify and
    message_receive would store and broadcast it."""
    if not pending.opens_conversations:
        raise UseRegularPath
    channel, inbound, identities = pending.channel, pending.inbound, pending.identities
    team = default_team(list(channel.teams.all()[:2]))  # prefetched with the cached channel
    if is_assigned_automatically(team):
        raise UseRegularPath  # which queues the assignment after its commit
    policies = policies_in_force_cached()
    if policies is None:
        raise UseRegularPath  # which reads the SLA policies again for the next ones
    now = datetime.now(UTC)
    customer = Customer(
        name=inbound.sender_name.strip()[:255],
        email=next((value for kind, value in identities if kind == IdentityKind.EMAIL), ""),
        phone=next((value for kind, value in identities if kind == IdentityKind.PHONE), ""),
        language=supported_language(inbound.sender_language),
        created_at=now,
        updated_at=now,
    )
    conversation = Conversation(
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
    sla_attach_on_open(conversation, now=now, policies=policies)
    message = _message(pending, now)
    customer_row = model_row(customer)
    identity_rows = [
        model_row(
            Identity(
                kind=kind,
                value=value,
                created_at=now,
                avatar_url=pending.profiles.get((kind, value), ("", None))[0],
                client_info=pending.profiles.get((kind, value), ("", None))[1] or {},
            ),
            filled_by_statement=("customer_id",),
        )
        for kind, value in identities
    ]
    conversation_row = model_row(conversation, filled_by_statement=("customer_id",))
    message_row = _message_row(message)
    raw_event_row = model_row(pending.raw_event)
    # As the regular path fires them for a new conversation's first message, in order.
    triggers = [
        trigger
        for trigger in (Trigger.CONVERSATION_CREATED, Trigger.MESSAGE_CREATED)
        if trigger in pending.rule_triggers
    ]
    statement = statements.store_first_message(
        customer_row.shape,
        identity_rows[0].shape,
        conversation_row.shape,
        message_row.shape,
        raw_event_row.shape,
        bool(triggers),
    )
    parameters = {
        **(_rule_events_parameters(triggers, now) if triggers else {}),
        **customer_row.named(statements.CUSTOMER),
        **_columns_as_arrays(identity_rows, statements.IDENTITY),
        **conversation_row.named(statements.CONVERSATION),
        **message_row.named(statements.MESSAGE),
        **raw_event_row.named(statements.RAW_EVENT),
    }
    pool = await connection_pool()
    try:
        async with pool.connection() as connection:
            stored = await (await connection.execute(statement, parameters)).fetchone()
    except psycopg.errors.UniqueViolation as error:
        # A concurrent first message of the same sender, or a duplicate delivery.
        raise UseRegularPath from error
    if stored is None:
        raise UseRegularPath
    message_id, conversation_id, customer_id, task_id = stored
    customer.pk = customer_id
    conversation.pk = message.conversation_id = conversation_id
    message.pk = message_id
    # What the regular path broadcasts after its commit, in the same order.
    await _broadcast(
        [
            realtime.message_created_event(message, channel_id=channel.pk, attachments=[]),
            realtime.conversation_changed_event(conversation, is_new=True, labels=[]),
        ]
    )
    if task_id is not None:
        await _tasks_hand_over([task_id])
    return message
