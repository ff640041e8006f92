"""Email: raw RFC 5322 messages in by webhook, SMTP server or IMAP mailbox (inbound), SMTP
out (outbound), the channel's addresses, reply tokens and Message-IDs (addressing)."""

from channels_app.adapters.email.adapter import EmailAdapter
from channels_app.adapters.email.addressing import is_own_message_marker, own_message_marker

__all__ = ["EmailAdapter", "is_own_message_marker", "own_message_marker"]
