"""Table rows for statements written by hand, made from unsaved model instances: every
concrete column of the model, with the value Django would store and its SQL type, so a
field added to a model is written with its default without anyone listing it here."""

from dataclasses import dataclass
from typing import Any

from django.db import connections, models


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
    connection = connections["default"]
    fields = [
        field
        for field in instance._meta.concrete_fields
        if not field.primary_key and field.column not in filled_by_statement
    ]
    return Row(
        table=instance._meta.db_table,
        columns=tuple(str(field.column) for field in fields),
        types=tuple(str(field.db_type(connection)) for field in fields),
        values=tuple(
            field.get_db_prep_save(getattr(instance, field.attname), connection) for field in fields
        ),
    )
