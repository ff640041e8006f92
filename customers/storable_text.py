"""Whether text can be stored: PostgreSQL text and jsonb hold no NUL, and no encoding
takes a lone surrogate (which JSON's `\\ud800` escapes can carry). Free of Django, so any
edge (a middleware, an ASGI application) can ask before anything reaches the database."""

import re
from typing import Any

# A JSON escape that may decode to NUL or to half of a surrogate pair: only a body that
# holds one needs to be parsed to know.
_SUSPICIOUS_JSON_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def is_storable_text(text: str) -> bool:
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_storable_value(value: Any) -> bool:
    """Every string in a parsed JSON value (keys too, at any depth) is storable."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not is_storable_text(item):
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return True


def may_hold_unstorable_json(body: bytes) -> bool:
    """False when a JSON body certainly decodes to storable text (the common case, found
    without parsing); True when it must be parsed to tell."""
    return b"\x00" in body or _SUSPICIOUS_JSON_ESCAPE.search(body) is not None
