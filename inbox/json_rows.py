"""Rows written as JSON text by PostgreSQL (inbox.json_sql), paged as the API pages
querysets, for the API's conversation, customer and message lists and the conversation
detail: a page costs Python one string per row instead of a dict of dicts to build and a
tree to encode.

Statements are prepared on their connection (see customers.plain_sql.fetch_all_prepared): one
text per shape of request, its plan kept with the pooled connection.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.db import connection
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from customers.models import Customer
from customers.plain_sql import fetch_all_prepared, quoted_column, quoted_table
from inbox.json_sql import CONVERSATIONS, CUSTOMERS, Shape
from inbox.json_sql_messages import MESSAGES
from inbox.models import Conversation, Message
from inbox.visibility import sql_visible_condition


@dataclass(frozen=True)
class JsonRows:
    """Rows of a shape as {"id", <its position field>, "json"}: what the API's cursor
    pagination needs of a row to find its position, and the row's public shape as text.

    Answers the few calls the cursor paginator makes of a queryset (order_by, a filter on
    the ordering field, a slice) so that it pages these rows as it pages querysets."""

    shape: Shape
    conditions: tuple[str, ...] = ()
    params: tuple[Any, ...] = ()
    direction: str = "DESC"

    def where(self, condition: str, *params: Any) -> "JsonRows":
        return replace(
            self, conditions=(*self.conditions, condition), params=(*self.params, *params)
        )

    def order_by(self, *ordering: str) -> "JsonRows":
        # The pagination's ordering or its reverse, on the shape's position and id.
        return replace(self, direction="DESC" if ordering[0].startswith("-") else "ASC")

    def filter(self, **position: str) -> "JsonRows":
        # The position comes from a cursor a client sent back.
        ((lookup, value),) = position.items()
        value = self.shape.position(value)
        if value is None:
            raise NotFound(CursorPagination.invalid_cursor_message)
        operator = {"__lt": "<", "__gt": ">"}[lookup.removeprefix(self.shape.position_field)]
        column = connection.ops.quote_name(self.shape.position_field)
        return self.where(f"{self.shape.alias}.{column} {operator} %s", value)

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        where = f" WHERE {' AND '.join(self.conditions)}" if self.conditions else ""
        # As Django orders on PostgreSQL: NULLs count as larger than any value.
        order = self.shape.order(self.direction)
        start = window.start or 0
        # The window written out rather than bound: knowing it, PostgreSQL plans the
        # statement for a page (an index read in order) at half the cost; it is the same
        # for nearly every request (a page and one row more, from the cursor's position).
        sql = (
            f"{self.shape.select()}{where} ORDER BY {order} "
            f"LIMIT {int(window.stop - start)} OFFSET {int(start)}"
        )
        rows = fetch_all_prepared(sql, self.params)
        return [
            {"id": row[0], self.shape.position_field: row[1], "json": self.shape.json(row)}
            for row in rows
        ]


def conversation_json_rows(
    *, operator_id: int | None, conditions: Sequence[tuple[str, Sequence[Any]]] = ()
) -> JsonRows:
    """Conversations in the channels this operator's teams serve (None: in all), meeting
    the conditions (SQL on the conversation as `c`, with their parameters)."""
    rows = JsonRows(CONVERSATIONS)
    if operator_id is not None:
        column = quoted_column(Conversation, "channel")
        rows = rows.where(*sql_visible_condition(operator_id, f"c.{column}"))
    for condition, params in conditions:
        rows = rows.where(condition, *params)
    return rows


def conversation_json_by_id(*, operator_id: int | None, conversation_id: int) -> str | None:
    """One conversation's public shape as JSON text, if it is in the channels this
    operator's teams serve (None: in any)."""
    rows = conversation_json_rows(
        operator_id=operator_id,
        conditions=[(f"c.{quoted_column(Conversation, 'id')} = %s", [conversation_id])],
    )[0:1]
    return rows[0]["json"] if rows else None


def customer_json_rows(
    *,
    operator_id: int | None,
    matching: tuple[str, Sequence[Any]] | None,
    health_risk: str | None = None,
) -> JsonRows:
    """Live (not merged-away) customers with a conversation in the channels this
    operator's teams serve (None: all), whose id is among those the `matching` SQL
    selects (None: all), of the stored risk level `health_risk` (None: any)."""
    customer_id = quoted_column(Customer, "id")
    rows = JsonRows(CUSTOMERS).where(f"cu.{quoted_column(Customer, 'merged_into')} IS NULL")
    if health_risk is not None:
        rows = rows.where(f"cu.{quoted_column(Customer, 'health_risk')} = %s", health_risk)
    if matching is not None:
        sql, params = matching
        rows = rows.where(f"cu.{customer_id} IN ({sql})", *params)
    if operator_id is not None:
        channel, served = sql_visible_condition(
            operator_id, f"c.{quoted_column(Conversation, 'channel')}"
        )
        rows = rows.where(
            f"EXISTS (SELECT 1 FROM {quoted_table(Conversation)} c "
            f"WHERE c.{quoted_column(Conversation, 'customer')} = cu.{customer_id} "
            f"AND {channel})",
            served,
        )
    return rows


def message_json_rows(*, operator_id: int | None, conversation_id: int) -> JsonRows | None:
    """The conversation's messages; None when the conversation is absent or not in the
    channels this operator's teams serve (None: in any)."""
    conversation = quoted_column(Conversation, "id")
    sql = f"SELECT 1 FROM {quoted_table(Conversation)} c WHERE c.{conversation} = %s"
    params: list[Any] = [conversation_id]
    if operator_id is not None:
        column = quoted_column(Conversation, "channel")
        served, operator = sql_visible_condition(operator_id, f"c.{column}")
        sql, params = f"{sql} AND {served}", [*params, operator]
    if not fetch_all_prepared(sql, params):
        return None
    message_conversation = quoted_column(Message, "conversation")
    return JsonRows(MESSAGES).where(f"m.{message_conversation} = %s", conversation_id)
