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

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from django.db import connection
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from customers.models import Customer, Identity, IdentityClaim
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
    # One to_char, its zero fraction cut: half the cost of testing for whole seconds.
    written = f"""to_char({expression} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')"""
    return f"""COALESCE('"' || replace({written}, '.000000', '') || 'Z"', 'null')"""


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


def _customer_json_parts(alias: str) -> tuple[str, str]:
    """The customer's shape before and after its attributes, which PostgreSQL would write
    with spaces (jsonb's text) and Python adds (see _customer_text)."""
    cu = {field: f"{alias}.{quoted_column(Customer, field)}" for field in _CUSTOMER_COLUMNS}
    identity = {field: quoted_column(Identity, field) for field in _IDENTITY_COLUMNS}
    claim = {field: quoted_column(IdentityClaim, field) for field in ("id", "customer", "kind")}
    claim_value = quoted_column(IdentityClaim, "value")
    identities = (
        f"""(SELECT COALESCE(string_agg('{{"kind":' || {json_string(f"i.{identity['kind']}")}"""
        f""" || ',"value":' || {json_string(f"i.{identity['value']}")} || ',"is_reachable":' """
        f"""|| to_json(i.{identity["is_reachable"]})::text || '}}', ',' ORDER BY """
        f"""i.{identity["id"]}), '') FROM {quoted_table(Identity)} i """
        f"""WHERE i.{identity["customer"]} = {cu["id"]})"""
    )
    claims = (
        f"""(SELECT COALESCE(string_agg('{{"kind":' || {json_string(f"k.{claim['kind']}")}"""
        f""" || ',"value":' || {json_string(f"k.{claim_value}")} || '}}', ',' ORDER BY """
        f"""k.{claim["id"]}), '') FROM {quoted_table(IdentityClaim)} k """
        f"""WHERE k.{claim["customer"]} = {cu["id"]})"""
    )
    before = " || ".join(
        [
            f"""'{{"id":' || {cu["id"]}""",
            f"""',"name":' || {json_string(cu["name"])}""",
            f"""',"email":' || {json_string(cu["email"])}""",
            f"""',"phone":' || {json_string(cu["phone"])}""",
            """',"attributes":'""",
        ]
    )
    after = " || ".join(
        [
            f"""',"identities":[' || {identities} || ']'""",
            f"""',"claims":[' || {claims} || ']'""",
            f"""',"created_at":' || {json_time(cu["created_at"])}""",
            f"""',"updated_at":' || {json_time(cu["updated_at"])} || '}}'""",
        ]
    )
    return before, after


_CUSTOMER_COLUMNS = ("id", "name", "email", "phone", "attributes", "created_at", "updated_at")
_IDENTITY_COLUMNS = ("id", "customer", "kind", "value", "is_reachable")


@cache
def _customer_select() -> str:
    before, after = _customer_json_parts("cu")
    attributes = quoted_column(Customer, "attributes")
    customer_id = quoted_column(Customer, "id")
    return (
        f"SELECT cu.{customer_id}, cu.{customer_id}, {before}, cu.{attributes}::text, {after} "
        f"FROM {quoted_table(Customer)} cu"
    )


def _conversation_text(row: tuple) -> str:
    return row[2]


def _customer_text(row: tuple) -> str:
    before, attributes, after = row[2:]
    if attributes != "{}":
        # As the API's renderer writes a dict, in the order PostgreSQL keeps the keys.
        attributes = json.dumps(json.loads(attributes), ensure_ascii=False, separators=(",", ":"))
    return f"{before}{attributes}{after}"


def _time_position(value: str) -> Any:
    return parse_datetime(value)


def _id_position(value: str) -> Any:
    return int(value) if value.isascii() and value.isdigit() else None


@dataclass(frozen=True)
class _Shape:
    select: Callable[[], str]
    alias: str
    # The pagination's ordering field, its column, and how a cursor's position of it reads.
    position_field: str
    position_column: str
    position: Callable[[str], Any]
    json: Callable[[tuple], str]

    def order(self, direction: str) -> str:
        columns = dict.fromkeys([self.position_column, "id"])
        return ", ".join(
            f"{self.alias}.{connection.ops.quote_name(column)} {direction}" for column in columns
        )


CONVERSATIONS = _Shape(
    select=_conversation_select,
    alias="c",
    position_field="last_message_at",
    position_column="last_message_at",
    position=_time_position,
    json=_conversation_text,
)
CUSTOMERS = _Shape(
    select=_customer_select,
    alias="cu",
    position_field="id",
    position_column="id",
    position=_id_position,
    json=_customer_text,
)


@dataclass(frozen=True)
class JsonRows:
    """Rows of a shape as {"id", <its position field>, "json"}: what the API's cursor
    pagination needs of a row to find its position, and the row's public shape as text.

    Answers the few calls the cursor paginator makes of a queryset (order_by, a filter on
    the ordering field, a slice) so that it pages these rows as it pages querysets."""

    shape: _Shape
    conditions: tuple[str, ...] = ()
    params: tuple[Any, ...] = ()
    is_reversed: bool = False

    def where(self, condition: str, *params: Any) -> "JsonRows":
        return replace(
            self, conditions=(*self.conditions, condition), params=(*self.params, *params)
        )

    def order_by(self, *ordering: str) -> "JsonRows":
        # The pagination's ordering (descending) or its reverse.
        return replace(self, is_reversed=not ordering[0].startswith("-"))

    def filter(self, **position: str) -> "JsonRows":
        # The position comes from a cursor a client sent back.
        ((lookup, value),) = position.items()
        value = self.shape.position(value)
        if value is None:
            raise NotFound(CursorPagination.invalid_cursor_message)
        operator = {"__lt": "<", "__gt": ">"}[lookup.removeprefix(self.shape.position_field)]
        column = connection.ops.quote_name(self.shape.position_column)
        return self.where(f"{self.shape.alias}.{column} {operator} %s", value)

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        where = f" WHERE {' AND '.join(self.conditions)}" if self.conditions else ""
        # As Django orders on PostgreSQL: NULLs count as larger than any value.
        order = self.shape.order("ASC" if self.is_reversed else "DESC")
        sql = f"{self.shape.select()}{where} ORDER BY {order} LIMIT %s OFFSET %s"
        start = window.start or 0
        rows = row_lookups.fetch_all_prepared(sql, [*self.params, window.stop - start, start])
        return [
            {"id": row[0], self.shape.position_field: row[1], "json": self.shape.json(row)}
            for row in rows
        ]


def conversation_json_rows(
    *, channel_ids: Sequence[int] | None, conditions: Sequence[tuple[str, Sequence[Any]]] = ()
) -> JsonRows:
    """Conversations in these channels (None: all), meeting the conditions (SQL on the
    conversation as `c`, with their parameters)."""
    rows = JsonRows(CONVERSATIONS)
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


def customer_json_rows(
    *, channel_ids: Sequence[int] | None, matching: tuple[str, Sequence[Any]] | None
) -> JsonRows:
    """Live (not merged-away) customers, those with a conversation in these channels
    (None: all), whose id is among those the `matching` SQL selects (None: all)."""
    customer_id = quoted_column(Customer, "id")
    rows = JsonRows(CUSTOMERS).where(f"cu.{quoted_column(Customer, 'merged_into')} IS NULL")
    if matching is not None:
        sql, params = matching
        rows = rows.where(f"cu.{customer_id} IN ({sql})", *params)
    if channel_ids is not None:
        rows = rows.where(
            f"EXISTS (SELECT 1 FROM {quoted_table(Conversation)} c "
            f"WHERE c.{quoted_column(Conversation, 'customer')} = cu.{customer_id} "
            f"AND c.{quoted_column(Conversation, 'channel')} = ANY(%s))",
            list(channel_ids),
        )
    return rows
