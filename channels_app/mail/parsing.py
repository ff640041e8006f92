"""Parsing one raw RFC 5322 message into what the inbox needs, tolerating real-world mail.

Everything here is plain Python: the SMTP server, the IMAP poller and the email webhook all
hand their bytes to :func:`parse_email` and receive a frozen :class:`ParsedEmail`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from email import policy
from email.message import Message
from email.parser import BytesParser

from channels_app.mail.automatic import (
    bounce_from_delivery_status,
    bounce_from_plain_text,
    is_automatic,
    is_bounce_sender,
    is_delivery_notice,
)
from channels_app.mail.headers import (
    HeaderValues,
    collapse_whitespace,
    decode_header_text,
    parse_date,
    parse_message_ids,
)
from channels_app.mail.parts import BodyCollector, without_duplicate_invites
from channels_app.mail.quotes import split_visible_text
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

# Marks mail we sent, so that it coming back (a relay's copy, a loop) is recognised.
OWN_MESSAGE_HEADER = "X-Switchboard-Message-Id"
SYNTHETIC_ID_DOMAIN = "switchboard.invalid"
HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+:")
HEADER_NAME_WITH_SPACE = re.compile(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]+:")


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse raw message bytes; raises :class:`EmailUnreadable` only for non-mail."""
    if not raw or not raw.strip():
        raise EmailUnreadable("The message is empty.")
    message = _parse_message(raw)
    headers = HeaderValues.from_message(message)
    body = BodyCollector()
    body.visit(message, depth=0, in_report=False)
    full_text = body.plain_text() or html_to_text(body.html_source())
    attachments = without_duplicate_invites(body.attachments, body.named_attachments)
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


def _bounce(
    body: BodyCollector,
    full_text: str,
    subject: str,
    sender: tuple[str, str],
    headers: HeaderValues,
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
