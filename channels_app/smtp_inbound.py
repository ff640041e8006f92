"""The inbound SMTP server (`manage.py smtp_inbound`): mail for our email channels' addresses
goes to the same store-then-parse flow as the email webhook.

It is meant to sit behind the MX (Postfix `relay_transport`/`transport_maps`, or any
relay's "forward to host:port"): it accepts the addresses of active email channels and
their `+token` reply addresses, refuses every other recipient with 550, and messages over
EMAIL_INBOUND_MAX_BYTES with 552 (aiosmtpd's own size check).
"""

import logging
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from channels_app.adapters.email import EmailAdapter
from channels_app.contracts import PayloadMalformed
from channels_app.models import Channel, ChannelKind
from channels_app.services import mail_receive

logger = logging.getLogger(__name__)


def email_channel_for_recipient(address: str) -> Channel | None:
    """The active email channel that receives mail sent to `address`, if any."""
    local, _, domain = address.strip().lower().partition("@")
    base_address = f"{local.partition('+')[0]}@{domain}"
    try:
        for channel in Channel.objects.filter(
            kind=ChannelKind.EMAIL, is_active=True, config__address__iexact=base_address
        ):
            if EmailAdapter(channel).accepts_recipient(address):
                return channel
        return None
    finally:
        _release_connection()


def _receive_for_channels(channel_ids: list[int], raw: bytes, envelope_sender: str) -> int:
    """Store the message for each channel still active; returns for how many."""
    stored = 0
    try:
        for channel in Channel.objects.filter(pk__in=channel_ids, is_active=True):
            mail_receive(channel=channel, raw=raw, envelope_sender=envelope_sender)
            stored += 1
    finally:
        _release_connection()
    return stored


def _release_connection() -> None:
    # The server's worker threads may sit idle for hours between mails: never keep a
    # connection across that (a restarted database would leave it broken).
    connection.close()


class InboundMailHandler:
    """aiosmtpd handler: vets each recipient, then stores the message once per channel."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        channel = await sync_to_async(email_channel_for_recipient, thread_sensitive=False)(address)
        if channel is None:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        channel_ids = envelope.__dict__.setdefault("channel_ids", [])
        if channel.pk not in channel_ids:
            channel_ids.append(channel.pk)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            # Each message in a thread of its own: one slow message (a large attachment
            # being stored) must not hold up every other connection's mail.
            stored = await sync_to_async(_receive_for_channels, thread_sensitive=False)(
                list(envelope.__dict__.get("channel_ids", [])), raw, envelope.mail_from or ""
            )
        except PayloadMalformed as error:
            return f"550 5.6.0 Message not accepted: {error.detail}"
        except Exception:
            # The store is down or similar: the sending server keeps the mail and tries again.
            logger.exception("inbound mail from %s not stored", envelope.mail_from)
            return "451 4.3.0 Temporary failure, try again later"
        if not stored:
            # Every recipient's channel was switched off between RCPT and DATA: saying
            # "accepted" would lose the mail; this way it bounces back to its sender.
            return "550 5.1.1 No such mailbox here"
        return "250 2.0.0 Message accepted"


class LenientSMTP(SMTP):
    # RFC 5321 caps lines at 1,000 octets, but senders of unwrapped HTML exceed it and
    # MTAs in front of us pass such mail on; refusing it would lose a customer's message.
    line_length_limit = 1024 * 1024


class InboundMailController(Controller):
    def factory(self) -> SMTP:
        return LenientSMTP(self.handler, **self.SMTP_kwargs)


def smtp_inbound_controller(*, host: str, port: int) -> Controller:
    """A controller (not yet started) serving InboundMailHandler on host:port."""
    return InboundMailController(
        InboundMailHandler(),
        hostname=host,
        port=port,
        data_size_limit=settings.EMAIL_INBOUND_MAX_BYTES,
        enable_SMTPUTF8=True,
        decode_data=False,
        ident="Switchboard ESMTP",
    )
