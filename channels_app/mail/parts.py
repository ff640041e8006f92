"""The MIME tree of one message walked once, tolerating real-world mail: its parts sorted
into body text, HTML, attachments (named safely, duplicate invites dropped) and the
machine-readable parts of a delivery report."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import HeaderParser
from email.utils import collapse_rfc2231_value
from typing import TypeVar

from channels_app.mail.automatic import is_failed_action
from channels_app.mail.charsets import decode_bytes, decode_surrogates
from channels_app.mail.headers import (
    HeaderValues,
    collapse_whitespace,
    decode_header_text,
    raw_header_items,
)
from channels_app.mail.quotes import unflow
from channels_app.mail.results import ParsedAttachment

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
META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
UNSAFE_FILENAME_CHARACTERS = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")

Result = TypeVar("Result")


@dataclass
class BodyCollector:
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
        branches: list[BodyCollector] = []
        for child in _children(part):
            branch = BodyCollector()
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
                self.returned_headers.update(HeaderValues.from_message(inner).first_values())
            return
        subject = ""
        if inner is not None:
            subject = decode_header_text(HeaderValues.from_message(inner).first("subject"))
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
    return next((value for key, value in raw_header_items(part) if key.lower() == name), "")


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
        for items in (raw_header_items(block) for block in _children(part))
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
    return HeaderValues.from_message(parsed).first_values()


def without_duplicate_invites(
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
