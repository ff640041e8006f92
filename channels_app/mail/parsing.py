"""Parsing one raw RFC 5322 message into what the inbox needs, tolerating real-world mail.

Everything here is plain Python: the SMTP server, the IMAP poller and the email webhook all
hand their bytes to :func:`parse_email` and receive a frozen :class:`ParsedEmail`.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from email import policy
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.utils import collapse_rfc2231_value
from typing import TypeVar

from channels_app.mail.automatic import (
    bounce_from_delivery_status,
    bounce_from_plain_text,
    is_automatic,
    is_bounce_sender,
    is_delivery_notice,
    is_failed_action,
)
from channels_app.mail.charsets import decode_bytes, decode_surrogates
from channels_app.mail.headers import (
    collapse_whitespace,
    decode_header_text,
    parse_addresses,
    parse_date,
    parse_message_ids,
)
from channels_app.mail.quotes import split_visible_text, unflow
from channels_app.mail.results import BounceReport, EmailUnreadable, ParsedAttachment, ParsedEmail
from channels_app.mail.sanitize import html_to_text, sanitize_html
from channels_app.text import storable_line, storable_text

__all__ = [
    "BounceReport",
    "EmailUnreadable",
    "ParsedAttachment",
    "ParsedEmail",
    "html_to_text",
    "parse_email",
    "sanitize_html",
    "split_visible_text",
]

RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to", "envelope-to")
# Marks mail we sent, so that it coming back (a relay's copy, a loop) is recognised.
OWN_MESSAGE_HEADER = "X-Switchboard-Message-Id"
SYNTHETIC_ID_DOMAIN = "switchboard.invalid"
CALENDAR_TYPES = frozenset({"text/calendar", "application/ics"})
ATTACHED_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})
RETURNED_HEADERS_TYPES = frozenset({"text/rfc822-headers", "message/rfc822-headers"})
SIGNATURE_TYPES = frozenset(
    {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
)
DELIVERY_STATUS_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
# Hostile input could nest multiparts until the recursion limit.
MAXIMUM_MIME_DEPTH = 40
MAXIMUM_FILENAME_LENGTH = 200
# More parts than any person attaches: the rest of a hostile message's parts are not stored.
MAXIMUM_ATTACHMENTS = 100
HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+:")
HEADER_NAME_WITH_SPACE = re.compile(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]+:")
META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
UNSAFE_FILENAME_CHARACTERS = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")

Result = TypeVar("Result")


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse raw message bytes; raises :class:`EmailUnreadable` only for non-mail."""
    if not raw or not raw.strip():
        raise EmailUnreadable("The message is empty.")
    message = _parse_message(raw)
    headers = _HeaderValues.from_message(message)
    body = _BodyCollector()
    body.visit(message, depth=0, in_report=False)
    full_text = body.plain_text() or html_to_text(body.html_source())
    attachments = _without_duplicate_invites(body.attachments, body.named_attachments)
    if not headers.values and not full_text and not attachments:
        raise EmailUnreadable("Neither headers nor a body could be read.")

    from_name, from_address = headers.first_address("from") or headers.first_address("sender")
    reply_to_name, reply_to_address = headers.first_address("reply-to")
    subject = collapse_whitespace(decode_header_text(headers.first("subject")))
    bounce = _bounce(body, full_text, subject, (from_address, from_name), headers)
    message_ids = parse_message_ids(headers.first("message-id"))
    # A mail system's delay warning; a person writing from postmaster@ is still heard.
    is_mail_system_notice = is_bounce_sender(from_address, from_name) and is_delivery_notice(
        full_text, subject
    )
    return _storable(
        ParsedEmail(
            message_id=message_ids[0] if message_ids else _synthetic_message_id(raw),
            in_reply_to=parse_message_ids(headers.first("in-reply-to")),
            references=parse_message_ids(" ".join(headers.all("references"))),
            from_address=from_address,
            from_name=from_name,
            reply_to_address=reply_to_address,
            reply_to_name=reply_to_name,
            recipients=headers.recipients(),
            subject=subject,
            sent_at=parse_date(headers.first("date")),
            text=split_visible_text(full_text) if full_text else "",
            full_text=full_text,
            html=sanitize_html(body.html_source()),
            attachments=tuple(attachments),
            is_auto_reply=(
                bounce is not None
                or body.is_delivery_report
                or is_mail_system_notice
                or is_automatic(headers.first_values(), subject)
            ),
            bounce=bounce,
            own_message_marker=headers.first(OWN_MESSAGE_HEADER.lower()),
            language=_first_language_tag(headers.first("content-language")),
        )
    )


def _first_language_tag(value: str) -> str:
    """The first tag of a Content-Language header ("ru-RU, en" gives "ru-RU"): the language
    the sender's mail program says the mail is in."""
    return value.split(",", 1)[0].strip()[:16]


def _parse_message(raw: bytes) -> Message:
    # The legacy policy keeps header values as strings: the modern one parses every header
    # it is asked for into objects (Content-Type alone several times a part), which took
    # most of the time of parsing a message. Headers are decoded here, by our own readers.
    return BytesParser(policy=policy.compat32).parsebytes(_repair_header_block(raw))


def _repair_header_block(raw: bytes) -> bytes:
    """Drop stray lines inside the header block instead of ending the headers there.

    A line without a colon (``X-Mailer Outlook``) makes the standard parser treat the rest
    of the headers as body, losing Subject and From that follow it.
    """
    separator = re.search(rb"\r?\n\r?\n", raw)
    block_end = separator.start() if separator else len(raw)
    lines = raw[:block_end].split(b"\n")
    first_line = lines[0]
    if not (HEADER_LINE.match(first_line) or first_line.startswith(b"From ")):
        return raw
    lines = [HEADER_NAME_WITH_SPACE.sub(rb"\1:", line) for line in lines]
    last_header_index = max(
        (index for index, line in enumerate(lines) if _is_header_line(line)), default=0
    )
    kept: list[bytes] = []
    for index, line in enumerate(lines):
        if index == 0 or _is_header_line(line) or line[:1] in (b" ", b"\t"):
            kept.append(line)
        elif index > last_header_index:
            # Headers really end here: a body without the blank separator line.
            return b"\n".join([*kept, b"", *lines[index:]]) + raw[block_end:]
    return b"\n".join(kept) + raw[block_end:]


def _is_header_line(line: bytes) -> bool:
    return bool(HEADER_LINE.match(line))


@dataclass
class _HeaderValues:
    """Raw header values by lower-case name, read without the policy's strict parsing."""

    values: list[tuple[str, str]]

    @classmethod
    def from_message(cls, message: Message) -> _HeaderValues:
        return cls(values=[(str(name).lower(), str(value)) for name, value in _raw_items(message)])

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


def _raw_items(message: Message) -> list[tuple[str, str]]:
    try:
        return [(str(name), str(value)) for name, value in message.raw_items()]
    except Exception:
        return []


@dataclass
class _BodyCollector:
    """Walks the MIME tree once, sorting parts into body text, HTML, attachments and
    the machine-readable parts of a delivery report."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    named_attachments: list[bool] = field(default_factory=list)
    delivery_status: dict[str, str] = field(default_factory=dict)
    returned_headers: dict[str, str] = field(default_factory=dict)
    is_delivery_report: bool = False

    def plain_text(self) -> str:
        return "\n".join(part.strip("\n") for part in self.plain).strip()

    def html_source(self) -> str:
        return "\n".join(self.html)

    def visit(self, part: Message, depth: int, in_report: bool) -> None:
        if depth > MAXIMUM_MIME_DEPTH:
            return
        content_type = _content_type(part)
        if content_type in DELIVERY_STATUS_TYPES:
            self.is_delivery_report = True
            self.delivery_status.update(_delivery_status_fields(part))
        elif content_type in ATTACHED_MESSAGE_TYPES:
            self._visit_attached_message(part, in_report)
        elif content_type in RETURNED_HEADERS_TYPES and in_report:
            self.returned_headers.update(_headers_from_text(_part_text(part, content_type)))
        elif content_type == "multipart/alternative":
            self._visit_alternative(part, depth, in_report)
        elif content_type.startswith("multipart/") or _is_multipart(part):
            for child in _children(part):
                self.visit(child, depth + 1, in_report or content_type == "multipart/report")
        elif content_type in SIGNATURE_TYPES:
            return  # a cryptographic signature is neither content nor something to open
        elif _is_body_text(part, content_type):
            text = _part_text(part, content_type)
            (self.html if content_type == "text/html" else self.plain).append(text)
        else:
            self._add_attachment(part, content_type)

    def _visit_alternative(self, part: Message, depth: int, in_report: bool) -> None:
        branches: list[_BodyCollector] = []
        for child in _children(part):
            branch = _BodyCollector()
            branch.visit(child, depth + 1, in_report)
            branches.append(branch)
        # Clients list the simplest version first and the richest last.
        self.plain.extend(next((branch.plain for branch in branches if branch.plain), []))
        self.html.extend(next((branch.html for branch in reversed(branches) if branch.html), []))
        for branch in branches:
            self.attachments.extend(branch.attachments)
            self.named_attachments.extend(branch.named_attachments)
            self.delivery_status.update(branch.delivery_status)
            self.returned_headers.update(branch.returned_headers)
            self.is_delivery_report = self.is_delivery_report or branch.is_delivery_report

    def _visit_attached_message(self, part: Message, in_report: bool) -> None:
        inner = next(iter(_children(part)), None)
        if in_report:
            # The returned original of a bounce: only its headers matter.
            if inner is not None:
                self.returned_headers.update(_HeaderValues.from_message(inner).first_values())
            return
        subject = ""
        if inner is not None:
            subject = decode_header_text(_HeaderValues.from_message(inner).first("subject"))
        filename = _explicit_filename(part) or _safe_filename(subject, suffix=".eml")
        self.attachments.append(
            ParsedAttachment(
                filename=filename or "forwarded.eml",
                content_type=_content_type(part),
                content=_message_bytes(part, inner),
                content_id=_content_id(part),
                is_inline=False,
            )
        )
        self.named_attachments.append(True)

    def _add_attachment(self, part: Message, content_type: str) -> None:
        content_id = _content_id(part)
        disposition = _content_disposition(part)
        is_inline = disposition == "inline" or (disposition == "" and bool(content_id))
        explicit_name = _explicit_filename(part)
        index = len(self.attachments) + 1
        self.attachments.append(
            ParsedAttachment(
                filename=explicit_name or _made_up_filename(content_type, index, is_inline),
                content_type=content_type,
                content=_payload_bytes(part),
                content_id=content_id,
                is_inline=is_inline,
            )
        )
        self.named_attachments.append(bool(explicit_name))


def _safely(read: Callable[[], Result], default: Result) -> Result:
    try:
        return read()
    except Exception:  # malformed headers make the policy's accessors raise anything
        return default


def _content_type(part: Message) -> str:
    content_type = _safely(part.get_content_type, "text/plain")
    return str(content_type).lower().strip() or "text/plain"


def _content_disposition(part: Message) -> str:
    return str(_safely(part.get_content_disposition, None) or "").lower()


def _content_id(part: Message) -> str:
    raw = _first_raw(part, "content-id")
    return collapse_whitespace(decode_surrogates(raw)).strip("<> ")


def _first_raw(part: Message, name: str) -> str:
    return next((value for key, value in _raw_items(part) if key.lower() == name), "")


def _is_multipart(part: Message) -> bool:
    return bool(_safely(part.is_multipart, False))


def _children(part: Message) -> list[Message]:
    payload = _safely(part.get_payload, None)
    if isinstance(payload, list):
        return [child for child in payload if isinstance(child, Message)]
    return []


def _is_body_text(part: Message, content_type: str) -> bool:
    if content_type not in {"text/plain", "text/html"}:
        return False
    return _content_disposition(part) != "attachment" and not _explicit_filename(part)


def _payload_bytes(part: Message) -> bytes:
    decoded = _safely(lambda: part.get_payload(decode=True), None)
    if isinstance(decoded, bytes):
        return decoded
    payload = _safely(lambda: part.get_payload(), None)
    if isinstance(payload, str):
        return payload.encode("utf-8", errors="surrogateescape")
    return b""


def _part_text(part: Message, content_type: str) -> str:
    payload = _payload_bytes(part)
    charset = _safely(part.get_content_charset, None)
    if not charset and content_type == "text/html":
        declared = META_CHARSET.search(payload[:4096])
        charset = declared.group(1).decode("ascii") if declared else None
    text = decode_bytes(payload, str(charset) if charset else None)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if content_type == "text/plain" and _parameter(part, "format").lower() == "flowed":
        text = unflow(text, delete_space=_parameter(part, "delsp").lower() == "yes")
    return text


def _parameter(part: Message, name: str) -> str:
    value = _safely(lambda: part.get_param(name), None)
    if isinstance(value, tuple):  # RFC 2231: (charset, language, text)
        encoded = value
        value = _safely(lambda: collapse_rfc2231_value(encoded), None)
    return value if isinstance(value, str) else ""


def _explicit_filename(part: Message) -> str:
    name = _safely(part.get_filename, None) or _parameter(part, "name")
    if not isinstance(name, str) or not name:
        return ""
    return _safe_filename(decode_header_text(name))


def _safe_filename(name: str, suffix: str = "") -> str:
    name = re.split(r"[/\\]", name)[-1]
    name = UNSAFE_FILENAME_CHARACTERS.sub("", collapse_whitespace(name)).strip(" .")
    if not name:
        return ""
    room = MAXIMUM_FILENAME_LENGTH - len(suffix)
    stem, dot, extension = name.rpartition(".")
    if len(name) > room:
        name = f"{stem[: room - len(extension) - 1]}.{extension}" if dot else name[:room]
    return name + suffix


def _made_up_filename(content_type: str, index: int, is_inline: bool) -> str:
    if content_type in CALENDAR_TYPES:
        return "invite.ics"
    extension = mimetypes.guess_extension(content_type, strict=False) or ".bin"
    if is_inline and content_type.startswith("image/"):
        return f"image{index:03d}{extension}"
    return f"attachment-{index}{extension}"


def _message_bytes(part: Message, inner: Message | None) -> bytes:
    if inner is not None:
        verbatim = policy.default.clone(refold_source="none", linesep="\r\n")
        serialized = _safely(lambda: inner.as_bytes(policy=verbatim), None)
        if serialized is not None:
            return serialized
    return _safely(lambda: part.as_bytes(), b"")


def _delivery_status_fields(part: Message) -> dict[str, str]:
    """The per-message fields plus those of the first failed recipient (RFC 3464 blocks)."""
    blocks = [
        {name.lower(): collapse_whitespace(decode_surrogates(value)) for name, value in items}
        for items in (_raw_items(block) for block in _children(part))
    ]
    if not blocks:
        return _headers_from_text(_part_text(part, "text/plain").replace("\n\n", "\n"))
    per_message, recipients = blocks[0], blocks[1:] or blocks[:1]
    failed = [block for block in recipients if is_failed_action(block.get("action", ""))]
    return {**per_message, **(failed or recipients)[0]}


def _headers_from_text(text: str) -> dict[str, str]:
    parsed = _safely(lambda: HeaderParser(policy=policy.default).parsestr(text.lstrip()), None)
    if parsed is None:
        return {}
    return _HeaderValues.from_message(parsed).first_values()


def _without_duplicate_invites(
    attachments: list[ParsedAttachment], named: list[bool]
) -> list[ParsedAttachment]:
    """Google sends an invite twice: a text/calendar body part and the same bytes as a named
    invite.ics attachment. One copy is kept, the named one when there is one."""
    kept: list[ParsedAttachment] = []
    kept_named: list[bool] = []
    invite_index_by_key: dict[bytes, int] = {}
    for attachment, is_named in zip(attachments, named, strict=True):
        key = (
            _calendar_key(attachment.content) if attachment.content_type in CALENDAR_TYPES else None
        )
        duplicate_index = invite_index_by_key.get(key) if key is not None else None
        if duplicate_index is None:
            if key is not None:
                invite_index_by_key[key] = len(kept)
            kept.append(attachment)
            kept_named.append(is_named)
        elif is_named and not kept_named[duplicate_index]:
            kept[duplicate_index] = attachment
            kept_named[duplicate_index] = True
    return kept[:MAXIMUM_ATTACHMENTS]


def _calendar_key(content: bytes) -> bytes:
    return b"\n".join(line.strip() for line in content.strip().splitlines())


def _bounce(
    body: _BodyCollector,
    full_text: str,
    subject: str,
    sender: tuple[str, str],
    headers: _HeaderValues,
) -> BounceReport | None:
    from_address, from_name = sender
    if body.is_delivery_report:
        return bounce_from_delivery_status(body.delivery_status, body.returned_headers, full_text)
    if is_bounce_sender(from_address, from_name):
        failed_recipients = headers.first("x-failed-recipients")
        return bounce_from_plain_text(full_text, subject, from_address, failed_recipients)
    return None


def _synthetic_message_id(raw: bytes) -> str:
    return f"sb-synthetic-{hashlib.sha256(raw).hexdigest()[:32]}@{SYNTHETIC_ID_DOMAIN}"


def _storable(parsed: ParsedEmail) -> ParsedEmail:
    """Every text field made storable: PostgreSQL text cannot hold NUL, lone surrogates
    cannot be encoded at all, and no header value needs control characters."""
    return replace(
        parsed,
        message_id=storable_line(parsed.message_id),
        in_reply_to=_single_lines(parsed.in_reply_to),
        references=_single_lines(parsed.references),
        from_address=storable_line(parsed.from_address),
        from_name=storable_line(parsed.from_name),
        reply_to_address=storable_line(parsed.reply_to_address),
        reply_to_name=storable_line(parsed.reply_to_name),
        recipients=_single_lines(parsed.recipients),
        subject=storable_line(parsed.subject),
        language=storable_line(parsed.language),
        text=storable_text(parsed.text),
        full_text=storable_text(parsed.full_text),
        html=storable_text(parsed.html),
        attachments=tuple(
            replace(
                attachment,
                filename=storable_line(attachment.filename),
                content_type=storable_line(attachment.content_type),
                content_id=storable_line(attachment.content_id),
            )
            for attachment in parsed.attachments
        ),
        bounce=(
            replace(
                parsed.bounce,
                original_message_id=storable_line(parsed.bounce.original_message_id),
                recipient=storable_line(parsed.bounce.recipient),
                diagnostic=storable_line(parsed.bounce.diagnostic),
            )
            if parsed.bounce is not None
            else None
        ),
        own_message_marker=storable_line(parsed.own_message_marker),
    )


def _single_lines(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(cleaned for cleaned in map(storable_line, values) if cleaned)
