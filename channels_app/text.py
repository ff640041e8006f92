"""Text from outside made storable: PostgreSQL text holds no NUL, and no encoding takes the
lone surrogates JSON (and some mail) can carry."""

import re

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def storable_text(text: str) -> str:
    """Without NUL, lone surrogates replaced by "?"."""
    cleaned = text.replace("\x00", "")
    try:
        cleaned.encode("utf-8")
    except UnicodeEncodeError:
        return cleaned.encode("utf-8", "replace").decode("utf-8")
    return cleaned


def storable_line(text: str) -> str:
    """A one-line value (a name, an id, a file name): no control characters at all."""
    return storable_text(CONTROL_CHARACTERS.sub("", text)).strip()
