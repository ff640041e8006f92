"""Turning the bytes of a mail part into text, whatever charset it claims."""

from __future__ import annotations

import codecs
import re

try:
    import charset_normalizer
except ImportError:  # pragma: no cover - optional dependency
    charset_normalizer = None  # type: ignore[assignment]

# Names mail clients write that Python does not know, or that are better read as a superset:
# Outlook declares iso-8859-1 and us-ascii while sending windows-1252 quotes and dashes.
CHARSET_ALIASES: dict[str, str] = {
    "cp-1250": "cp1250",
    "cp-1251": "cp1251",
    "cp-1252": "cp1252",
    "win-1250": "cp1250",
    "win-1251": "cp1251",
    "win-1252": "cp1252",
    "windows1251": "cp1251",
    "windows1252": "cp1252",
    "x-cp1251": "cp1251",
    "x-cp1252": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "x-sjis": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
}

# Declarations that say nothing useful about the bytes: guess instead.
UNINFORMATIVE_CHARSETS = frozenset(
    {"", "x-unknown", "unknown", "unknown-8bit", "x-user-defined", "8bit", "binary", "default"}
)
ASCII_NAMES = frozenset({"us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us"})
SINGLE_BYTE_WESTERN = frozenset({"cp1252", "iso8859-1", "iso8859-15", "ascii"})
FALLBACK_CHARSET = "cp1252"
NOT_MAIL_CHARSETS = frozenset(
    {"punycode", "idna", "raw-unicode-escape", "unicode-escape", "undefined", "mbcs", "oem"}
)
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
WESTERN_HIGH_BYTE_SHARE = 0.3
# What undeclared mail realistically arrives in; a free guess over every codec picks exotic ones.
GUESSABLE_CHARSETS = (
    "cp1251", "koi8_r", "cp1250", "iso8859_2", "cp1253", "cp1254", "cp1257", "cp932", "euc_jp",
    "gb18030", "big5", "cp949", "cp1252",
)  # fmt: skip


def normalize_charset(declared: str | None) -> str:
    """A Python codec name for a declared charset, or "" when it should be guessed."""
    name = (declared or "").strip().strip("\"'").lower()
    # RFC 2231 language suffix ("utf-8*en") and stray parameters.
    name = name.split("*", 1)[0].split(";", 1)[0].strip()
    if name in UNINFORMATIVE_CHARSETS:
        return ""
    if name in ASCII_NAMES:
        return "ascii"
    name = CHARSET_ALIASES.get(name, name)
    try:
        codec = codecs.lookup(name)
    except (LookupError, ValueError):  # ValueError: a NUL byte inside the name
        return ""
    # Only real character sets: "base64", "rot13" or "punycode" are codecs, not charsets.
    if not getattr(codec, "_is_text_encoding", True) or codec.name in NOT_MAIL_CHARSETS:
        return ""
    return codec.name


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode mail bytes: declared charset, then UTF-8, then a guess, never raising."""
    return without_lone_surrogates(_decode_with_fallbacks(data, declared))


def without_lone_surrogates(text: str) -> str:
    # UTF-7 and UTF-16 can decode to lone surrogates, which nothing downstream can encode.
    if not LONE_SURROGATE.search(text):
        return text
    return LONE_SURROGATE.sub("\ufffd", text)


def _decode_with_fallbacks(data: bytes, declared: str | None) -> str:
    if not data:
        return ""
    charset = normalize_charset(declared)
    if charset and _declaration_is_plausible(data, charset):
        decoded = _decode_strictly(data, charset)
        if decoded is not None:
            return decoded
    for candidate in ("ascii", "utf-8", _guess_charset(data)):
        decoded = _decode_strictly(data, candidate) if candidate else None
        if decoded is not None:
            return decoded
    try:
        return data.decode(charset or FALLBACK_CHARSET, errors="replace")
    except Exception:  # some codecs fail even with errors="replace"
        return data.decode(FALLBACK_CHARSET, errors="replace")


def _decode_strictly(data: bytes, charset: str) -> str | None:
    try:
        return data.decode(charset)
    except Exception:  # codecs raise UnicodeError, ValueError and worse on hostile bytes
        return None


def _declaration_is_plausible(data: bytes, charset: str) -> bool:
    if charset in SINGLE_BYTE_WESTERN and _is_multibyte_utf8(data):
        return False
    # ASCII text labelled UTF-16/32 would decode into CJK-looking nonsense.
    return not (charset.startswith(("utf-16", "utf-32")) and b"\x00" not in data)


_SURROGATE_ESCAPE = re.compile("[\udc80-\udcff]")


def decode_surrogates(text: str, declared: str | None = None) -> str:
    """Re-read raw 8-bit bytes the parser kept as surrogate escapes (undeclared header bytes)."""
    if text.isascii() or not _SURROGATE_ESCAPE.search(text):
        return text
    return decode_bytes(text.encode("utf-8", errors="surrogateescape"), declared)


def _is_multibyte_utf8(data: bytes) -> bool:
    # A single-byte declaration over valid UTF-8 with non-ASCII bytes is almost always a
    # wrong declaration: real latin-1 text practically never forms valid UTF-8 sequences.
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _guess_charset(data: bytes) -> str:
    if _looks_western(data):
        return FALLBACK_CHARSET
    if charset_normalizer is None:
        return ""
    try:
        best = charset_normalizer.from_bytes(data, cp_isolation=list(GUESSABLE_CHARSETS)).best()
    except Exception:  # the detector must never break parsing
        return ""
    if best is None or not best.encoding:
        return ""
    return normalize_charset(best.encoding)


def _looks_western(data: bytes) -> bool:
    # Western European text is mostly ASCII letters with a few accented ones; Cyrillic,
    # Greek or CJK text in a legacy charset is almost all high bytes. Detectors misread
    # short Western text (naming it cp1250 or Arabic), so decide this case first.
    try:
        data.decode(FALLBACK_CHARSET)
    except UnicodeDecodeError:
        return False
    high_bytes = sum(1 for byte in data if byte >= 0x80)
    ascii_letters = sum(1 for byte in data if 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A)
    return high_bytes <= 1 or high_bytes <= WESTERN_HIGH_BYTE_SHARE * (high_bytes + ascii_letters)
