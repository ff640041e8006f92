"""What the parser hands to the rest of the application: plain frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class EmailUnreadable(ValueError):
    """The bytes cannot be an email at all: empty, or neither headers nor body."""


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""
    is_inline: bool = False


@dataclass(frozen=True)
class BounceReport:
    original_message_id: str
    recipient: str
    diagnostic: str
    # The address itself is bad (no such mailbox or domain), not a passing condition.
    is_address_dead: bool = False


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    from_address: str
    from_name: str
    reply_to_address: str
    reply_to_name: str
    recipients: tuple[str, ...]
    subject: str
    sent_at: datetime | None
    text: str
    full_text: str
    html: str
    attachments: tuple[ParsedAttachment, ...]
    is_auto_reply: bool
    bounce: BounceReport | None
    # The X-Switchboard-Message-Id a mail we sent carries; the adapter checks its signature.
    own_message_marker: str
    # The first language tag of Content-Language, as given ("" without one).
    language: str = ""
