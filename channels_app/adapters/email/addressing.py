"""How the email channel names things and recognises its own: the channel's address, the
per-conversation reply address (address+token), our Message-IDs, and the signed marker
every mail we send carries."""

import re
from typing import TYPE_CHECKING

from django.utils.crypto import constant_time_compare, salted_hmac

from customers.normalization import InvalidIdentityValue, normalize_email

if TYPE_CHECKING:
    from channels_app.models import Channel

# Carried by every mail we send, so that one coming back (a loop, a forward to the
# support address) is recognised and dropped.
OWN_MESSAGE_SALT = "switchboard.email.own-message"
REPLY_TOKEN_SALT = "switchboard.email.reply-address"
_OWN_MESSAGE_ID = re.compile(r"^switchboard\.(?P<message>\d{1,18})\.[0-9a-f]{10}@")
_REPLY_TOKEN = re.compile(r"^c(?P<conversation>\d{1,18})-(?P<signature>[0-9a-f]{12})$")
# Most references a reply carries; long threads keep the first and the latest ones.
MAX_REFERENCES = 20


def channel_address(channel: "Channel") -> str:
    return str(channel.config.get("address", "")).strip().lower()


def accepts_recipient(channel: "Channel", recipient: str) -> bool:
    local, _, domain = recipient.strip().lower().partition("@")
    own_local, _, own_domain = channel_address(channel).partition("@")
    return domain == own_domain and local.partition("+")[0] == own_local


def reply_token(channel: "Channel", conversation_id: int) -> str:
    signature = salted_hmac(
        REPLY_TOKEN_SALT, f"{channel.pk}:{conversation_id}", algorithm="sha256"
    ).hexdigest()[:12]
    return f"c{conversation_id}-{signature}"


def conversation_for_reply_token(channel: "Channel", token: str) -> int | None:
    match = _REPLY_TOKEN.match(token)
    if match is None:
        return None
    conversation_id = int(match["conversation"])
    if not constant_time_compare(reply_token(channel, conversation_id), token):
        return None
    return conversation_id


def reply_address(channel: "Channel", conversation_id: int) -> str:
    local, _, domain = channel_address(channel).partition("@")
    return f"{local}+{reply_token(channel, conversation_id)}@{domain}"


def message_id_for(channel: "Channel", message_id: int) -> str:
    signature = salted_hmac(
        REPLY_TOKEN_SALT, f"message:{channel.pk}:{message_id}", algorithm="sha256"
    ).hexdigest()[:10]
    return f"switchboard.{message_id}.{signature}@{channel_address(channel).partition('@')[2]}"


def is_own_message_id(channel: "Channel", candidate: str) -> bool:
    match = _OWN_MESSAGE_ID.match(candidate)
    return match is not None and constant_time_compare(
        message_id_for(channel, int(match["message"])), candidate
    )


def own_message_marker(identifier: str) -> str:
    """The X-Switchboard-Message-Id value of a mail we send: signed, so mail that merely
    carries the header (another installation's, a forged one) is not taken for ours."""
    signature = salted_hmac(OWN_MESSAGE_SALT, identifier, algorithm="sha256").hexdigest()[:16]
    return f"{identifier}.{signature}"


def is_own_message_marker(marker: str) -> bool:
    identifier, dot, _ = marker.rpartition(".")
    return bool(dot and identifier) and constant_time_compare(
        own_message_marker(identifier), marker
    )


def is_email_address(value: str) -> bool:
    try:
        normalize_email(value)
    except InvalidIdentityValue:
        return False
    return True
