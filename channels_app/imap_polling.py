"""IMAP mailboxes of email channels, read by beat: new messages by UID, each once.

Per folder we remember UIDVALIDITY and the last UID imported; a message is imported,
then flagged \\Seen (or moved to `imap_processed_folder`), then remembered, so a crash
in between imports it again at worst, which the raw-event and Message-ID deduplication
turn into a no-op. Connection and login errors are kept on the mailbox and retried on
later polls, less often while they last.

Messages are fetched in groups (GROUP_SIZE, GROUP_BYTES) by one command, stored in one
transaction (channels_app.mail_batches), then flagged together; a group the server will
not hand out together is fetched message by message (on a new connection if the server
hung up), so the rules below still apply to each message.

One bad message never holds up the mail behind it: a message the server keeps refusing
to hand out is skipped (left unread on the server) and named in the mailbox's
`last_error`; one our parser or the inbox trips on is kept as a failed raw event, to be
processed again later, and counts as imported. A lost connection or database skips
nothing.
"""

import imaplib
import logging
import re
import secrets
import ssl
import time
from datetime import timedelta
from functools import partial

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db import Error as DatabaseError
from django.utils import timezone

from channels_app.contracts import PayloadMalformed
from channels_app.imap_session import (
    MailboxSession,
    MailboxUnreachable,
    MessageRefused,
    fetch_many,
    fetch_one,
    folder_uid_validity,
    message_command,
    message_sizes,
    quoted,
    server_text,
)
from channels_app.mail_batches import store_together
from channels_app.models import Channel, ChannelKind, MailboxState
from channels_app.services import mail_receive

logger = logging.getLogger(__name__)

DEFAULT_FOLDER = "INBOX"
MAX_BACKOFF_SECONDS = 3600
# Polls that try a message the server refuses to hand out before it is skipped.
FETCH_ATTEMPTS = 3
FETCH_ATTEMPTS_MEMORY_SECONDS = 7 * 24 * 3600
MAX_PROBLEMS_SHOWN = 5
# Messages fetched in one command and stored in one transaction.
GROUP_SIZE = 16
GROUP_BYTES = 4 * 1024 * 1024
# RFC 5530 response codes (and common wordings) that refuse everything for a while.
_MAILBOX_WIDE_REFUSAL = re.compile(
    r"\[(?:UNAVAILABLE|OVERQUOTA|LIMIT|INUSE|AUTHORIZATIONFAILED|EXPIRED)\]|"
    r"shutting down|shutdown|try again later|too many|rate limit|bandwidth",
    re.IGNORECASE,
)


def mailbox_channels_due(*, now=None) -> list[int]:
    """Ids of active email channels with an IMAP mailbox whose next poll is due."""
    now = now or timezone.now()
    due = []
    channels = Channel.objects.filter(kind=ChannelKind.EMAIL, is_active=True).exclude(
        config__imap_host=None
    )
    states = {
        state.channel_id: state
        for state in MailboxState.objects.filter(channel__in=[c.pk for c in channels])
    }
    for channel in channels:
        if not channel.config.get("imap_host"):
            continue
        state = states.get(channel.pk)
        interval = float(channel.config.get("imap_poll_seconds") or settings.IMAP_POLL_SECONDS)
        if state is None or state.last_polled_at is None:
            due.append(channel.pk)
            continue
        # Half an interval of slack: beat's ticks and the poll's own duration jitter.
        wait = interval / 2
        if state.consecutive_failures:
            wait = min(interval * 2**state.consecutive_failures, MAX_BACKOFF_SECONDS)
        if state.last_polled_at + timedelta(seconds=wait) <= now:
            due.append(channel.pk)
    return due


def mailbox_poll(*, channel_id: int) -> int:
    """Import the new messages of one channel's IMAP folder; returns how many were read.

    One poll per mailbox at a time (a cache lock), so overlapping beat ticks or workers
    never import the same UID range twice.
    """
    channel = Channel.objects.filter(pk=channel_id, kind=ChannelKind.EMAIL, is_active=True).first()
    if channel is None or not channel.config.get("imap_host"):
        return 0
    lock = _PollLock(channel.pk)
    if not lock.acquire():
        return 0
    folder = str(channel.config.get("imap_folder") or DEFAULT_FOLDER)
    state, _ = MailboxState.objects.get_or_create(channel=channel, folder=folder)
    problems: list[str] = []
    try:
        imported = _poll(channel, state, folder, problems, lock)
    except (
        MailboxUnreachable,
        imaplib.IMAP4.error,
        OSError,
        ssl.SSLError,
        DatabaseError,
    ) as error:
        state.consecutive_failures += 1
        state.last_error = _problems_text([f"{type(error).__name__}: {error}", *problems])
        state.last_polled_at = timezone.now()
        state.save(update_fields=["consecutive_failures", "last_error", "last_polled_at"])
        logger.warning("IMAP mailbox of channel %s: %s", channel.pk, state.last_error)
        return 0
    finally:
        lock.release()
    if problems:
        state.last_error = _problems_text(problems)
    elif state.consecutive_failures:
        state.last_error = ""
    # Otherwise a skipped message stays named until another problem replaces it.
    state.consecutive_failures = 0
    state.last_polled_at = timezone.now()
    state.save(update_fields=["consecutive_failures", "last_error", "last_polled_at"])
    return imported


def mailbox_poll_until_drained(*, channel_id: int) -> int:
    """Poll the mailbox again while each poll finds a full batch (IMAP_BATCH_SIZE), for at
    most IMAP_POLL_SECONDS: a backlog comes in at the rate it can be stored rather than
    one batch per beat tick. Returns how many messages were imported.

    The polls run under one event loop of their own, so that the broadcast each stored
    message makes reaches the channel layer over one connection instead of a new one
    each (asgiref runs them on the loop of the outermost async_to_sync).
    """
    return async_to_sync(_poll_until_drained_on_loop)(channel_id)


async def _poll_until_drained_on_loop(channel_id: int) -> int:
    return await sync_to_async(_poll_until_drained)(channel_id)


def _poll_until_drained(channel_id: int) -> int:
    deadline = time.monotonic() + settings.IMAP_POLL_SECONDS
    imported = 0
    while True:
        batch = mailbox_poll(channel_id=channel_id)
        imported += batch
        if batch < settings.IMAP_BATCH_SIZE or time.monotonic() >= deadline:
            return imported


def _groups(uids: list[int], sizes: dict[int, int]) -> list[list[int]]:
    """`uids` in groups of at most GROUP_SIZE messages and GROUP_BYTES (a larger message,
    or one of unknown size, makes a group of its own): what one poll holds in memory."""
    groups: list[list[int]] = []
    group: list[int] = []
    group_bytes = 0
    for uid in uids:
        size = sizes.get(uid, GROUP_BYTES)
        if group and (len(group) == GROUP_SIZE or group_bytes + size > GROUP_BYTES):
            groups.append(group)
            group, group_bytes = [], 0
        group.append(uid)
        group_bytes += size
    if group:
        groups.append(group)
    return groups


class _PollLock:
    """One poll per mailbox at a time. The lock lapses soon after a poll that died, and
    a poll renews it with every message, so a slow one keeps it; it is only released by
    the poll holding it."""

    def __init__(self, channel_id: int):
        self.key = f"imap-poll:{channel_id}"
        self.token = secrets.token_hex(8)
        self.timeout = int(settings.IMAP_TIMEOUT_SECONDS * 4)
        self.renewed_at = time.monotonic()

    def acquire(self) -> bool:
        self.renewed_at = time.monotonic()
        return cache.add(self.key, self.token, timeout=self.timeout)

    def renew(self) -> None:
        self.renewed_at = time.monotonic()
        if cache.get(self.key) == self.token:
            cache.touch(self.key, timeout=self.timeout)

    def renew_when_due(self) -> None:
        """Renew once a quarter of the lock's time has passed: two cache round trips per
        message would cost more than reading a small message does."""
        if time.monotonic() - self.renewed_at >= self.timeout / 4:
            self.renew()

    def release(self) -> None:
        if cache.get(self.key) == self.token:
            cache.delete(self.key)


def _remember_uid(state: MailboxState, uid: int) -> None:
    """Move the mailbox's last UID forward, never back (should polls ever overlap)."""
    state.last_uid = uid
    MailboxState.objects.filter(pk=state.pk, last_uid__lt=uid).update(last_uid=uid)


def _poll(
    channel: Channel, state: MailboxState, folder: str, problems: list[str], lock: _PollLock
) -> int:
    session = MailboxSession(channel, folder)
    try:
        client = session.open()
        uid_validity = folder_uid_validity(client, folder)
        if uid_validity != state.uid_validity:
            # A new UIDVALIDITY means the folder's UIDs were renumbered: start over; the
            # deduplication keeps the messages already imported from coming in twice.
            state.uid_validity, state.last_uid = uid_validity, 0
            state.save(update_fields=["uid_validity", "last_uid"])
        status, data = client.uid("SEARCH", f"UID {state.last_uid + 1}:*")
        if status != "OK":
            raise MailboxUnreachable("UID SEARCH failed")
        # `n:*` also names the highest UID when there is nothing above n.
        uids = sorted(int(uid) for uid in (data[0] or b"").split() if int(uid) > state.last_uid)
        uids = uids[: settings.IMAP_BATCH_SIZE]
        imported = 0
        for group in _groups(uids, message_sizes(session, uids)):
            lock.renew_when_due()
            fetched = fetch_many(session, group)
            if fetched is None:
                imported += _import_one_by_one(session, channel, state, group, problems, lock)
            else:
                imported += _import_group(session, channel, state, group, fetched, problems)
        return imported
    finally:
        session.close()


def _import_group(
    session: MailboxSession,
    channel: Channel,
    state: MailboxState,
    uids: list[int],
    fetched: dict[int, bytes],
    problems: list[str],
) -> int:
    """Store the fetched messages together, then flag them and move past them."""
    present = [uid for uid in uids if uid in fetched]  # the others were expunged meanwhile
    outcomes = store_together(
        [partial(mail_receive, channel=channel, raw=fetched[uid]) for uid in present]
    )
    imported: list[int] = []
    outage: BaseException | None = None
    for uid, outcome in zip(present, outcomes, strict=True):
        try:
            if _import_outcome(channel, uid, outcome, problems):
                imported.append(uid)
        except (DatabaseError, OSError) as error:
            # An outage, not this message's fault: the next poll tries it again.
            uids = [earlier for earlier in uids if earlier < uid]
            outage = error
            break
    _mark_imported_together(session, channel, imported, problems)
    if uids:
        _remember_uid(state, uids[-1])
    if outage is not None:
        raise outage
    return len(imported)


def _import_one_by_one(
    session: MailboxSession,
    channel: Channel,
    state: MailboxState,
    uids: list[int],
    problems: list[str],
    lock: _PollLock,
) -> int:
    client = session.client
    assert client is not None
    imported = 0
    for uid in uids:
        lock.renew_when_due()
        try:
            raw = fetch_one(client, uid)
        except imaplib.IMAP4.abort as error:
            # The server itself hung up (BYE) while handing this message out: it
            # cannot read it, and would stall the mailbox here forever. A connection
            # that merely broke (no BYE) skips nothing.
            said_bye = client.untagged_responses.get("BYE")
            if (
                not said_bye
                or _is_mailbox_wide(str(error))
                or not _fetch_given_up(channel, state, uid)
            ):
                raise
            problems.append(
                f"UID {uid} skipped, left on the server: the server hung up handing it"
                f" out {FETCH_ATTEMPTS} times: {error}"
            )
            _remember_uid(state, uid)
            raise MailboxUnreachable(f"the server hung up on FETCH of UID {uid}") from error
        except MessageRefused as error:
            # A NO from a server that is going away is no reason to skip the
            # message: NOOP then raises (BYE, lost connection) and the poll stops.
            client.noop()
            if _is_mailbox_wide(str(error)):
                # Quota, throttling, maintenance: every message would be refused now.
                raise MailboxUnreachable(f"FETCH of UID {uid} refused: {error}") from error
            if not _fetch_given_up(channel, state, uid):
                raise MailboxUnreachable(
                    f"FETCH of UID {uid} refused, tried again on a later poll: {error}"
                ) from error
            problems.append(
                f"UID {uid} skipped, left unread on the server: the server refused"
                f" FETCH {FETCH_ATTEMPTS} times: {error}"
            )
            logger.warning("IMAP mailbox of channel %s: %s", channel.pk, problems[-1])
            raw = None
        if raw is not None and _import(channel, uid, raw, problems):
            _mark_imported(client, channel, uid, session.capabilities, problems)
            imported += 1
        _remember_uid(state, uid)
    return imported


def _import(channel: Channel, uid: int, raw: bytes, problems: list[str]) -> bool:
    """Hand one message to the inbox; False when it could not be and was left alone."""
    [outcome] = store_together([lambda: mail_receive(channel=channel, raw=raw)])
    return _import_outcome(channel, uid, outcome, problems)


def _import_outcome(channel: Channel, uid: int, outcome: object, problems: list[str]) -> bool:
    """Whether the message counts as imported; raises on an outage."""
    if isinstance(outcome, PayloadMalformed):
        # Kept as a failed raw event; nothing more a retry could do with it.
        logger.warning("IMAP message %s of channel %s: %s", uid, channel.pk, outcome)
    elif isinstance(outcome, DatabaseError | OSError):
        raise outcome  # an outage, not this message's fault: the next poll tries it again
    elif isinstance(outcome, Exception):
        # Most likely a bug this message triggers: retrying would block every later
        # message, so it stays unread in the folder for someone to look at.
        logger.error(
            "IMAP message %s of channel %s could not be imported",
            uid,
            channel.pk,
            exc_info=outcome,
        )
        problems.append(
            f"UID {uid} skipped, left unread on the server: import failed:"
            f" {type(outcome).__name__}: {outcome}"
        )
        return False
    return True


def _is_mailbox_wide(answer: str) -> bool:
    """A refusal about the account or the server, not about the one message."""
    return bool(_MAILBOX_WIDE_REFUSAL.search(answer))


def _fetch_given_up(channel: Channel, state: MailboxState, uid: int) -> bool:
    """Count one refused FETCH of `uid`; True once it has been refused often enough."""
    key = f"imap-fetch-refused:{channel.pk}:{state.folder}:{state.uid_validity}:{uid}"
    cache.add(key, 0, timeout=FETCH_ATTEMPTS_MEMORY_SECONDS)
    try:
        attempts = cache.incr(key)
    except ValueError:  # evicted meanwhile, or a cache that keeps nothing
        attempts = FETCH_ATTEMPTS
    if attempts < FETCH_ATTEMPTS:
        return False
    cache.delete(key)
    return True


def _problems_text(problems: list[str]) -> str:
    shown = problems[:MAX_PROBLEMS_SHOWN]
    if len(problems) > len(shown):
        shown.append(f"and {len(problems) - len(shown)} more")
    return f"{timezone.now():%Y-%m-%d %H:%M} UTC: " + "; ".join(shown)[:1950]


def _mark_imported(
    client: imaplib.IMAP4,
    channel: Channel,
    uid: int,
    capabilities: set[str],
    problems: list[str],
) -> None:
    """Flag an imported message \\Seen or move it to the processed folder. It is stored
    already and `last_uid` moves past it whatever happens here, so a refusal is only
    recorded."""

    def refused(what: str, status: str, data: list) -> None:
        problems.append(f"UID {uid} imported, but {what}: {server_text(status, data)}")
        logger.warning("IMAP mailbox of channel %s: %s", channel.pk, problems[-1])

    processed = channel.config.get("imap_processed_folder")
    if processed:
        folder = quoted(str(processed))
        if "MOVE" in capabilities:
            status, data = message_command(client, "MOVE", uid, folder)
            if status == "OK":
                return
        else:
            status, data = message_command(client, "COPY", uid, folder)
            if status == "OK":
                status, data = message_command(
                    client, "STORE", uid, "+FLAGS.SILENT", r"(\Deleted \Seen)"
                )
                if status != "OK":
                    refused("copied to the processed folder, not removed from here", status, data)
                elif "UIDPLUS" in capabilities:
                    status, data = message_command(client, "EXPUNGE", uid)
                    if status != "OK":
                        refused("copied to the processed folder, not expunged here", status, data)
                return
        refused(f"not moved to {str(processed)!r} (flagging \\Seen instead)", status, data)
    status, data = message_command(client, "STORE", uid, "+FLAGS.SILENT", r"(\Seen)")
    if status != "OK":
        refused("not flagged \\Seen", status, data)


def _mark_imported_together(
    session: MailboxSession, channel: Channel, uids: list[int], problems: list[str]
) -> None:
    """Flag the imported messages \\Seen in one command; moving them to the processed
    folder, or a refusal, goes message by message."""
    client = session.client
    assert client is not None
    if not uids:
        return
    if not channel.config.get("imap_processed_folder"):
        status, _ = message_command(
            client, "STORE", ",".join(map(str, uids)), "+FLAGS.SILENT", r"(\Seen)"
        )
        if status == "OK":
            return
    for uid in uids:
        _mark_imported(client, channel, uid, session.capabilities, problems)
