"""What an IMAP poll does with the messages it fetched: each is imported, then flagged
\\Seen (or moved to `imap_processed_folder`), then remembered, so a crash in between
imports it again at worst, which the raw-event and Message-ID deduplication turn into a
no-op. A group fetched by one command is stored in one transaction
(channels_app.mail_batches) and flagged together; a group the server will not hand out
together is fetched message by message.

One bad message never holds up the mail behind it: a message the server keeps refusing
to hand out is skipped (left unread on the server) and named in the mailbox's
`last_error`; one our parser or the inbox trips on is kept as a failed raw event, to be
processed again later, and counts as imported. A lost connection or database skips
nothing.
"""

import imaplib
import logging
import re
from functools import partial

from django.core.cache import cache
from django.db import Error as DatabaseError

from channels_app.contracts import PayloadMalformed
from channels_app.imap_poll_lock import MailboxPollLock
from channels_app.imap_session import (
    MailboxSession,
    MailboxUnreachable,
    MessageRefused,
    fetch_one,
    message_command,
    quoted,
    server_text,
)
from channels_app.mail_batches import store_together
from channels_app.models import Channel, MailboxState
from channels_app.services import mail_receive

logger = logging.getLogger(__name__)

# Polls that try a message the server refuses to hand out before it is skipped.
FETCH_ATTEMPTS = 3
FETCH_ATTEMPTS_MEMORY_SECONDS = 7 * 24 * 3600
# RFC 5530 response codes (and common wordings) that refuse everything for a while.
_MAILBOX_WIDE_REFUSAL = re.compile(
    r"\[(?:UNAVAILABLE|OVERQUOTA|LIMIT|INUSE|AUTHORIZATIONFAILED|EXPIRED)\]|"
    r"shutting down|shutdown|try again later|too many|rate limit|bandwidth",
    re.IGNORECASE,
)


def remember_uid(state: MailboxState, uid: int) -> None:
    """Move the mailbox's last UID forward, never back (should polls ever overlap)."""
    state.last_uid = uid
    MailboxState.objects.filter(pk=state.pk, last_uid__lt=uid).update(last_uid=uid)


def import_group(
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
        remember_uid(state, uids[-1])
    if outage is not None:
        raise outage
    return len(imported)


def import_one_by_one(
    session: MailboxSession,
    channel: Channel,
    state: MailboxState,
    uids: list[int],
    problems: list[str],
    lock: MailboxPollLock,
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
            remember_uid(state, uid)
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
        remember_uid(state, uid)
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
