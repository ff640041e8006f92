"""Our public JSON shapes written by PostgreSQL: the SQL of a conversation, a customer and
(in inbox.json_sql_messages) a message as JSON text, and what Python adds to a row of it.

The API's JSON renderer and `inbox.representations` define the shapes; here PostgreSQL
writes the same bytes (keys in the same order, compact separators, the same string
escapes and times). Strings go through `to_json`, which escapes what Python's encoder
escapes; times are written as `representations._time` writes them. What PostgreSQL would
write otherwise (a customer's attributes: jsonb's text has spaces) or cannot write (a
message's attachments: their links are signed) Python adds.
`tests/inbox/test_api_json_rows.py` holds the two ways equal.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Model
from django.utils.dateparse import parse_datetime

from customers.models import Customer, Identity, IdentityClaim
from customers.plain_sql import quoted_column, quoted_table
from inbox.json_sql_writing import (
    json_array_of,
    json_members,
    json_object,
    json_string,
    json_text,
    json_time,
)
from inbox.models import Conversation, Label, SlaPolicy, Team, User
from inbox.representations import (
    CLAIM_ROW_FIELDS,
    CONVERSATION_ROW_FIELDS,
    CUSTOMER_ROW_FIELDS,
    IDENTITY_ROW_FIELDS,
    SLA_TARGETS,
)

# What str.strip() removes around a full name, as far as names hold it.
_WHITESPACE = "' \t\n\r\x0b\x0c'"


def operator_json(id_column: str) -> str:
    """`{"id", "username", "name"}` of the user with this id (name as User.display_name),
    or null."""
    user = {field: quoted_column(User, field) for field in ("id", "username", "first_name")}
    last_name = quoted_column(User, "last_name")
    full_name = f"btrim(u.{user['first_name']} || ' ' || u.{last_name}, {_WHITESPACE})"
    operator = json_object(
        [
            ("id", f"u.{user['id']}"),
            ("username", json_string(f"u.{user['username']}")),
            ("name", json_string(f"COALESCE(NULLIF({full_name}, ''), u.{user['username']})")),
        ]
    )
    return (
        f"COALESCE((SELECT {operator} FROM {quoted_table(User)} u "
        f"WHERE u.{user['id']} = {id_column}), 'null')"
    )


def own_columns(fields: tuple[str, ...]) -> tuple[str, ...]:
    """The row fields of the model itself (its own columns: "channel_id", not
    "channel__name")."""
    return tuple(field for field in fields if "__" not in field)


def _conversation_json(alias: str) -> str:
    c = {
        name: f"{alias}.{quoted_column(Conversation, name)}"
        for name in own_columns(CONVERSATION_ROW_FIELDS)
    }
    channel = _channel_model()
    ch = {field: quoted_column(channel, field) for field in ("id", "kind", "name")}
    customer_id, customer_name = quoted_column(Customer, "id"), quoted_column(Customer, "name")
    team_id, team_name = quoted_column(Team, "id"), quoted_column(Team, "name")
    labelled = Conversation.labels.through
    label_id, label_name = quoted_column(Label, "id"), quoted_column(Label, "name")
    label = json_object(
        [
            ("id", f"l.{label_id}"),
            ("name", json_string(f"l.{label_name}")),
            ("color", json_string(f"l.{quoted_column(Label, 'color')}")),
        ]
    )
    labels = json_array_of(
        label,
        order_by=f"l.{label_name}",
        source=f"FROM {quoted_table(labelled)} cl JOIN {quoted_table(Label)} l "
        f"ON l.{label_id} = cl.{quoted_column(labelled, 'label')} "
        f"WHERE cl.{quoted_column(labelled, 'conversation')} = {c['id']}",
    )
    channel_object = json_object(
        [
            ("id", f"ch.{ch['id']}"),
            ("kind", json_string(f"ch.{ch['kind']}")),
            ("name", json_string(f"ch.{ch['name']}")),
        ]
    )
    customer_name_sql = (
        f"(SELECT cu.{customer_name} FROM {quoted_table(Customer)} cu "
        f"WHERE cu.{customer_id} = {c['customer_id']})"
    )
    team_object = json_object([("id", f"t.{team_id}"), ("name", json_string(f"t.{team_name}"))])
    return json_object(
        [
            ("id", c["id"]),
            ("status", json_string(c["status"])),
            ("priority", json_string(c["priority"])),
            ("subject", json_string(c["subject"])),
            (
                "channel",
                f"(SELECT {channel_object} FROM {quoted_table(channel)} ch "
                f"WHERE ch.{ch['id']} = {c['channel_id']})",
            ),
            (
                "customer",
                json_object([("id", c["customer_id"]), ("name", json_string(customer_name_sql))]),
            ),
            ("assignee", operator_json(c["assignee_id"])),
            (
                "team",
                f"COALESCE((SELECT {team_object} FROM {quoted_table(Team)} t "
                f"WHERE t.{team_id} = {c['team_id']}), 'null')",
            ),
            ("last_message_at", json_time(c["last_message_at"])),
            ("first_response_at", json_time(c["first_response_at"])),
            ("resolved_at", json_time(c["resolved_at"])),
            ("resolved_by", operator_json(c["resolved_by_id"])),
            ("snoozed_until", json_time(c["snoozed_until"])),
            ("labels", f"'[' || {labels} || ']'"),
            ("created_at", json_time(c["created_at"])),
            ("updated_at", json_time(c["updated_at"])),
            ("sla", _sla(c)),
        ]
    )


def _sla(c: dict[str, str]) -> str:
    """The conversation's SLA as `inbox.representations._sla_from_row` writes it, or null."""
    policy_id, policy_name = quoted_column(SlaPolicy, "id"), quoted_column(SlaPolicy, "name")
    name = (
        f"(SELECT p.{policy_name} FROM {quoted_table(SlaPolicy)} p "
        f"WHERE p.{policy_id} = {c['sla_policy_id']})"
    )
    breached = ", ".join(
        f"""CASE WHEN {c[f"{target}_breached"]} THEN '"{target}"' END""" for target in SLA_TARGETS
    )
    sla = json_object(
        [
            ("policy", json_object([("id", c["sla_policy_id"]), ("name", json_string(name))])),
            ("first_response_due_at", json_time(c["first_response_due_at"])),
            ("next_response_due_at", json_time(c["next_response_due_at"])),
            ("resolution_due_at", json_time(c["resolution_due_at"])),
            ("breached", f"'[' || concat_ws(',', {breached}) || ']'"),
        ]
    )
    return f"CASE WHEN {c['sla_policy_id']} IS NULL THEN 'null' ELSE {sla} END"


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


def _scalar_member(model: type[Model], field: str, alias: str) -> tuple[str, str]:
    """A text or boolean field of the row as a member of its JSON object."""
    column = f"{alias}.{quoted_column(model, field)}"
    if isinstance(model._meta.get_field(field), BooleanField):
        return field, f"to_json({column})::text"
    return field, json_string(column)


def _customer_json_parts(alias: str) -> tuple[str, str]:
    """The customer's shape before and after its attributes, which PostgreSQL would write
    with spaces (jsonb's text) and Python adds (see _customer_text)."""
    cu = {field: f"{alias}.{quoted_column(Customer, field)}" for field in CUSTOMER_ROW_FIELDS}
    identity = {field: quoted_column(Identity, field) for field in ("id", "customer")}
    claim = {field: quoted_column(IdentityClaim, field) for field in ("id", "customer")}
    identities = json_array_of(
        json_object([_scalar_member(Identity, field, "i") for field in IDENTITY_ROW_FIELDS]),
        order_by=f"i.{identity['id']}",
        source=f"FROM {quoted_table(Identity)} i WHERE i.{identity['customer']} = {cu['id']}",
    )
    claims = json_array_of(
        json_object([_scalar_member(IdentityClaim, field, "k") for field in CLAIM_ROW_FIELDS]),
        order_by=f"k.{claim['id']}",
        source=f"FROM {quoted_table(IdentityClaim)} k WHERE k.{claim['customer']} = {cu['id']}",
    )
    before = json_members(
        [
            ("id", cu["id"]),
            ("name", json_string(cu["name"])),
            ("email", json_string(cu["email"])),
            ("phone", json_string(cu["phone"])),
            ("language", json_string(cu["language"])),
            ("attributes", ""),
        ],
        opens=True,
    )
    after = json_members(
        [
            ("identities", f"'[' || {identities} || ']'"),
            ("claims", f"'[' || {claims} || ']'"),
            ("created_at", json_time(cu["created_at"])),
            ("updated_at", json_time(cu["updated_at"])),
        ]
    )
    after = f"{after} || '}}'"
    return before, after


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
        attributes = json_text(json.loads(attributes))
    return f"{before}{attributes}{after}"


# A cursor's position as the statement can take it, or None for one no cursor of ours
# holds (a client may send anything).
def _time_position(value: str) -> Any:
    try:
        return parse_datetime(value)
    except ValueError:  # well formed, but no time: "2026-13-45 10:00"
        return None


_LARGEST_ID = 2**63 - 1


def id_position(value: str) -> Any:
    is_number = value.isascii() and value.isdigit() and len(value) <= 19
    return int(value) if is_number and int(value) <= _LARGEST_ID else None


@dataclass(frozen=True)
class Shape:
    select: Callable[[], str]
    alias: str
    # The pagination's ordering field (a column of the same name, ties broken by id), and
    # how a cursor's position of it reads.
    position_field: str
    position: Callable[[str], Any]
    json: Callable[[tuple], str]

    def order(self, direction: str) -> str:
        columns = dict.fromkeys([self.position_field, "id"])
        return ", ".join(
            f"{self.alias}.{connection.ops.quote_name(column)} {direction}" for column in columns
        )


CONVERSATIONS = Shape(
    select=_conversation_select,
    alias="c",
    position_field="last_message_at",
    position=_time_position,
    json=_conversation_text,
)
CUSTOMERS = Shape(
    select=_customer_select,
    alias="cu",
    position_field="id",
    position=id_position,
    json=_customer_text,
)
