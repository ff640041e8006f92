"""The regular receiving path's reads, in plain SQL.

Every inbound message asks whether it was stored already, and every mail which
conversation it answers. Through the ORM each such read cost more Python than storing
the message (~1 ms of a mail's ~9 to compose a filter), and PostgreSQL parsed and
planned it anew each time; here the statement text is fixed, so where connections are
pooled it is prepared once per connection (customers.plain_sql). Tables and
columns come from the models; the SQL is the same on PostgreSQL and SQLite.
"""

from collections.abc import Sequence
from functools import cache

from django.db import connection

from customers.models import Identity
from customers.plain_sql import converted, fetch_all, quoted_column, quoted_table
from inbox.models import Conversation, Message, MessageDirection


def inbound_message_id(*, channel_id: int, external_id: str) -> int | None:
    """The id of the inbound message the channel stored under this external id, if any."""
    rows = fetch_all(
        _inbound_message_id_query(), [channel_id, MessageDirection.INBOUND, external_id]
    )
    return rows[0][0] if rows else None


@cache
def _inbound_message_id_query() -> str:
    column = {field: quoted_column(Message, field) for field in ("id", "channel", "direction")}
    # Answered from the unique index on (channel, direction, external_id).
    return (
        f"SELECT {column['id']} FROM {quoted_table(Message)} WHERE {column['channel']} = %s "
        f"AND {column['direction']} = %s AND {quoted_column(Message, 'external_id')} = %s "
        "LIMIT 1"
    )


def inbound_message_id_of_sender(
    *, channel_id: int, external_id: str, kind: str, value: str
) -> tuple[int, bool] | None:
    """As inbound_message_id, in the same one statement, and whether the message came from
    the customer with this identity."""
    rows = fetch_all(
        _inbound_message_of_sender_query(),
        [kind, value, channel_id, MessageDirection.INBOUND, external_id],
    )
    return (rows[0][0], bool(rows[0][1])) if rows else None


@cache
def _inbound_message_of_sender_query() -> str:
    m = {field: quoted_column(Message, field) for field in ("id", "channel", "direction")}
    i = {field: quoted_column(Identity, field) for field in ("customer", "kind", "value")}
    return (
        f"SELECT m.{m['id']}, EXISTS (SELECT 1 FROM {quoted_table(Identity)} i "
        f"WHERE i.{i['customer']} = c.{quoted_column(Conversation, 'customer')} "
        f"AND i.{i['kind']} = %s AND i.{i['value']} = %s) "
        f"FROM {quoted_table(Message)} m JOIN {quoted_table(Conversation)} c "
        f"ON c.{quoted_column(Conversation, 'id')} = m.{quoted_column(Message, 'conversation')} "
        f"WHERE m.{m['channel']} = %s AND m.{m['direction']} = %s "
        f"AND m.{quoted_column(Message, 'external_id')} = %s LIMIT 1"
    )


def conversations_named(
    *, channel_id: int, references: Sequence[str], conversation_id: int | None
) -> tuple[list[tuple[str, str, Conversation]], Conversation | None]:
    """In one statement: the channel's messages whose external ids are among `references`,
    as (external id, direction, its conversation), and the conversation `conversation_id`
    names if it is one of the channel's."""
    parts, params = [], []
    if references:
        parts.append(_referenced_query(len(references)))
        params += [channel_id, *MessageDirection.values, *references]
    if conversation_id is not None:
        parts.append(_conversation_query())
        params += [conversation_id, channel_id]
    if not parts:
        return [], None
    fields = _conversation_fields()
    rows = fetch_all(" UNION ALL ".join(parts), params)
    named: list[tuple[str, str, Conversation]] = []
    addressed: Conversation | None = None
    values = converted(Conversation, fields, [row[2:] for row in rows])
    for (external_id, direction, *_), row_values in zip(rows, values, strict=True):
        conversation = Conversation.from_db(connection.alias, fields, row_values)
        if external_id is None:
            addressed = conversation
        else:
            named.append((external_id, direction, conversation))
    return named, addressed


@cache
def _conversation_fields() -> list[str]:
    return [field.attname for field in Conversation._meta.concrete_fields]


def _conversation_columns(alias: str) -> str:
    return ", ".join(
        f"{alias}.{quoted_column(Conversation, field)}" for field in _conversation_fields()
    )


@cache
def _referenced_query(count: int) -> str:
    m = {
        field: quoted_column(Message, field)
        for field in ("conversation", "channel", "direction", "external_id")
    }
    directions = ", ".join(["%s"] * len(MessageDirection.values))
    # Both directions named: PostgreSQL then walks the unique index on (channel,
    # direction, external_id) instead of every message of the channel.
    return (
        f"SELECT m.{m['external_id']}, m.{m['direction']}, {_conversation_columns('c')} "
        f"FROM {quoted_table(Message)} m JOIN {quoted_table(Conversation)} c "
        f"ON c.{quoted_column(Conversation, 'id')} = m.{m['conversation']} "
        f"WHERE m.{m['channel']} = %s AND m.{m['direction']} IN ({directions}) "
        f"AND m.{m['external_id']} IN ({', '.join(['%s'] * count)})"
    )


@cache
def _conversation_query() -> str:
    return (
        f"SELECT NULL, NULL, {_conversation_columns('c')} FROM {quoted_table(Conversation)} c "
        f"WHERE c.{quoted_column(Conversation, 'id')} = %s "
        f"AND c.{quoted_column(Conversation, 'channel')} = %s"
    )
