"""SQL expressions that write JSON text as the API's renderer writes it (compact
separators, Python's string escapes, `inbox.representations` times), for the shapes
PostgreSQL writes in inbox.json_sql."""

import json
from typing import Any


def json_text(value: Any) -> str:
    """A value as the API's renderer writes it, for what Python adds to a row."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_string(expression: str) -> str:
    """A text expression as a JSON string, or null."""
    return f"COALESCE(to_json({expression})::text, 'null')"


def json_time(expression: str) -> str:
    """A timestamptz as `inbox.representations._time` writes it (ISO 8601 in UTC with a Z,
    microseconds only when there are some), or null."""
    # One to_char, its zero fraction cut: half the cost of testing for whole seconds.
    written = f"""to_char({expression} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')"""
    return f"""COALESCE('"' || replace({written}, '.000000', '') || 'Z"', 'null')"""


def json_members(members: list[tuple[str, str]], *, opens: bool = False) -> str:
    """Members of a JSON object, `,"key":value` each (the first with `{` where it opens
    the object), from (key, SQL writing the value as JSON) pairs. A value of "" leaves the
    member's value to follow."""
    parts = []
    for index, (key, value) in enumerate(members):
        separator = "{" if opens and index == 0 else ","
        parts.append(f"""'{separator}"{key}":'""" + (f" || {value}" if value else ""))
    return " || ".join(parts)


def json_object(members: list[tuple[str, str]]) -> str:
    """A JSON object of the members (see json_members)."""
    return f"{json_members(members, opens=True)} || '}}'"


def json_array_of(object_sql: str, *, order_by: str, source: str) -> str:
    """The elements of a JSON array (without its brackets): one object per row of the
    source (`FROM ... WHERE ...`), in order; empty for none."""
    return f"(SELECT COALESCE(string_agg({object_sql}, ',' ORDER BY {order_by}), '') {source})"
