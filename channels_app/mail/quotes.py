"""Finding where the new reply ends and quoted history or the signature begins."""

from __future__ import annotations

import re

# "On Mon, 2 Mar 2026 at 10:00, Jane <jane@example.com> wrote:", possibly wrapped over
# up to three lines by the client, and the same sentence in other languages.
ATTRIBUTION_START = re.compile(
    r"^\s*(?:(?:on|le|am|el|il|op|em|den)\s|(?:пн|вт|ср|чт|пт|сб|вс),|\d{1,4}[./-]\d{1,2}[./-]\d{1,4})",
    re.IGNORECASE,
)
ATTRIBUTION_END = re.compile(
    r"(?:\bwrote|a\s+écrit|escribió|ha\s+scritto|escreveu|пишет|написал(?:\(а\)|а|и)?|"
    r"napisał(?:\(a\)|a)?)\s*:\s*$"
    # Verb before the name: "Am ... schrieb Jane <j@x>:", "Op ... schreef ...:", "Den ... skrev".
    r"|\b(?:schrieb|schreef|skrev)\b.*:\s*$"
    # Gmail in several locales ends with the bare address: "пн, 23 нояб. ..., Иван <i@x>:".
    r"|<[^<>\s@]+@[^<>\s]+>\s*:\s*$",
    re.IGNORECASE,
)
ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|"
    r"исходное сообщение|mensaje original|messaggio originale|oorspronkelijk bericht)\s*-{2,}\s*$",
    re.IGNORECASE,
)
UNDERSCORE_SEPARATOR = re.compile(r"^\s*_{20,}\s*$")
HEADER_BLOCK_FROM = re.compile(r"^\s*\*?(?:from|von|de|от|da|van)\s*\*?\s*:", re.IGNORECASE)
HEADER_BLOCK_DATE = re.compile(
    r"^\s*\*?(?:sent|date|gesendet|datum|envoyé|отправлено|дата|enviado|inviato|verzonden)"
    r"\s*\*?\s*:",
    re.IGNORECASE,
)
SIGNATURE_DELIMITER = re.compile(r"^--\s?$")
MOBILE_SIGNATURE = re.compile(
    r"^\s*(?:sent from my\b|sent from (?:outlook|mail for windows|yahoo mail|samsung)|"
    r"get outlook for\b|отправлено с\b|отправлено из\b|von meinem .* gesendet|"
    r"envoyé de mon\b|enviado desde mi\b|inviato da\b)",
    re.IGNORECASE,
)
FORWARDED_MARKER = re.compile(
    r"^\s*-{3,}\s*(?:forwarded message|weitergeleitete nachricht|message transféré|"
    r"пересылаемое сообщение|mensaje reenviado)",
    re.IGNORECASE,
)
QUOTED_LINE = re.compile(r"^\s*>")
# "Sent from my iPhone" is a whole short line; a longer one is a sentence that happens to
# start the same way.
MAXIMUM_MOBILE_SIGNATURE_LENGTH = 60
ATTRIBUTION_WINDOW = 3
HEADER_BLOCK_WINDOW = 5
MAXIMUM_ATTRIBUTION_LENGTH = 300


def split_visible_text(text: str) -> str:
    """The new part of a reply: the text before quoted history and the signature.

    A forwarded message is content, not history: such text is returned whole. When the
    reply sits below the quote (bottom posting) the unquoted lines after it are kept.
    Falls back to the whole text rather than ever returning nothing.
    """
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = normalized.split("\n")
    cut = _first_history_line(lines)
    if cut is None:
        return normalized.strip()
    visible = "\n".join(lines[:cut]).strip()
    if not visible:
        visible = _text_below_quote(lines[cut:])
    return visible or normalized.strip()


def _first_history_line(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if FORWARDED_MARKER.match(line):
            return None
        if _starts_history(lines, index):
            return index
    return None


def _starts_history(lines: list[str], index: int) -> bool:
    line = lines[index]
    if not line or line.isspace():
        # No marker is blank, and an attribution starts on a line of its own words.
        return False
    return bool(
        QUOTED_LINE.match(line)
        or ORIGINAL_MESSAGE.match(line)
        or UNDERSCORE_SEPARATOR.match(line)
        or SIGNATURE_DELIMITER.match(line)
        or _is_mobile_signature(line)
        or _is_attribution(lines, index)
        or _is_header_block(lines, index)
    )


def _is_mobile_signature(line: str) -> bool:
    stripped = line.strip()
    return len(stripped) <= MAXIMUM_MOBILE_SIGNATURE_LENGTH and bool(
        MOBILE_SIGNATURE.match(stripped)
    )


def _is_attribution(lines: list[str], index: int) -> bool:
    for size in range(1, ATTRIBUTION_WINDOW + 1):
        joined = " ".join(line.strip() for line in lines[index : index + size])
        if len(joined) > MAXIMUM_ATTRIBUTION_LENGTH:
            return False
        if ATTRIBUTION_END.search(joined):
            # Without the usual opening ("On <date>") only a line naming an address or
            # introducing a quote counts: "as my colleague wrote:" is prose.
            if ATTRIBUTION_START.match(lines[index]):
                return True
            return size == 1 and ("@" in joined or _next_text_is_quoted(lines, index + 1))
    return False


def _next_text_is_quoted(lines: list[str], start: int) -> bool:
    # By index: slicing would copy the rest of the mail for every attribution line.
    for index in range(start, len(lines)):
        if lines[index].strip():
            return bool(QUOTED_LINE.match(lines[index]))
    return False


def _is_header_block(lines: list[str], index: int) -> bool:
    if not HEADER_BLOCK_FROM.match(lines[index]):
        return False
    following = lines[index + 1 : index + HEADER_BLOCK_WINDOW]
    return any(HEADER_BLOCK_DATE.match(line) for line in following)


def _text_below_quote(lines: list[str]) -> str:
    below: list[str] = []
    seen_quote = False
    for index, line in enumerate(lines):
        if QUOTED_LINE.match(line) or (not seen_quote and _is_attribution(lines, index)):
            seen_quote = True
            below = []
            continue
        if seen_quote and (SIGNATURE_DELIMITER.match(line) or _is_mobile_signature(line)):
            break
        below.append(line)
    return "\n".join(below).strip() if seen_quote else ""


def unflow(text: str, delete_space: bool = False) -> str:
    """Join RFC 3676 format=flowed soft line breaks (Thunderbird, Apple Mail)."""
    output: list[str] = []
    paragraph: list[str] = []
    paragraph_depth = -1
    for raw_line in text.replace("\r\n", "\n").split("\n"):
        depth = len(raw_line) - len(raw_line.lstrip(">"))
        content = raw_line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        is_soft_break = content.endswith(" ") and content != "-- "
        if paragraph and depth != paragraph_depth:
            output.append(_flowed_line(paragraph_depth, "".join(paragraph)))
            paragraph = []
        if is_soft_break and delete_space:
            content = content[:-1]
        paragraph.append(content)
        paragraph_depth = depth
        if not is_soft_break:
            output.append(_flowed_line(depth, "".join(paragraph)))
            paragraph = []
    if paragraph:
        output.append(_flowed_line(paragraph_depth, "".join(paragraph)))
    return "\n".join(output)


def _flowed_line(depth: int, content: str) -> str:
    if depth <= 0:
        return content
    return f"{'>' * depth} {content}".rstrip()
