"""Small reads by id that complete a page of list rows, in plain SQL.

The inbox and API lists read a page as flat rows (see inbox.selectors) and then fetch, by
id, what the page refers to: operators, labels, identities, attachments. Through the ORM
each id of an `IN (...)` list costs ~40 Python calls to prepare, so a page of 25 ids
costs ~1,000 calls per lookup, a third of a whole list request; here the ids go to the
database driver as they are. Tables and columns come from the models; the SQL is the
same on PostgreSQL and SQLite.
"""

from collections.abc import Collection, Sequence
from typing import Any, TypeVar, cast

from django.db import connection
from django.db.models import Field, Model

from inbox.models import Conversation, Label, Team

ModelT = TypeVar("ModelT", bound=Model)


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model: type[Model], field: str) -> str:
    return connection.ops.quote_name(cast(Field, model._meta.get_field(field)).column or "")


def rows_where_in(
    model: type[Model],
    fields: Sequence[str],
    *,
    key: str,
    values: Collection[Any],
    order_by: str = "",
) -> list[tuple]:
    """The given fields (concrete fields of the model itself) of the rows whose `key` is
    one of the values, as tuples, optionally in ascending order of a field."""
    if not values:
        return []
    columns = ", ".join(_column(model, field) for field in fields)
    placeholders = ", ".join(["%s"] * len(values))
    order = f" ORDER BY {_column(model, order_by)}" if order_by else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {_table(model)} WHERE {_column(model, key)} "
            f"IN ({placeholders}){order}",
            list(values),
        )
        return cursor.fetchall()


def models_where_in(
    model: type[ModelT], *, key: str, values: Collection[Any], order_by: str = ""
) -> list[ModelT]:
    """As rows_where_in, the model's instances with every concrete field loaded."""
    fields = [field.attname for field in model._meta.concrete_fields]
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


def channel_ids_of_teams_of(user_id: int) -> list[int]:
    """The channels served by any team the user belongs to."""
    channel_teams, team_members = Team.channels.through, Team.members.through
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT {_column(channel_teams, 'channel')} FROM {_table(channel_teams)} "
            f"WHERE {_column(channel_teams, 'team')} IN (SELECT {_column(team_members, 'team')} "
            f"FROM {_table(team_members)} WHERE {_column(team_members, 'user')} = %s)",
            [user_id],
        )
        return [channel_id for (channel_id,) in cursor.fetchall()]


def labels_of(conversation_ids: Collection[int]) -> dict[int, list[tuple]]:
    """Each conversation's labels as (id, name, color), by name."""
    if not conversation_ids:
        return {}
    labelled = Conversation.labels.through
    conversation, label = _column(labelled, "conversation"), _column(labelled, "label")
    placeholders = ", ".join(["%s"] * len(conversation_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.{conversation}, l.{_column(Label, 'id')}, l.{_column(Label, 'name')}, "
            f"l.{_column(Label, 'color')} FROM {_table(labelled)} c JOIN {_table(Label)} l "
            f"ON l.{_column(Label, 'id')} = c.{label} WHERE c.{conversation} IN ({placeholders}) "
            f"ORDER BY l.{_column(Label, 'name')}",
            list(conversation_ids),
        )
        return grouped(cursor.fetchall())
