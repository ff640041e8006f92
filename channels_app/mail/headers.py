"""Reading header values that clients encode, fold and break in every possible way."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from channels_app.mail.charsets import decode_bytes, decode_surrogates

RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to", "envelope-to")
ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
WHITESPACE_BETWEEN_ENCODED_WORDS = re.compile(r"(\?=)\s+(=\?)")
WHITESPACE = re.compile(r"\s+")
ANGLE_BRACKETED_ID = re.compile(r"<([^<>\s]+)>")
ADDRESS_SPEC = re.compile(r"[^\s@<>()\[\],;:]+@[^\s@<>()\[\],;:]+")
# An address inside other text. It may only start where the local part could not go on to
# the left: without that, a long run of letters with no "@" is rescanned from every
# position (quadratic time on hostile mail).
BARE_ADDRESS = re.compile(r"(?<![\w.+'-])[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# Real zones lie within ±14 h; a Date outside these years is a broken clock or hostile.
MAXIMUM_UTC_OFFSET = timedelta(hours=14)
EARLIEST_PLAUSIBLE_YEAR = 1980
LATEST_PLAUSIBLE_YEAR = 2200
# A thread rarely names more than a few dozen ancestors; hostile mail names thousands.
MAXIMUM_MESSAGE_IDS = 200


def unfold(value: str) -> str:
    return re.sub(r"\r?\n(?=[ \t])", "", value).replace("\r", "").replace("\n", "")


def decode_header_text(value: str) -> str:
    """Decode RFC 2047 encoded words and raw 8-bit bytes into plain text."""
    text = decode_surrogates(unfold(value))
    if "=?" not in text:
        return text
    # Adjacent encoded words are joined without the whitespace between them (RFC 2047 6.2).
    text = WHITESPACE_BETWEEN_ENCODED_WORDS.sub(r"\1\2", text)
    return _join_encoded_words(text)


def collapse_whitespace(text: str) -> str:
    return WHITESPACE.sub(" ", text).strip()


def _join_encoded_words(text: str) -> str:
    # Consecutive words in the same charset are decoded together: clients split multibyte
    # characters across words.
    pieces: list[str] = []
    pending_bytes = b""
    pending_charset = ""
    position = 0
    for match in ENCODED_WORD.finditer(text):
        between = text[position : match.start()]
        charset, encoding, payload = match.groups()
        if between or charset.lower() != pending_charset:
            pieces.append(decode_bytes(pending_bytes, pending_charset))
            pending_bytes = b""
            pieces.append(between)
        pending_charset = charset.lower()
        pending_bytes += _decode_word_payload(encoding, payload)
        position = match.end()
    pieces.append(decode_bytes(pending_bytes, pending_charset))
    pieces.append(text[position:])
    return "".join(pieces)


def _decode_word_payload(encoding: str, payload: str) -> bytes:
    raw = payload.encode("ascii", errors="replace")
    if encoding.lower() == "q":
        return binascii.a2b_qp(raw.replace(b"_", b" "), header=True)
    cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", raw)
    if len(cleaned) % 4 == 1:
        cleaned = cleaned[:-1]
    try:
        return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        return b""


def parse_addresses(value: str) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs; names decoded after splitting on commas."""
    unfolded = unfold(value)
    try:
        pairs = getaddresses([unfolded])
    except Exception:  # getaddresses has crashed on hostile input in some Python versions
        pairs = []
    parsed: list[tuple[str, str]] = []
    for name, address in pairs:
        address = decode_surrogates(address).strip().lower()
        if not ADDRESS_SPEC.fullmatch(address):
            # getaddresses read junk as the address: keep only a real addr-spec inside it.
            found = BARE_ADDRESS.search(address)
            if found:
                parsed.append(("", found.group(0).lower()))
            continue
        parsed.append((collapse_whitespace(decode_header_text(name)).strip("\"' "), address))
    if not parsed:
        found = BARE_ADDRESS.search(decode_header_text(unfolded))
        if found:
            parsed.append(("", found.group(0).lower()))
    return parsed


def parse_message_ids(value: str) -> tuple[str, ...]:
    """Message ids without angle brackets, in header order; bare ids tolerated.

    Of a very long list the first and the latest ids are kept: the thread's root and
    the message being answered.
    """
    text = decode_surrogates(unfold(value))
    ids = ANGLE_BRACKETED_ID.findall(text)
    if not ids:
        ids = [token.strip("<>,;\"'") for token in text.split() if "@" in token]
    unique = list(dict.fromkeys(message_id for message_id in ids if message_id))
    if len(unique) > MAXIMUM_MESSAGE_IDS:
        unique = [unique[0], *unique[-(MAXIMUM_MESSAGE_IDS - 1) :]]
    return tuple(unique)


def parse_date(value: str) -> datetime | None:
    """The Date header in UTC, or None when it is missing, unreadable or implausible."""
    try:
        parsed = parsedate_to_datetime(collapse_whitespace(decode_surrogates(value)))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        # "-0000" means the zone is unknown; UTC is the documented reading.
        parsed = parsed.replace(tzinfo=UTC)
    offset = parsed.utcoffset()
    if offset is None or abs(offset) > MAXIMUM_UTC_OFFSET:
        return None
    if not EARLIEST_PLAUSIBLE_YEAR <= parsed.year <= LATEST_PLAUSIBLE_YEAR:
        return None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        return None


@dataclass
class HeaderValues:
    """Raw header values by lower-case name, read without the policy's strict parsing."""

    values: list[tuple[str, str]]

    @classmethod
    def from_message(cls, message: Message) -> HeaderValues:
        return cls(
            values=[(str(name).lower(), str(value)) for name, value in raw_header_items(message)]
        )

    def first(self, name: str) -> str:
        return next((value for key, value in self.values if key == name), "")

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.values if key == name]

    def first_values(self) -> dict[str, str]:
        first_by_name: dict[str, str] = {}
        for name, value in self.values:
            first_by_name.setdefault(name, value)
        return first_by_name

    def first_address(self, name: str) -> tuple[str, str]:
        for value in self.all(name):
            addresses = parse_addresses(value)
            if addresses:
                return addresses[0]
        return ("", "")

    def recipients(self) -> tuple[str, ...]:
        addresses: dict[str, None] = {}
        for name in RECIPIENT_HEADERS:
            for value in self.all(name):
                for _, address in parse_addresses(value):
                    addresses.setdefault(address, None)
        return tuple(addresses)


def raw_header_items(message: Message) -> list[tuple[str, str]]:
    try:
        return [(str(name), str(value)) for name, value in message.raw_items()]
    except Exception:
        return []
