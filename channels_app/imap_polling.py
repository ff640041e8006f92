"""IMAP mailboxes of email channels, read by beat: new messages by UID, each once.

Per folder we remember UIDVALIDITY and the last UID imported. Connection and login
errors are kept on the mailbox and retried on later polls, less often while they last.

Messages are fetched in groups (GROUP_SIZE, GROUP_BYTES) by one command and handed to
channels_app.imap_importing, which stores, flags and remembers them and decides what a
refused or unreadable message costs.
"""

import imaplib
import logging
import ssl
import time
from datetime import timedelta

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.db import Error as DatabaseError
from django.utils import timezone

from channels_app.imap_importing import import_group, import_one_by_one
from channels_app.imap_poll_lock import MailboxPollLock
from channels_app.imap_session import (
    MailboxSession,
    MailboxUnreachable,
    fetch_many,
    folder_uid_validity,
    message_sizes,
)
from channels_app.models import Channel, ChannelKind, MailboxState

logger = logging.getLogger(__name__)

DEFAULT_FOLDER = "INBOX"
MAX_BACKOFF_SECONDS = 3600
MAX_PROBLEMS_SHOWN = 5
# Messages fetched in one command and stored in one transaction.
GROUP_SIZE = 16
GROUP_BYTES = 4 * 1024 * 1024


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
    lock = MailboxPollLock(channel.pk)
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


def _poll(
    channel: Channel, state: MailboxState, folder: str, problems: list[str], lock: MailboxPollLock
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
                imported += import_one_by_one(session, channel, state, group, problems, lock)
            else:
                imported += import_group(session, channel, state, group, fetched, problems)
        return imported
    finally:
        session.close()


def _problems_text(problems: list[str]) -> str:
    shown = problems[:MAX_PROBLEMS_SHOWN]
    if len(problems) > len(shown):
        shown.append(f"and {len(problems) - len(shown)} more")
    return f"{timezone.now():%Y-%m-%d %H:%M} UTC: " + "; ".join(shown)[:1950]
