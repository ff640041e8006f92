"""IMAP mailboxes of email channels, read by beat: new messages by UID, each once.

Per folder we remember UIDVALIDITY and the last UID imported; a message is imported,
then flagged \\Seen (or moved to `imap_processed_folder`), then remembered, so a crash
in between imports it again at worst, which the raw-event and Message-ID deduplication
turn into a no-op. Connection and login errors are kept on the mailbox and retried on
later polls, less often while they last.
"""

import contextlib
import imaplib
import logging
import re
import ssl
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from channels_app.contracts import PayloadMalformed
from channels_app.models import Channel, ChannelKind, MailboxState
from channels_app.services import mail_receive

logger = logging.getLogger(__name__)

DEFAULT_FOLDER = "INBOX"
MAX_BACKOFF_SECONDS = 3600
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


class MailboxUnreachable(Exception):
    pass


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
    lock = f"imap-poll:{channel.pk}"
    if not cache.add(lock, 1, timeout=int(settings.IMAP_TIMEOUT_SECONDS * 4)):
        return 0
    folder = str(channel.config.get("imap_folder") or DEFAULT_FOLDER)
    state, _ = MailboxState.objects.get_or_create(channel=channel, folder=folder)
    try:
        imported = _poll(channel, state, folder)
    except (MailboxUnreachable, imaplib.IMAP4.error, OSError, ssl.SSLError) as error:
        state.consecutive_failures += 1
        state.last_error = f"{type(error).__name__}: {error}"[:2000]
        state.last_polled_at = timezone.now()
        state.save(update_fields=["consecutive_failures", "last_error", "last_polled_at"])
        logger.warning("IMAP mailbox of channel %s: %s", channel.pk, state.last_error)
        return 0
    finally:
        cache.delete(lock)
    state.consecutive_failures = 0
    state.last_error = ""
    state.last_polled_at = timezone.now()
    state.save(update_fields=["consecutive_failures", "last_error", "last_polled_at"])
    return imported


def _poll(channel: Channel, state: MailboxState, folder: str) -> int:
    client = _connect(channel)
    try:
        capabilities = _capabilities(client)
        status, _ = client.select(_quoted(folder))
        if status != "OK":
            raise MailboxUnreachable(f"cannot open folder {folder!r}")
        uid_validity = _uid_validity(client, folder)
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
        imported = 0
        for uid in uids[: settings.IMAP_BATCH_SIZE]:
            raw = _fetch(client, uid)
            if raw is not None:
                try:
                    mail_receive(channel=channel, raw=raw)
                except PayloadMalformed as error:
                    # Kept as a failed raw event; nothing more a retry could do with it.
                    logger.warning("IMAP message %s of channel %s: %s", uid, channel.pk, error)
                _mark_imported(client, channel, uid, capabilities)
                imported += 1
            state.last_uid = uid
            state.save(update_fields=["last_uid"])
        return imported
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()


def _connect(channel: Channel) -> imaplib.IMAP4:
    config = channel.config
    host = str(config["imap_host"])
    use_ssl = bool(config.get("imap_use_ssl", True))
    port = int(config.get("imap_port") or (993 if use_ssl else 143))
    timeout = settings.IMAP_TIMEOUT_SECONDS
    try:
        client: imaplib.IMAP4 = (
            imaplib.IMAP4_SSL(host, port, timeout=timeout)
            if use_ssl
            else imaplib.IMAP4(host, port, timeout=timeout)
        )
    except (TimeoutError, OSError) as error:
        raise MailboxUnreachable(f"cannot connect to {host}:{port}: {error}") from error
    username = str(config.get("imap_username") or config.get("address") or "")
    try:
        client.login(username, channel.secrets.get("imap_password", ""))
    except imaplib.IMAP4.error as error:
        client.shutdown()
        raise MailboxUnreachable(f"login refused for {username}: {error}") from error
    return client


def _uid_validity(client: imaplib.IMAP4, folder: str) -> int:
    # SELECT's answer carries it as a response code; STATUS asks for it otherwise.
    _, values = client.response("UIDVALIDITY")
    for value in values or ():
        if value:
            return int(value)
    status, data = client.status(_quoted(folder), "(UIDVALIDITY)")
    match = _UIDVALIDITY.search(data[0] or b"") if status == "OK" and data else None
    return int(match.group(1)) if match else 0


def _fetch(client: imaplib.IMAP4, uid: int) -> bytes | None:
    status, data = client.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if status != "OK":
        raise MailboxUnreachable(f"FETCH of UID {uid} failed")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None  # expunged meanwhile


def _capabilities(client: imaplib.IMAP4) -> set[str]:
    # Servers announce more after login (MOVE, UIDPLUS) than in their greeting.
    status, data = client.capability()
    if status != "OK" or not data or not data[0]:
        return {str(item).upper() for item in client.capabilities}
    return {item.decode("ascii", "replace").upper() for item in data[0].split()}


def _mark_imported(
    client: imaplib.IMAP4, channel: Channel, uid: int, capabilities: set[str]
) -> None:
    processed = channel.config.get("imap_processed_folder")
    if not processed:
        client.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Seen)")
        return
    if "MOVE" in capabilities:
        client.uid("MOVE", str(uid), _quoted(str(processed)))
        return
    status, _ = client.uid("COPY", str(uid), _quoted(str(processed)))
    if status == "OK":
        client.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted \Seen)")
        if "UIDPLUS" in capabilities:
            client.uid("EXPUNGE", str(uid))


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
