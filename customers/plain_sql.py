"""Reads in plain SQL, for the paths where composing a statement through the ORM costs
more than running it: the statement text is fixed, the parameters go to the database
driver as they are, and where connections are pooled PostgreSQL prepares the statement
once per connection. Tables and columns come from the models; the SQL is the same on
PostgreSQL and SQLite.

It lives in the lowest app so that every app may use it without importing `config`."""

from collections.abc import Sequence
from functools import cache
from typing import Any, cast

import psycopg
from django.db import connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Field, Model


def quoted_table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def quoted_column(model: type[Model], field: str) -> str:
    return connection.ops.quote_name(cast(Field, model._meta.get_field(field)).column or "")


def fetch_all(sql: str, params: Sequence[Any]) -> list[tuple]:
    """The rows a statement selects (see fetch_all_prepared on PostgreSQL)."""
    if connection.vendor == "postgresql":
        return fetch_all_prepared(sql, params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def execute(sql: str, params: Sequence[Any]) -> int:
    """Run a statement that returns no rows, prepared as fetch_all_prepared does on
    PostgreSQL; the number of rows it wrote."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount
    with _prepared_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def row_update(instance: Model, fields: Sequence[str]) -> int:
    """Write these fields of the instance's row with the values it holds, as
    `save(update_fields=...)` writes them but without touching `auto_now` fields (set
    those first); the number of rows written."""
    statement, written = _row_update_statement(type(instance), tuple(fields))
    values = [
        field.get_db_prep_save(getattr(instance, field.attname), connection) for field in written
    ]
    return execute(statement, [*values, instance.pk])


@cache
def _row_update_statement(model: type[Model], fields: tuple[str, ...]) -> tuple[str, list[Field]]:
    written = [cast(Field, model._meta.get_field(name)) for name in fields]
    assignments = ", ".join(f"{quoted_column(model, name)} = %s" for name in fields)
    primary_key = connection.ops.quote_name(cast(Field, model._meta.pk).column or "")
    return f"UPDATE {quoted_table(model)} SET {assignments} WHERE {primary_key} = %s", written


def converted(model: type[Model], fields: Sequence[str], rows: list[tuple]) -> list[tuple]:
    """The rows' values as the ORM gives them: the backend's and the fields' converters
    applied (SQLite's booleans and times, JSON, ...); on PostgreSQL most fields have none."""
    converters = _converters(model, tuple(fields), connection.vendor)
    if not converters:
        return rows
    result = []
    for row in rows:
        values = list(row)
        for index, functions, column in converters:
            for function in functions:
                values[index] = function(values[index], column, connection)
        result.append(tuple(values))
    return result


@cache
def _converters(model: type[Model], fields: tuple[str, ...], vendor: str) -> list[tuple]:
    # Found once per process: the same fields of a model convert the same way.
    converters = []
    for index, name in enumerate(fields):
        column = cast(Field, model._meta.get_field(name)).get_col(model._meta.db_table)
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if functions:
            converters.append((index, functions, column))
    return converters


def fetch_all_prepared(sql: str, params: Sequence[Any]) -> list[tuple]:
    """The rows a statement selects, on PostgreSQL with the parameters bound by the server
    and, where connections are pooled (and so outlive their request), the statement
    prepared on its connection: PostgreSQL parses and analyses it once per connection
    rather than on every request. Behind an external pooler (no pool of ours) nothing is
    prepared, as a pooler in transaction mode may hand the next statement another server
    connection."""
    with _prepared_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _prepared_cursor() -> Any:
    connection.ensure_connection()
    is_pooled = connection.pool is not None  # type: ignore[attr-defined]
    cursor_class = _PreparedCursor if is_pooled else psycopg.Cursor
    with connection.wrap_database_errors:
        raw = cursor_class(connection.connection)
    if connection.queries_logged:
        connection.validate_thread_sharing()
        return _ServerBoundDebugCursor(raw, connection)
    return connection._prepare_cursor(raw)  # type: ignore[attr-defined]


class _ServerBoundDebugCursor(CursorDebugWrapper):
    """Django's query log (tests, DEBUG) with each statement's text and parameters: Django
    reads the text of client-bound statements only, and logged these as None."""

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
            return CursorWrapper.execute(self, sql, params)


class _PreparedCursor(psycopg.Cursor):
    def execute(self, query, params=None, *, prepare=None, binary=None):  # type: ignore[override]
        return super().execute(query, params, prepare=True, binary=binary)
