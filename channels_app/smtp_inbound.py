"""The inbound SMTP server (`manage.py smtp_inbound`): mail for our email channels' addresses
goes to the same store-then-parse flow as the email webhook.

It is meant to sit behind the MX (Postfix `relay_transport`/`transport_maps`, or any
relay's "forward to host:port"): it accepts the addresses of active email channels and
their `+token` reply addresses, refuses every other recipient with 550, and messages over
EMAIL_INBOUND_MAX_BYTES with 552 (aiosmtpd's own size check).

Messages are stored by a fixed number of worker threads, each holding a database connection
only while it stores, so the server never takes more connections than it has workers. A
worker that comes free takes every message waiting (at most MAX_BATCH) and stores them in
one transaction (`channels_app.mail_batches`): under load the commits and broadcasts are
shared, while a lone message is stored at once. A burst beyond what the database stores is
held back, not piled up in memory: a message that no worker takes within
STORE_WAIT_SECONDS is answered 451 (the sending server keeps it and tries again);
connections beyond the limit are answered 421 at once.
"""

import asyncio
import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from channels_app.adapters.email import EmailAdapter
from channels_app.contracts import PayloadMalformed
from channels_app.mail_batches import store_together
from channels_app.models import Channel, ChannelKind
from channels_app.services import mail_receive

logger = logging.getLogger(__name__)

DEFAULT_WORKERS = 4
DEFAULT_MAX_CONNECTIONS = 100
# Messages a worker stores in one transaction at most.
MAX_BATCH = 32
# Below the five minutes a sending server waits for its answer to the end of DATA
# (RFC 5321 4.5.3.2.6), so it hears 451 rather than giving up on a silent connection.
STORE_WAIT_SECONDS = 120.0
# How long a recipient known to be a channel's address, and the channel's settings, are
# taken on trust before the database is asked again (as webhooks take their channel);
# whether the channel is still active is asked with every message.
CHANNEL_MEMORY_SECONDS = 5.0
BUSY_REPLY = "451 4.3.2 Too busy to store mail now, try again later"
TOO_MANY_CONNECTIONS_REPLY = b"421 4.3.2 Too many connections, try again later\r\n"
# `<local@domain>`, as every MTA sends it; anything else goes to aiosmtpd's full parser.
_PLAIN_PATH = re.compile(r"\s*<([^\s<>()\[\]\\\",;:@]+@[^\s<>()\[\]\\\",;:@]+)>(.*)", re.DOTALL)

Result = TypeVar("Result")


def email_channel_for_recipient(address: str) -> Channel | None:
    """The active email channel that receives mail sent to `address`, if any."""
    try:
        return _active_channel_for(address)
    finally:
        _release_connection()


def _active_channel_for(address: str) -> Channel | None:
    local, _, domain = address.strip().lower().partition("@")
    base_address = f"{local.partition('+')[0]}@{domain}"
    for channel in Channel.objects.filter(
        kind=ChannelKind.EMAIL, is_active=True, config__address__iexact=base_address
    ):
        if EmailAdapter(channel).accepts_recipient(address):
            return channel
    return None


@dataclass
class MailDelivery:
    """One message as the SMTP session took it: for these recipients' channels."""

    channel_ids: list[int]
    recipients: list[str]
    raw: bytes
    envelope_sender: str
    stored: asyncio.Future = field(repr=False)


def deliveries_store(deliveries: list[MailDelivery]) -> list[int | Exception]:
    """Store each delivery for each of its recipients' channels still active, together;
    returns for how many channels each was stored, or why it could not be."""
    wanted = {channel_id for delivery in deliveries for channel_id in delivery.channel_ids}
    answer: list[set[int]] = []

    def active_channel_ids() -> set[int]:
        # Asked once a batch, inside its transaction rather than in one of its own.
        if not answer:
            active = Channel.objects.filter(pk__in=wanted, is_active=True)
            answer.append(set(active.values_list("pk", flat=True)))
        return answer[0]

    try:
        return store_together(
            [
                partial(_receive_for_recipients, delivery, active_channel_ids)
                for delivery in deliveries
            ]
        )
    finally:
        _release_connection()


def _receive_for_recipients(
    delivery: MailDelivery, active_channel_ids: Callable[[], set[int]]
) -> int:
    if active_channel_ids().issuperset(delivery.channel_ids):
        channels = [_channel_with_teams(channel_id) for channel_id in delivery.channel_ids]
    else:
        # A channel taken on trust at RCPT is off, or gone and made again under the
        # same address: ask about every recipient again.
        found = (_active_channel_for(recipient) for recipient in delivery.recipients)
        channels = list({channel.pk: channel for channel in found if channel}.values())
    for channel in channels:
        mail_receive(channel=channel, raw=delivery.raw, envelope_sender=delivery.envelope_sender)
    return len(channels)


# Channels, with the teams a new conversation is filed under, as the workers last read them.
_recent_channels: dict[int, tuple[float, Channel]] = {}


def _channel_with_teams(channel_id: int) -> Channel:
    recent = _recent_channels.get(channel_id)
    if recent is not None and recent[0] > time.monotonic():
        return recent[1]
    channel = Channel.objects.prefetch_related("teams").get(pk=channel_id)
    _recent_channels[channel_id] = (time.monotonic() + CHANNEL_MEMORY_SECONDS, channel)
    return channel


def _release_connection() -> None:
    # Back to the process's pool after every message: the workers may sit idle for hours
    # between mails, and a connection kept across that would be one the pool cannot lend.
    connection.close()


class WorkersBusy(Exception):
    """Every worker stayed busy for as long as a message may wait for one."""


class InboundMailHandler:
    """aiosmtpd handler: vets each recipient, then stores the message once per channel,
    on at most `workers` threads at a time."""

    def __init__(
        self,
        *,
        workers: int = DEFAULT_WORKERS,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        store_wait_seconds: float = STORE_WAIT_SECONDS,
    ):
        self.workers = workers
        self.max_connections = max_connections
        self.store_wait_seconds = store_wait_seconds
        self.open_connections = 0
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="smtp-store")
        self._free_workers: asyncio.Semaphore | None = None
        self._known_recipients: dict[str, tuple[float, int]] = {}
        self._waiting: list[MailDelivery] = []
        self._batches: set[asyncio.Task] = set()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _workers(self) -> asyncio.Semaphore:
        if self._free_workers is None:  # created on the server's own event loop
            self._free_workers = asyncio.Semaphore(self.workers)
        return self._free_workers

    async def _on_worker(self, work: Callable[..., Result], *args: Any) -> Result:
        """Run `work` on a free worker thread, waiting for one at most store_wait_seconds."""
        try:
            await asyncio.wait_for(self._workers().acquire(), self.store_wait_seconds)
        except TimeoutError as error:
            raise WorkersBusy from error
        try:
            # Through asgiref: the broadcasts a stored message makes from its worker then
            # run on this server's event loop and its one Redis connection, instead of a
            # new loop and connection each.
            return await sync_to_async(work, thread_sensitive=False, executor=self._executor)(*args)
        finally:
            self._workers().release()

    async def _store(self, delivery: MailDelivery) -> int:
        """Have the message stored with whatever else is waiting when a worker comes free;
        WorkersBusy when none takes it within store_wait_seconds."""
        self._waiting.append(delivery)
        batch = asyncio.ensure_future(self._store_waiting())
        self._batches.add(batch)
        batch.add_done_callback(self._batches.discard)
        try:
            return await asyncio.wait_for(asyncio.shield(delivery.stored), self.store_wait_seconds)
        except TimeoutError:
            if delivery in self._waiting:
                self._waiting.remove(delivery)
                raise WorkersBusy from None
            return await delivery.stored  # taken by a worker: its outcome is near

    async def _store_waiting(self) -> None:
        """Wait for a free worker, then store every message waiting by then (one batch)."""
        try:
            await asyncio.wait_for(self._workers().acquire(), self.store_wait_seconds)
        except TimeoutError:
            return
        try:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            if not batch:
                return
            try:
                outcomes = await sync_to_async(
                    deliveries_store, thread_sensitive=False, executor=self._executor
                )(batch)
            except Exception as error:
                outcomes = [error] * len(batch)
            for delivery, outcome in zip(batch, outcomes, strict=True):
                if delivery.stored.done():
                    continue
                if isinstance(outcome, Exception):
                    delivery.stored.set_exception(outcome)
                else:
                    delivery.stored.set_result(outcome)
        finally:
            self._workers().release()

    async def _channel_id_for(self, address: str) -> int | None:
        key = address.strip().lower()
        known = self._known_recipients.get(key)
        if known is not None and known[0] > time.monotonic():
            return known[1]
        channel = await self._on_worker(email_channel_for_recipient, address)
        if channel is None:
            # Not remembered: a channel created a moment ago must not be refused with 550.
            self._known_recipients.pop(key, None)
            return None
        self._known_recipients[key] = (time.monotonic() + CHANNEL_MEMORY_SECONDS, channel.pk)
        return channel.pk

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            channel_id = await self._channel_id_for(address)
        except WorkersBusy:
            return BUSY_REPLY
        if channel_id is None:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        channel_ids = envelope.__dict__.setdefault("channel_ids", [])
        if channel_id not in channel_ids:
            channel_ids.append(channel_id)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        channel_ids = list(envelope.__dict__.get("channel_ids", []))
        delivery = MailDelivery(
            channel_ids=channel_ids,
            recipients=list(envelope.rcpt_tos),
            raw=raw,
            envelope_sender=envelope.mail_from or "",
            stored=asyncio.get_running_loop().create_future(),
        )
        try:
            # A batch on the first worker free: one slow message (a large attachment
            # being stored) holds up its own batch's worker, not every other connection.
            stored = await self._store(delivery)
        except WorkersBusy:
            logger.warning("inbound mail from %s deferred: every worker busy", envelope.mail_from)
            return BUSY_REPLY
        except PayloadMalformed as error:
            return f"550 5.6.0 Message not accepted: {error.detail}"
        except Exception:
            # The store is down or similar: the sending server keeps the mail and tries again.
            logger.exception("inbound mail from %s not stored", envelope.mail_from)
            return "451 4.3.0 Temporary failure, try again later"
        if stored < len(channel_ids):
            self._known_recipients.clear()
        if not stored:
            # Every recipient's channel was switched off between RCPT and DATA: saying
            # "accepted" would lose the mail; this way it bounces back to its sender.
            return "550 5.1.1 No such mailbox here"
        return "250 2.0.0 Message accepted"


class InboundSMTP(SMTP):
    # RFC 5321 caps lines at 1,000 octets, but senders of unwrapped HTML exceed it and
    # MTAs in front of us pass such mail on; refusing it would lose a customer's message.
    line_length_limit = 1024 * 1024

    def __init__(self, handler: InboundMailHandler, **kwargs: Any):
        super().__init__(handler, **kwargs)
        self.mail_handler = handler
        self.is_admitted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        handler = self.mail_handler
        if handler.open_connections >= handler.max_connections:
            # Every connection may hold a whole message in memory: beyond the limit the
            # sender is told to come back, before it sends anything.
            transport.write(TOO_MANY_CONNECTIONS_REPLY)  # type: ignore[attr-defined]
            transport.close()
            return
        self.is_admitted = True
        handler.open_connections += 1
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if not self.is_admitted:
            return
        self.is_admitted = False
        self.mail_handler.open_connections -= 1
        super().connection_lost(error)

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        # aiosmtpd reads every address with the email package's RFC 5322 header parser,
        # a good share of the server's time per message; the plain form needs a regex.
        plain = _PLAIN_PATH.fullmatch(arg)
        if plain is None:
            return super()._getaddr(arg)
        address, rest = plain.groups()
        if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return address, rest


class InboundMailController(Controller):
    handler: InboundMailHandler

    def factory(self) -> SMTP:
        return InboundSMTP(self.handler, **self.SMTP_kwargs)

    def stop(self, *args: Any, **kwargs: Any) -> None:
        super().stop(*args, **kwargs)
        self.handler.close()


def smtp_inbound_controller(
    *,
    host: str,
    port: int,
    workers: int = DEFAULT_WORKERS,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    store_wait_seconds: float = STORE_WAIT_SECONDS,
) -> Controller:
    """A controller (not yet started) serving InboundMailHandler on host:port."""
    return InboundMailController(
        InboundMailHandler(
            workers=workers,
            max_connections=max_connections,
            store_wait_seconds=store_wait_seconds,
        ),
        hostname=host,
        port=port,
        data_size_limit=settings.EMAIL_INBOUND_MAX_BYTES,
        enable_SMTPUTF8=True,
        decode_data=False,
        ident="Switchboard ESMTP",
    )
