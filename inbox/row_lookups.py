"""Small reads by id that complete a page of list rows, in plain SQL.

The inbox and API lists read a page as flat rows (see inbox.selectors) and then fetch, by
id, what the page refers to: operators, labels, identities, attachments, previews.
Through the ORM each id of an `IN (...)` list costs ~40 Python calls to prepare, so a
page of 25 ids costs ~1,000 calls per lookup, a third of a whole list request, and the
preview subqueries another ~4,000 to compose; here the ids go to the database driver as
they are (customers.plain_sql). Tables and columns come from the models; the SQL is the
same on PostgreSQL and SQLite.
"""

import json
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model
from django.utils.dateparse import parse_datetime

from customers.plain_sql import (
    converted,
    fetch_all,
    quoted_column,
    quoted_table,
)
from inbox.content_items import message_text
from inbox.models import Conversation, Label, Message, MessageDirection, Team

ModelT = TypeVar("ModelT", bound=Model)


def _placeholders(values: Collection[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def rows_where_in(
    model: type[Model],
    fields: Sequence[str],
    *,
    key: str,
    values: Collection[Any],
    order_by: str = "",
) -> list[tuple]:
    """The given fields (concrete fields of the model itself) of the rows whose `key` is
    one of the values, as tuples of what the ORM would give, optionally in ascending order
    of a field."""
    if not values:
        return []
    columns = ", ".join(quoted_column(model, field) for field in fields)
    order = f" ORDER BY {quoted_column(model, order_by)}" if order_by else ""
    rows = fetch_all(
        f"SELECT {columns} FROM {quoted_table(model)} WHERE {quoted_column(model, key)} "
        f"IN ({_placeholders(values)}){order}",
        list(values),
    )
    return converted(model, fields, rows)


def models_where_in(
    model: type[ModelT],
    *,
    key: str,
    values: Collection[Any],
    order_by: str = "",
    fields: Sequence[str] = (),
) -> list[ModelT]:
    """As rows_where_in, the model's instances with the given fields loaded (as `only()`
    would), or every concrete field."""
    fields = fields or [field.attname for field in model._meta.concrete_fields]
    return [
        model.from_db(connection.alias, fields, row)
        for row in rows_where_in(model, fields, key=key, values=values, order_by=order_by)
    ]


def grouped(rows: Sequence[tuple]) -> dict[Any, list[tuple]]:
    """Rows grouped by their first value, each without it, in the rows' order."""
    groups: dict[Any, list[tuple]] = {}
    for first, *rest in rows:
        groups.setdefault(first, []).append(tuple(rest))
    return groups


def teams_and_channels_of(user_id: int) -> tuple[list[int], list[int]]:
    """The ids of the teams the user belongs to and of the channels they serve."""
    rows = fetch_all(_teams_and_channels_query(), [user_id])
    team_ids = sorted({team_id for team_id, _ in rows})
    channel_ids = sorted({channel_id for _, channel_id in rows if channel_id is not None})
    return team_ids, channel_ids


@cache
def _teams_and_channels_query() -> str:
    channel_teams, team_members = Team.channels.through, Team.members.through
    team = quoted_column(team_members, "team")
    return (
        f"SELECT m.{team}, c.{quoted_column(channel_teams, 'channel')} "
        f"FROM {quoted_table(team_members)} m LEFT JOIN {quoted_table(channel_teams)} c "
        f"ON c.{quoted_column(channel_teams, 'team')} = m.{team} "
        f"WHERE m.{quoted_column(team_members, 'user')} = %s"
    )


@cache
def channels_served_by_query() -> str:
    """SQL selecting the ids of the channels an operator's teams serve, the operator's id
    its one parameter."""
    channel_teams, team_members = Team.channels.through, Team.members.through
    return (
        f"SELECT s.{quoted_column(channel_teams, 'channel')} FROM {quoted_table(channel_teams)} s "
        f"JOIN {quoted_table(team_members)} m ON m.{quoted_column(team_members, 'team')} = "
        f"s.{quoted_column(channel_teams, 'team')} "
        f"WHERE m.{quoted_column(team_members, 'user')} = %s"
    )


def labels_of(conversation_ids: Collection[int]) -> dict[int, list[tuple]]:
    """Each conversation's labels as (id, name, color), by name."""
    if not conversation_ids:
        return {}
    labelled = Conversation.labels.through
    conversation, label = quoted_column(labelled, "conversation"), quoted_column(labelled, "label")
    label_id, name, color = (quoted_column(Label, field) for field in ("id", "name", "color"))
    return grouped(
        fetch_all(
            f"SELECT c.{conversation}, l.{label_id}, l.{name}, l.{color} "
            f"FROM {quoted_table(labelled)} c JOIN {quoted_table(Label)} l "
            f"ON l.{label_id} = c.{label} "
            f"WHERE c.{conversation} IN ({_placeholders(conversation_ids)}) ORDER BY l.{name}",
            list(conversation_ids),
        )
    )


def _timestamp(value: Any) -> datetime | None:
    # PostgreSQL's driver gives an aware datetime; SQLite its stored UTC time, as text or
    # (where it knows the column's type) a naive datetime.
    moment = parse_datetime(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def previews_of(
    conversation_ids: Collection[int], *, length: int
) -> dict[int, tuple[str | None, str | None, datetime | None]]:
    """Each conversation's (preview, preview_direction, waiting_since): the first `length`
    characters and the direction of its last public message (its body, else its content
    items worded in the active language), and when the customer's first message after our
    last public reply was sent (None when we answered last)."""
    if not conversation_ids:
        return {}
    m = {
        field: quoted_column(Message, field)
        for field in (
            "id",
            "conversation",
            "body",
            "content_items",
            "direction",
            "is_private",
            "created_at",
        )
    }
    messages, conversations = quoted_table(Message), quoted_table(Conversation)
    conversation_id = quoted_column(Conversation, "id")
    last_public = (
        f"FROM {messages} m WHERE m.{m['conversation']} = c.{conversation_id} "
        f"AND m.{m['is_private']} = %s ORDER BY m.{m['id']} DESC LIMIT 1"
    )
    last_reply = (
        f"SELECT r.{m['id']} FROM {messages} r WHERE r.{m['conversation']} = c.{conversation_id} "
        f"AND r.{m['direction']} = %s AND r.{m['is_private']} = %s "
        f"ORDER BY r.{m['id']} DESC LIMIT 1"
    )
    rows = fetch_all(
        f"SELECT c.{conversation_id}, (SELECT SUBSTR(m.{m['body']}, 1, %s) {last_public}), "
        f"(SELECT m.{m['content_items']} {last_public}), "
        f"(SELECT m.{m['direction']} {last_public}), "
        f"(SELECT m.{m['created_at']} FROM {messages} m "
        f"WHERE m.{m['conversation']} = c.{conversation_id} "
        f"AND m.{m['direction']} = %s AND m.{m['id']} > COALESCE(({last_reply}), 0) "
        f"ORDER BY m.{m['id']} LIMIT 1) "
        f"FROM {conversations} c WHERE c.{conversation_id} IN ({_placeholders(conversation_ids)})",
        [
            length,
            False,
            False,
            False,
            MessageDirection.INBOUND,
            MessageDirection.OUTBOUND,
            False,
            *conversation_ids,
        ],
    )
    return {
        conversation: (
            preview or _items_preview(content_items, length=length) or preview,
            direction,
            _timestamp(waiting_since),
        )
        for conversation, preview, content_items, direction, waiting_since in rows
    }


def _items_preview(content_items: Any, *, length: int) -> str:
    if isinstance(content_items, str):
        content_items = json.loads(content_items)
    return message_text("", content_items)[:length] if content_items else ""
