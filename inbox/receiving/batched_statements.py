"""The SQL of the batched receiving path, and the raw event's upsert that the regular
path shares. Column lists and types come from the rows (inbox.receiving.rows), never
written out here: a statement is made once per shape of its rows and kept."""

from functools import cache

# Every identity a pending message carries, by the message's position in the batch.
SENDER_LOOKUP = """
SELECT wanted.position, i.customer_id, c.name, c.email, c.phone, c.language,
    i.kind, i.value, i.avatar_url, i.client_info
FROM unnest(%s::int[], %s::text[], %s::text[]) AS wanted(position, kind, value)
JOIN customers_identity i ON i.kind = wanted.kind AND i.value = wanted.value
JOIN customers_customer c ON c.id = i.customer_id
"""

MESSAGE = "message__"
RAW_EVENT = "raw_event__"
CUSTOMER = "customer__"
IDENTITY = "identity__"
CONVERSATION = "conversation__"

RowShape = tuple[str, tuple[str, ...], tuple[str, ...]]

# A customer's message that starts an SLA's next response clock (the first after an
# operator's answer) takes the regular path, where clocks are counted
# (inbox.sla.clock.is_next_response_to_start says the same).
_SLA_COLUMNS = "sla_policy_id, first_response_at, next_response_started_at"
NO_SLA_CLOCK_TO_START = (
    "(sla_policy_id IS NULL OR first_response_at IS NULL OR next_response_started_at IS NOT NULL)"
)

_ON_DUPLICATE_NOTHING = (
    "ON CONFLICT (channel_id, direction, external_id) WHERE external_id IS NOT NULL DO NOTHING"
)


# The stored messages' rule events (inbox.rule_events: what a rule on customers' messages
# answers), recorded as one outbox task in the same statement, so none is lost.
_RULE_EVENTS_QUEUED = """queued AS (
    INSERT INTO inbox_pendingtask (task, args, not_before, created_at)
    SELECT %(rules_task)s, jsonb_build_array(jsonb_agg(jsonb_build_object(
        'triggers', %(rules_triggers)s::jsonb,
        'key', 'message:' || message.id,
        'conversation', message.conversation_id,
        'message', message.id,
        'detail', '',
        'caused_by_rules', '[]'::jsonb
    ) ORDER BY message.id)), NULL, %(now)s
    FROM message
    HAVING count(*) > 0
    RETURNING id
)"""


TASKS_RECORDED = "SELECT id, task, args FROM inbox_pendingtask WHERE id = ANY(%s) ORDER BY id"
TASKS_SENT = "DELETE FROM inbox_pendingtask WHERE id = ANY(%s)"


def _queued(queues_rule_events: bool, *, last: bool = False) -> str:
    """The outbox CTE where the statement queues rule events, between two CTEs or last."""
    if not queues_rule_events:
        return ""
    return f",\n{_RULE_EVENTS_QUEUED}" if last else f"{_RULE_EVENTS_QUEUED},\n"


def _stored(queues_rule_events: bool) -> str:
    """What both statements answer: each stored message, and the outbox row of their rule
    events where they queue them."""
    queued = ", (SELECT id FROM queued)" if queues_rule_events else ", NULL::bigint"
    return f"SELECT id, conversation_id, channel_id, external_id{queued} FROM message"


def _columns(shape: RowShape) -> str:
    return ", ".join(shape[1])


def _one_row(shape: RowShape, prefix: str) -> str:
    """The row's values as typed parameters (an untyped NULL would not fit its column)."""
    return ", ".join(
        f"%({prefix}{column})s::{sql_type}"
        for column, sql_type in zip(shape[1], shape[2], strict=True)
    )


def _raw_event_on_conflict(raw_event: RowShape) -> str:
    """The raw event is kept once per body: a delivery seen before (a retry the regular
    path failed, say) is marked as this one is."""
    updated = ("status", "error", "processed_at")
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in raw_event[1] if c in updated)
    return f"ON CONFLICT (channel_id, body_sha256) DO UPDATE SET {assignments}"


def _raw_event_upsert(raw_event: RowShape, select: str) -> str:
    return f"""raw_event AS (
    INSERT INTO {raw_event[0]} ({_columns(raw_event)})
    {select}
    {_raw_event_on_conflict(raw_event)}
)"""


@cache
def raw_event_upsert(raw_event: RowShape) -> str:
    """One raw event, its values as positional parameters in the row's order (PostgreSQL
    and SQLite alike)."""
    placeholders = ", ".join(["%s"] * len(raw_event[1]))
    return (
        f"INSERT INTO {raw_event[0]} ({_columns(raw_event)}) VALUES ({placeholders}) "
        f"{_raw_event_on_conflict(raw_event)}"
    )


def _message_and_raw_event(message: RowShape, raw_event: RowShape, source: str, on_conflict: str):
    """The message, inserted into the conversation that `source` (a CTE naming `id`)
    yields, and the raw event once the message is in."""
    return f"""message AS (
    INSERT INTO {message[0]} (conversation_id, {_columns(message)})
    SELECT id, {_one_row(message, MESSAGE)}
    FROM {source}
    {on_conflict}
    RETURNING id, conversation_id, channel_id, external_id
), {_raw_event_upsert(raw_event, f"SELECT {_one_row(raw_event, RAW_EVENT)} FROM message")}"""


@cache
def store_message(message: RowShape, raw_event: RowShape, queues_rule_events: bool = False) -> str:
    """A known customer's message into their open conversation, which then moves up; a
    duplicate or a closed conversation stores and moves nothing. The latest conversation
    is locked while it is looked at, so a concurrent resolve is seen; one that another
    transaction holds is skipped, not waited for (the writers serve every sender of the
    process, and the regular path then waits its turn)."""
    return f"""
WITH latest AS (
    SELECT id, status, {_SLA_COLUMNS} FROM inbox_conversation
    WHERE id = (
        SELECT id FROM inbox_conversation
        WHERE customer_id = %(customer)s AND channel_id = %({MESSAGE}channel_id)s
        ORDER BY id DESC LIMIT 1
    )
    FOR UPDATE SKIP LOCKED
), open_conversation AS (
    -- The status as the lock found it, not as the statement began.
    SELECT id FROM latest WHERE status = %(open)s AND {NO_SLA_CLOCK_TO_START}
), {_message_and_raw_event(message, raw_event, "open_conversation", _ON_DUPLICATE_NOTHING)},
{_queued(queues_rule_events)}bumped AS (
    UPDATE inbox_conversation
    SET last_message_at = %(now)s, last_inbound_at = %(now)s, updated_at = %(now)s
    WHERE id IN (SELECT conversation_id FROM message)
)
{_stored(queues_rule_events)}
"""


def _arrays(shape: RowShape, prefix: str) -> list[str]:
    return [
        f"%({prefix}{column})s::{sql_type}[]"
        for column, sql_type in zip(shape[1], shape[2], strict=True)
    ]


def _aliased(shape: RowShape, prefix: str, table: str) -> str:
    return ", ".join(f"{table}.{prefix}{column}" for column in shape[1])


@cache
def store_messages(message: RowShape, raw_event: RowShape, queues_rule_events: bool = False) -> str:
    """The same for several known customers' messages at once, in the order given, each
    row's values as arrays. Callers send no two messages with the same external id or the
    same raw body of one channel in one batch."""
    arrays = ["%(customers)s::bigint[]", *_arrays(message, MESSAGE), *_arrays(raw_event, RAW_EVENT)]
    names = [
        "customer_id",
        *(f"{MESSAGE}{column}" for column in message[1]),
        *(f"{RAW_EVENT}{column}" for column in raw_event[1]),
    ]
    raw_event_select = f"""SELECT {_aliased(raw_event, RAW_EVENT, "wanted")}
    FROM wanted
    JOIN message
        ON message.channel_id = wanted.{MESSAGE}channel_id
        AND message.external_id = wanted.{MESSAGE}external_id"""
    return f"""
WITH wanted AS (
    SELECT * FROM unnest({", ".join(arrays)})
        WITH ORDINALITY AS wanted({", ".join(names)}, position)
), latest AS (
    SELECT wanted.position, conversation.id
    FROM wanted CROSS JOIN LATERAL (
        SELECT id FROM inbox_conversation
        WHERE customer_id = wanted.customer_id AND channel_id = wanted.{MESSAGE}channel_id
        ORDER BY id DESC LIMIT 1
    ) AS conversation
), locked AS (
    -- Primary-key lookups (an array, not IN): never a pass over every open conversation.
    SELECT id, status, {_SLA_COLUMNS} FROM inbox_conversation
    WHERE id = ANY(ARRAY(SELECT id FROM latest))
    FOR UPDATE SKIP LOCKED
), open_conversation AS (
    -- The status as the lock found it, not as the statement began.
    SELECT id FROM locked WHERE status = %(open)s AND {NO_SLA_CLOCK_TO_START}
), message AS (
    INSERT INTO {message[0]} (conversation_id, {_columns(message)})
    SELECT latest.id, {_aliased(message, MESSAGE, "wanted")}
    FROM wanted
    JOIN latest ON latest.position = wanted.position
    JOIN open_conversation ON open_conversation.id = latest.id
    ORDER BY wanted.position
    {_ON_DUPLICATE_NOTHING}
    RETURNING id, conversation_id, channel_id, external_id
), {_raw_event_upsert(raw_event, raw_event_select)},
{_queued(queues_rule_events)}bumped AS (
    UPDATE inbox_conversation
    SET last_message_at = %(now)s, last_inbound_at = %(now)s, updated_at = %(now)s
    WHERE id IN (SELECT conversation_id FROM message)
)
{_stored(queues_rule_events)}
"""


@cache
def store_first_message(
    customer: RowShape,
    identity: RowShape,
    conversation: RowShape,
    message: RowShape,
    raw_event: RowShape,
    queues_rule_events: bool = False,
) -> str:
    """A sender no identity of which is known yet: their customer, identities (each
    column an array), first conversation, message and raw event (and its rule events),
    all or (any conflict: a concurrent first message, a duplicate) nothing."""
    queued = _queued(queues_rule_events, last=True)
    task_id = "(SELECT id FROM queued)" if queues_rule_events else "NULL::bigint"
    return f"""
WITH customer AS (
    INSERT INTO {customer[0]} ({_columns(customer)})
    VALUES ({_one_row(customer, CUSTOMER)})
    RETURNING id
), identity AS (
    INSERT INTO {identity[0]} (customer_id, {_columns(identity)})
    SELECT customer.id, {_aliased(identity, IDENTITY, "wanted")}
    FROM customer, unnest({", ".join(_arrays(identity, IDENTITY))})
        AS wanted({", ".join(f"{IDENTITY}{column}" for column in identity[1])})
), conversation AS (
    INSERT INTO {conversation[0]} (customer_id, {_columns(conversation)})
    SELECT customer.id, {_one_row(conversation, CONVERSATION)}
    FROM customer
    RETURNING id, customer_id
), {_message_and_raw_event(message, raw_event, "conversation", "")}{queued}
SELECT message.id, message.conversation_id, conversation.customer_id, {task_id}
FROM message, conversation
"""
