"""Conversation rows written as JSON text by PostgreSQL, for the API's lists and detail.

The API's JSON renderer and `inbox.representations.conversation_row_representation`
define the shape; here PostgreSQL writes the same bytes (keys in the same order, compact
separators, the same string escapes and times), so that a page costs Python one string
per row instead of a dict of dicts to build and a tree to encode. Strings go through
`to_json`, which escapes what Python's encoder escapes; times are written as
`_time` writes them. `tests/inbox/test_api_json_rows.py` holds the two ways equal.

Statements are prepared on their connection (see row_lookups.fetch_all_prepared): one
text per shape of request, its plan kept with the pooled connection.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from customers.models import Customer
from inbox import row_lookups
from inbox.models import Conversation, Label, Team, User
from inbox.row_lookups import quoted_column, quoted_table

# What str.strip() removes around a full name, as far as names hold it.
_WHITESPACE = "' \t\n\r\x0b\x0c'"


def json_string(expression: str) -> str:
    """A text expression as a JSON string, or null."""
    return f"COALESCE(to_json({expression})::text, 'null')"


def json_time(expression: str) -> str:
    """A timestamptz as `inbox.representations._time` writes it (ISO 8601 in UTC with a Z,
    microseconds only when there are some), or null."""
    utc = f"({expression} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN {expression} IS NULL THEN 'null' ELSE "
        f"""'"' || to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS') || """
        f"CASE WHEN date_trunc('second', {utc}) = {utc} THEN '' "
        f"ELSE to_char({utc}, '.US') END || 'Z\"' END"
    )


def _operator(id_column: str) -> str:
    """`{"id", "username", "name"}` of the user with this id (name as User.display_name),
    or null."""
    user = {field: quoted_column(User, field) for field in ("id", "username", "first_name")}
    last_name = quoted_column(User, "last_name")
    full_name = f"btrim(u.{user['first_name']} || ' ' || u.{last_name}, {_WHITESPACE})"
    return (
        f"COALESCE((SELECT '{{\"id\":' || u.{user['id']} || ',\"username\":' || "
        f"to_json(u.{user['username']})::text || ',\"name\":' || "
        f"to_json(COALESCE(NULLIF({full_name}, ''), u.{user['username']}))::text || '}}' "
        f"FROM {quoted_table(User)} u WHERE u.{user['id']} = {id_column}), 'null')"
    )


def _conversation_json(alias: str) -> str:
    c = {name: f"{alias}.{quoted_column(Conversation, name)}" for name in _CONVERSATION_COLUMNS}
    channel = _channel_model()
    ch = {field: quoted_column(channel, field) for field in ("id", "kind", "name")}
    customer_id, customer_name = quoted_column(Customer, "id"), quoted_column(Customer, "name")
    team_id, team_name = quoted_column(Team, "id"), quoted_column(Team, "name")
    labelled = Conversation.labels.through
    label = {field: quoted_column(Label, field) for field in ("id", "name", "color")}
    labels = (
        f"(SELECT COALESCE(string_agg('{{\"id\":' || l.{label['id']} || ',\"name\":' || "
        f"to_json(l.{label['name']})::text || ',\"color\":' || to_json(l.{label['color']})::text"
        f" || '}}', ',' ORDER BY l.{label['name']}), '') "
        f"FROM {quoted_table(labelled)} cl JOIN {quoted_table(Label)} l "
        f"ON l.{label['id']} = cl.{quoted_column(labelled, 'label')} "
        f"WHERE cl.{quoted_column(labelled, 'conversation')} = {c['id']})"
    )
    parts = [
        f"""'{{"id":' || {c["id"]}""",
        f"""',"status":' || {json_string(c["status"])}""",
        f"""',"priority":' || {json_string(c["priority"])}""",
        f"""',"subject":' || {json_string(c["subject"])}""",
        f"""',"channel":' || (SELECT '{{"id":' || ch.{ch["id"]} || ',"kind":' || """
        f"""{json_string(f"ch.{ch['kind']}")} || ',"name":' || {json_string(f"ch.{ch['name']}")}"""
        f""" || '}}' FROM {quoted_table(channel)} ch WHERE ch.{ch["id"]} = {c["channel"]})""",
        f"""',"customer":{{"id":' || {c["customer"]} || ',"name":' || """
        f"""COALESCE((SELECT to_json(cu.{customer_name})::text FROM {quoted_table(Customer)} cu """
        f"""WHERE cu.{customer_id} = {c["customer"]}), 'null') || '}}'""",
        f"""',"assignee":' || {_operator(c["assignee"])}""",
        f"""',"team":' || COALESCE((SELECT '{{"id":' || t.{team_id} || ',"name":' || """
        f"""{json_string(f"t.{team_name}")} || '}}' FROM {quoted_table(Team)} t """
        f"""WHERE t.{team_id} = {c["team"]}), 'null')""",
        f"""',"last_message_at":' || {json_time(c["last_message_at"])}""",
        f"""',"first_response_at":' || {json_time(c["first_response_at"])}""",
        f"""',"resolved_at":' || {json_time(c["resolved_at"])}""",
        f"""',"resolved_by":' || {_operator(c["resolved_by"])}""",
        f"""',"snoozed_until":' || {json_time(c["snoozed_until"])}""",
        f"""',"labels":[' || {labels} || ']'""",
        f"""',"created_at":' || {json_time(c["created_at"])}""",
        f"""',"updated_at":' || {json_time(c["updated_at"])} || '}}'""",
    ]
    return " || ".join(parts)


_CONVERSATION_COLUMNS = (
    "id",
    "status",
    "priority",
    "subject",
    "channel",
    "customer",
    "assignee",
    "team",
    "last_message_at",
    "first_response_at",
    "resolved_at",
    "resolved_by",
    "snoozed_until",
    "created_at",
    "updated_at",
)


def _channel_model():
    return Conversation._meta.get_field("channel").related_model


@cache
def _conversation_select() -> str:
    # Built once: the statement's text is the key of its prepared plan.
    c = quoted_column
    return (
        f"SELECT c.{c(Conversation, 'id')}, c.{c(Conversation, 'last_message_at')}, "
        f"{_conversation_json('c')} FROM {quoted_table(Conversation)} c"
    )


@dataclass(frozen=True)
class ConversationJsonRows:
    """Conversations as rows of {"id", "last_message_at", "json"}: what the API's cursor
    pagination needs of a row to find its position, and the row's public shape as text.

    Answers the few calls the cursor paginator makes of a queryset (order_by, a filter on
    the ordering field, a slice) so that it pages these rows as it pages querysets."""

    conditions: tuple[str, ...] = ()
    params: tuple[Any, ...] = ()
    is_reversed: bool = False

    def where(self, condition: str, *params: Any) -> "ConversationJsonRows":
        return ConversationJsonRows(
            (*self.conditions, condition), (*self.params, *params), self.is_reversed
        )

    def order_by(self, *ordering: str) -> "ConversationJsonRows":
        # The pagination's ordering ("-last_message_at", "-id") or its reverse.
        is_reversed = not ordering[0].startswith("-")
        return ConversationJsonRows(self.conditions, self.params, is_reversed)

    def filter(self, **position: str) -> "ConversationJsonRows":
        # The position comes from a cursor a client sent back: a time, or nothing to page by.
        ((lookup, value),) = position.items()
        moment = parse_datetime(value)
        if moment is None:
            raise NotFound(CursorPagination.invalid_cursor_message)
        operator = {"last_message_at__lt": "<", "last_message_at__gt": ">"}[lookup]
        column = quoted_column(Conversation, "last_message_at")
        return self.where(f"c.{column} {operator} %s", moment)

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        direction = "ASC" if self.is_reversed else "DESC"
        last_message_at, conversation_id = (
            quoted_column(Conversation, field) for field in ("last_message_at", "id")
        )
        where = f" WHERE {' AND '.join(self.conditions)}" if self.conditions else ""
        # As Django orders on PostgreSQL: NULLs count as larger than any time.
        sql = (
            f"{_conversation_select()}{where} ORDER BY c.{last_message_at} {direction}, "
            f"c.{conversation_id} {direction} LIMIT %s OFFSET %s"
        )
        start = window.start or 0
        rows = row_lookups.fetch_all_prepared(sql, [*self.params, window.stop - start, start])
        return [
            {"id": row_id, "last_message_at": moment, "json": text} for row_id, moment, text in rows
        ]


def conversation_json_rows(
    *, channel_ids: Sequence[int] | None, conditions: Sequence[tuple[str, Sequence[Any]]] = ()
) -> ConversationJsonRows:
    """Conversations in these channels (None: all), meeting the conditions (SQL on the
    conversation as `c`, with their parameters)."""
    rows = ConversationJsonRows()
    if channel_ids is not None:
        column = quoted_column(Conversation, "channel")
        rows = rows.where(f"c.{column} = ANY(%s)", list(channel_ids))
    for condition, params in conditions:
        rows = rows.where(condition, *params)
    return rows


def conversation_json_by_id(
    *, channel_ids: Sequence[int] | None, conversation_id: int
) -> str | None:
    """One conversation's public shape as JSON text, if it is in these channels."""
    rows = conversation_json_rows(
        channel_ids=channel_ids,
        conditions=[(f"c.{quoted_column(Conversation, 'id')} = %s", [conversation_id])],
    )[0:1]
    return rows[0]["json"] if rows else None
