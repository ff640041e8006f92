"""Table rows for statements written by hand, made from unsaved model instances: every
concrete column of the model, with the value Django would store and its SQL type, so a
field added to a model is written with its default without anyone listing it here. The
values suit the default database, PostgreSQL or SQLite."""

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connections, models

from customers import plain_sql


@dataclass(frozen=True)
class Row:
    """One row of `table`; `columns`, `types` and `values` in the model's field order."""

    table: str
    columns: tuple[str, ...]
    types: tuple[str, ...]
    values: tuple[Any, ...]

    @property
    def shape(self) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        """What a statement writing this row depends on (not the values)."""
        return (self.table, self.columns, self.types)

    def named(self, prefix: str) -> dict[str, Any]:
        """The values as statement parameters `<prefix><column>`."""
        return {
            f"{prefix}{column}": value
            for column, value in zip(self.columns, self.values, strict=True)
        }


def model_row(instance: models.Model, *, filled_by_statement: tuple[str, ...] = ()) -> Row:
    """`instance` as a row to insert: its primary key and the columns the statement fills
    itself (a foreign key to a row inserted by the same statement) left out."""
    table, attributes, preparations, columns, types = _layout(type(instance), filled_by_statement)
    values = [getattr(instance, attribute) for attribute in attributes]
    for index, prepare in preparations:
        values[index] = prepare(values[index], _database())
    return Row(table=table, columns=columns, types=types, values=tuple(values))


def row_insert(instance: models.Model) -> None:
    """Insert the unsaved instance as model_row makes it, in a prepared statement, and
    give it its new primary key: what `save()` does for a new row, without composing the
    statement each time. Fields Django fills on save (`auto_now`) must be set first."""
    row = model_row(instance)
    ((instance.pk,),) = plain_sql.fetch_all(_insert_statement(row.shape), row.values)
    instance._state.adding = False
    instance._state.db = _database().alias


@cache
def _insert_statement(shape: tuple[str, tuple[str, ...], tuple[str, ...]]) -> str:
    table, columns, _ = shape
    placeholders = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) RETURNING id"


@cache
def _database():
    """The default database's backend, for its types and value adapters only (no query
    runs through it). Looked up once: in async code each task would build its own."""
    return connections["default"]


@cache
def _layout(model: type[models.Model], filled_by_statement: tuple[str, ...]):
    fields = tuple(
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and field.column not in filled_by_statement
    )
    return (
        model._meta.db_table,
        tuple(field.attname for field in fields),
        # Values the driver takes as they are skip Django's preparation: this runs for
        # every message of the webhook path.
        tuple(
            (index, field.get_db_prep_save)
            for index, field in enumerate(fields)
            if field.get_internal_type() not in _taken_as_they_are(_database().vendor)
        ),
        tuple(str(field.column) for field in fields),
        tuple(str(field.db_type(_database())) for field in fields),
    )


_TAKEN_AS_THEY_ARE = {
    "BigIntegerField",
    "BinaryField",
    "BooleanField",
    "CharField",
    "DateTimeField",
    "EmailField",
    "ForeignKey",
    "IntegerField",
    "PositiveIntegerField",
    "TextField",
}


def _taken_as_they_are(vendor: str) -> set[str]:
    # SQLite keeps times as UTC text, which Django's preparation writes.
    return _TAKEN_AS_THEY_ARE if vendor == "postgresql" else _TAKEN_AS_THEY_ARE - {"DateTimeField"}
