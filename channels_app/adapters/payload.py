"""Reading untrusted platform JSON: one way to read each kind of value, one set of limits,
and one error, PayloadMalformed, naming the field's path (`entry[].changes[].value.messages[].id`).

Every adapter that takes JSON reads it through `JsonObject`; the webhook edge answers the
error with 400 and a JSON body, and stores nothing of the message. Items of a list are
named `name[]`, so one rule reads the same whichever item broke it.

What the limits protect: the database (text holds no NUL, columns have lengths, integers
are 64-bit), the process (nesting, list sizes) and the people reading the result (a time
from the year 30000 is a mistake or an attack, not a message).
"""

import base64
import binascii
import json
import math
from datetime import UTC, datetime
from types import UnionType
from typing import Any

from channels_app.contracts import PayloadMalformed
from channels_app.text import storable_line, storable_text

# Ids are stored in 255-character columns; a caller that builds a longer id from one
# (a prefix, say) passes a smaller max_length.
MAX_ID_LENGTH = 255
# Names, file names, content types: one line, cut to what their columns keep.
MAX_LINE_LENGTH = 255
MAX_STRING_LENGTH = 65_536
MAX_LIST_ITEMS = 1_000
# Objects inside objects, counted from the body as an adapter reads down; platform payloads
# go six or seven deep (json.loads itself refuses a body nested past Python's recursion limit).
MAX_DEPTH = 32
MIN_INTEGER, MAX_INTEGER = -(2**63), 2**63 - 1
# Times outside these years are typing errors or attacks, and some do not survive the
# conversion to UTC.
MIN_YEAR, MAX_YEAR = 1970, 2200


class JsonObject:
    """One JSON object of an untrusted payload, read with type checks and limits.

    Optional readers give a neutral value (None, "", [] or False) for a key that is absent
    or null; `required_*` readers raise when it is. A value of the wrong type or beyond a
    limit is always PayloadMalformed, never silently dropped.
    """

    __slots__ = ("data", "depth", "path")

    def __init__(self, data: dict[str, Any], path: str = "", depth: int = 0) -> None:
        self.data = data
        self.path = path
        self.depth = depth

    @classmethod
    def from_body(cls, body: bytes, *, path: str = "") -> "JsonObject":
        """The request body as a JSON object; `path` names it in errors ("update", say)."""
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError) as error:
            raise PayloadMalformed(f"body is not valid JSON: {error}") from error
        except RecursionError as error:
            raise PayloadMalformed("body is nested too deeply") from error
        if not isinstance(payload, dict):
            raise PayloadMalformed("body must be a JSON object")
        return cls(payload, path)

    def malformed(self, problem: str) -> PayloadMalformed:
        """The error for a rule about this object as a whole ("needs text or attachments")."""
        return PayloadMalformed(f"{self.path} {problem}" if self.path else problem)

    def name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    # Objects and lists

    def object(self, key: str) -> "JsonObject | None":
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise PayloadMalformed(f"{self.name(key)} must be an object")
        return self._child(value, self.name(key))

    def required_object(self, key: str) -> "JsonObject":
        value = self.object(key)
        if value is None:
            raise PayloadMalformed(f"{self.name(key)} is missing")
        return value

    def objects(self, key: str, *, max_items: int = MAX_LIST_ITEMS) -> list["JsonObject"]:
        """A list of objects; [] when absent."""
        name = f"{self.name(key)}[]"
        return [
            self._child(item, name)
            for item in self._list(key, max_items=max_items, item_type=dict, item_kind="objects")
        ]

    def object_rows(self, key: str, *, max_items: int = MAX_LIST_ITEMS) -> list[list["JsonObject"]]:
        """A list of lists of objects (a keyboard's rows of buttons); [] when absent."""
        name = f"{self.name(key)}[][]"
        rows = self._list(key, max_items=max_items, item_type=list, item_kind="lists")
        result = []
        for row in rows:
            if len(row) > max_items or not all(isinstance(item, dict) for item in row):
                raise PayloadMalformed(
                    f"{self.name(key)}[] must be a list of at most {max_items} objects"
                )
            result.append([self._child(item, name) for item in row])
        return result

    def lines(self, key: str, *, max_items: int = MAX_LIST_ITEMS) -> list[str]:
        """A list of one-line strings (names, flags), each read as `line` reads one; []
        when absent."""
        return [
            storable_line(item).strip()[:MAX_LINE_LENGTH]
            for item in self._list(key, max_items=max_items, item_type=str, item_kind="strings")
        ]

    def _list(
        self, key: str, *, max_items: int, item_type: type | UnionType, item_kind: str
    ) -> list[Any]:
        value = self.data.get(key)
        if value is None:
            return []
        if (
            not isinstance(value, list)
            or len(value) > max_items
            or not all(isinstance(item, item_type) for item in value)
        ):
            raise PayloadMalformed(
                f"{self.name(key)} must be a list of at most {max_items} {item_kind}"
            )
        return value

    def _child(self, value: dict[str, Any], path: str) -> "JsonObject":
        if self.depth >= MAX_DEPTH:
            raise PayloadMalformed(f"{path} is nested too deeply")
        return JsonObject(value, path, self.depth + 1)

    # Ids

    def id(self, key: str, *, max_length: int = MAX_ID_LENGTH) -> str:
        """An id given as a string or an integer, as a string without surrounding spaces;
        "" when absent. Ids are kept and compared as they are, so control characters and
        lone surrogates are refused rather than cleaned."""
        value = self.data.get(key)
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise PayloadMalformed(f"{self.name(key)} must be a string or an integer")
        text = str(value).strip()
        # isprintable() is the quick answer for nearly every id; the check is the exact one.
        if not text.isprintable() and text != storable_line(text):
            raise PayloadMalformed(
                f"{self.name(key)} contains control characters or lone surrogates"
            )
        if len(text) > max_length:
            raise PayloadMalformed(f"{self.name(key)} is longer than {max_length} characters")
        return text

    def required_id(self, key: str, *, max_length: int = MAX_ID_LENGTH) -> str:
        text = self.id(key, max_length=max_length)
        if not text:
            raise PayloadMalformed(f"{self.name(key)} is missing")
        return text

    def ids(self, key: str, *, max_items: int = MAX_LIST_ITEMS) -> list[str]:
        """A list of ids (strings or integers), read as `id` reads one; [] when absent."""
        values = self._list(key, max_items=max_items, item_type=str | int, item_kind="ids")
        holder = JsonObject({}, f"{self.name(key)}[]", self.depth)
        result = []
        for value in values:
            holder.data = {"id": value}
            if text := holder.id("id"):
                result.append(text)
        return result

    # Text

    def string(self, key: str, *, max_length: int = MAX_STRING_LENGTH) -> str:
        """Text as the database can keep it: without NUL, lone surrogates replaced by "?";
        "" when absent."""
        value = self.data.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise PayloadMalformed(f"{self.name(key)} must be a string")
        if len(value) > max_length:
            raise PayloadMalformed(f"{self.name(key)} is longer than {max_length} characters")
        return storable_text(value)

    def required_string(self, key: str, *, max_length: int = MAX_STRING_LENGTH) -> str:
        """A string that must be there, though it may be empty."""
        if self.data.get(key) is None:
            raise PayloadMalformed(f"{self.name(key)} is missing")
        return self.string(key, max_length=max_length)

    def line(self, key: str, *, max_length: int = MAX_LINE_LENGTH) -> str:
        """A one-line value (a name, a file name, a content type): no control characters,
        no surrounding spaces, cut to `max_length`."""
        text = self.string(key)
        if text.isprintable():
            return text.strip()[:max_length]
        return storable_line(text)[:max_length]

    def base64(self, key: str, *, max_bytes: int) -> bytes:
        """Bytes carried as base64 text; b"" when absent."""
        value = self.data.get(key)
        if value is None:
            return b""
        if not isinstance(value, str) or len(value) > (max_bytes + 2) // 3 * 4:
            raise PayloadMalformed(f"{self.name(key)} must be base64 of at most {max_bytes} bytes")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as error:
            raise PayloadMalformed(f"{self.name(key)} is not base64") from error

    # Numbers

    def integer(
        self, key: str, *, minimum: int = MIN_INTEGER, maximum: int = MAX_INTEGER
    ) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            if (minimum, maximum) == (MIN_INTEGER, MAX_INTEGER):
                raise PayloadMalformed(f"{self.name(key)} must be a 64-bit integer")
            raise PayloadMalformed(
                f"{self.name(key)} must be an integer from {minimum} to {maximum}"
            )
        return value

    def required_integer(
        self, key: str, *, minimum: int = MIN_INTEGER, maximum: int = MAX_INTEGER
    ) -> int:
        value = self.integer(key, minimum=minimum, maximum=maximum)
        if value is None:
            raise PayloadMalformed(f"{self.name(key)} is missing")
        return value

    def number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        # Python's JSON reader takes NaN and Infinity, which no platform means.
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise PayloadMalformed(f"{self.name(key)} must be a number")
        return float(value)

    def required_number(self, key: str) -> float:
        value = self.number(key)
        if value is None:
            raise PayloadMalformed(f"{self.name(key)} must be a number")
        return value

    def boolean(self, key: str) -> bool:
        """True or false; false when absent."""
        value = self.data.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise PayloadMalformed(f"{self.name(key)} must be true or false")
        return value

    # Times

    def timestamp(self, key: str) -> datetime | None:
        """A moment given as Unix seconds (a number, or digits in a string, as Meta sends
        them) or as ISO 8601 text (UTC unless it says otherwise); None when absent."""
        value = self.data.get(key)
        if value is None:
            return None
        try:
            if isinstance(value, int | float) and not isinstance(value, bool):
                moment = datetime.fromtimestamp(value, tz=UTC)
            elif isinstance(value, str) and value.isascii() and value.strip().isdigit():
                moment = datetime.fromtimestamp(int(value), tz=UTC)
            elif isinstance(value, str):
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
                moment = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
            else:
                raise PayloadMalformed(
                    f"{self.name(key)} must be an ISO 8601 string or a Unix time"
                )
        except (ValueError, OverflowError, OSError) as error:
            raise PayloadMalformed(f"{self.name(key)} is not a valid time: {error}") from error
        return self._within_years(key, moment)

    def millisecond_timestamp(self, key: str) -> datetime | None:
        """A moment given as Unix milliseconds (Meta's Messenger Platform); None when absent."""
        value = self.integer(key, minimum=0)
        if value is None:
            return None
        try:
            moment = datetime.fromtimestamp(value / 1000, tz=UTC)
        except (ValueError, OverflowError, OSError) as error:
            raise PayloadMalformed(f"{self.name(key)} is not a valid time: {error}") from error
        return self._within_years(key, moment)

    def _within_years(self, key: str, moment: datetime) -> datetime:
        if not MIN_YEAR <= moment.year <= MAX_YEAR:
            raise PayloadMalformed(
                f"{self.name(key)} must lie between the years {MIN_YEAR} and {MAX_YEAR}"
            )
        return moment
