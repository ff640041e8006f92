"""IMAP polling against a real dovecot started on loopback for these tests."""

import email
import email.policy
import imaplib
import threading
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.db import OperationalError
from django.utils import timezone

from channels_app.adapters.email import EmailAdapter
from channels_app.imap_importing import FETCH_ATTEMPTS
from channels_app.imap_polling import mailbox_channels_due, mailbox_poll, mailbox_poll_until_drained
from channels_app.models import MailboxState, WebhookEvent
from channels_app.services import webhook_events_reprocess
from inbox.models import Conversation, Message
from tests.factories import ChannelFactory
from tests.live.conftest import hold_in_another_transaction, wait_until_blocked
from tests.mail_servers import DovecotServer, dovecot_available

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mailbox():
    if not dovecot_available():
        pytest.fail("dovecot is not installed (apt-get install dovecot-imapd)")
    server = DovecotServer().start()
    yield server
    server.stop()


def mailbox_channel(server: DovecotServer, **config):
    channel = ChannelFactory(
        kind="email",
        config={
            "address": "support@example.com",
            "imap_host": "127.0.0.1",
            "imap_port": server.port,
            "imap_use_ssl": False,
            "imap_username": server.username,
            **config,
        },
    )
    secrets = channel.secrets
    secrets["imap_password"] = server.password
    channel.set_secrets(secrets)
    channel.save()
    return channel


def mail(text: str, sender: str = "lena@example.org") -> bytes:
    message = EmailMessage()
    message["From"] = f"Lena Novak <{sender}>"
    message["To"] = "support@example.com"
    message["Subject"] = text[:30]
    message["Message-ID"] = make_msgid(domain="example.org")
    message.set_content(text)
    return message.as_bytes()


def test_new_messages_are_imported_once_and_flagged_seen(mailbox):
    channel = mailbox_channel(mailbox)
    mailbox.deliver(mail("First question"))
    mailbox.deliver(mail("Second question", sender="omar@example.net"))

    assert mailbox_poll(channel_id=channel.pk) == 2

    bodies = sorted(Message.objects.values_list("body", flat=True))
    assert [body.strip() for body in bodies] == ["First question", "Second question"]
    assert Conversation.objects.count() == 2
    assert all(b"\\Seen" in flags for flags in mailbox.folder_flags().values())

    # Nothing new: nothing read twice.
    assert mailbox_poll(channel_id=channel.pk) == 0
    mailbox.deliver(mail("Third question"))
    assert mailbox_poll(channel_id=channel.pk) == 1
    assert Message.objects.count() == 3
    state = MailboxState.objects.get(channel=channel)
    assert state.last_uid == 3 and state.uid_validity > 0 and state.last_error == ""


def test_imported_messages_can_be_moved_to_a_processed_folder(mailbox):
    channel = mailbox_channel(mailbox, imap_processed_folder="Processed")
    client = mailbox.client()
    client.create("Processed")
    client.logout()
    mailbox.deliver(mail("Please move me"))

    assert mailbox_poll(channel_id=channel.pk) == 1

    assert mailbox.folder_flags("INBOX") == {}
    assert len(mailbox.folder_flags("Processed")) == 1
    assert Message.objects.get().body.strip() == "Please move me"


def test_a_refused_login_is_recorded_and_retried_later(mailbox):
    channel = mailbox_channel(mailbox)
    channel.set_secrets({"imap_password": "wrong"})
    channel.save()
    mailbox.deliver(mail("Waiting for you"))

    assert mailbox_poll(channel_id=channel.pk) == 0

    state = MailboxState.objects.get(channel=channel)
    assert state.consecutive_failures == 1 and "login refused" in state.last_error
    assert not Message.objects.exists()
    # Backing off: not due again at once, due after the back-off.
    assert channel.pk not in mailbox_channels_due()
    later = timezone.now() + timedelta(seconds=3 * 60)
    assert channel.pk in mailbox_channels_due(now=later)

    channel.set_secrets({"imap_password": mailbox.password})
    channel.save()
    assert mailbox_poll(channel_id=channel.pk) == 1
    state.refresh_from_db()
    assert state.consecutive_failures == 0 and state.last_error == ""


def test_an_unreachable_server_is_recorded_not_raised(db):
    channel = ChannelFactory(
        kind="email",
        config={
            "address": "support@example.com",
            "imap_host": "127.0.0.1",
            "imap_port": 9,
            "imap_use_ssl": False,
        },
    )

    assert mailbox_poll(channel_id=channel.pk) == 0

    state = MailboxState.objects.get(channel=channel)
    assert state.consecutive_failures == 1 and "cannot connect" in state.last_error


def server_answers_fetch_of(monkeypatch, uid: int, answer):
    """The server's answer to a UID FETCH naming this message (alone or among others)
    replaced by `answer(client)`."""
    real_uid = imaplib.IMAP4.uid

    def uid_command(client, command, *args):
        if command.upper() == "FETCH" and str(uid) in args[0].split(","):
            return answer(client)
        return real_uid(client, command, *args)

    monkeypatch.setattr(imaplib.IMAP4, "uid", uid_command)


def import_fails_on(monkeypatch, marker: str, error: Exception):
    """Our parsing of messages whose text contains `marker` raises `error`."""
    real_parse_raw = EmailAdapter.parse_raw

    def parse_raw(adapter, raw, **kwargs):
        if marker.encode() in raw:
            raise error
        return real_parse_raw(adapter, raw, **kwargs)

    monkeypatch.setattr(EmailAdapter, "parse_raw", parse_raw)


def assert_the_rest_comes_in_once_mended(channel) -> None:
    """The next poll imports the two messages held up, and the problem is gone."""
    assert mailbox_poll(channel_id=channel.pk) == 2
    state = MailboxState.objects.get(channel=channel)
    assert state.last_uid == 3 and state.last_error == ""
    assert Message.objects.count() == 3


def seen(flags: dict[int, bytes]) -> dict[int, bool]:
    return {uid: b"\\Seen" in item for uid, item in flags.items()}


def test_a_message_the_server_refuses_is_retried_then_skipped(mailbox, monkeypatch):
    channel = mailbox_channel(mailbox)
    for text in ("Before", "Refused", "After"):
        mailbox.deliver(mail(text))
    server_answers_fetch_of(
        monkeypatch, 2, lambda client: ("NO", [b"[SERVERBUG] Internal error occurred."])
    )

    for attempt in range(1, FETCH_ATTEMPTS):
        mailbox_poll(channel_id=channel.pk)
        state = MailboxState.objects.get(channel=channel)
        assert state.last_uid == 1 and state.consecutive_failures == attempt
        assert "FETCH of UID 2 refused" in state.last_error
        assert "SERVERBUG" in state.last_error

    assert mailbox_poll(channel_id=channel.pk) == 1

    state.refresh_from_db()
    assert state.last_uid == 3 and state.consecutive_failures == 0
    assert "UID 2 skipped, left unread on the server" in state.last_error
    bodies = Message.objects.order_by("pk").values_list("body", flat=True)
    assert [body.strip() for body in bodies] == ["Before", "After"]
    assert seen(mailbox.folder_flags()) == {1: True, 2: False, 3: True}

    # Named until another problem replaces it, though later polls go well.
    mailbox.deliver(mail("Later"))
    assert mailbox_poll(channel_id=channel.pk) == 1
    state.refresh_from_db()
    assert state.last_uid == 4 and "UID 2 skipped" in state.last_error


def test_a_connection_lost_during_fetch_skips_nothing(mailbox, monkeypatch):
    channel = mailbox_channel(mailbox)
    for text in ("Before", "Cut off", "After"):
        mailbox.deliver(mail(text))
    real_uid = imaplib.IMAP4.uid

    def connection_lost(client):
        client.shutdown()
        return real_uid(client, "FETCH", "2", "(BODY.PEEK[])")

    server_answers_fetch_of(monkeypatch, 2, connection_lost)

    for _ in range(FETCH_ATTEMPTS + 1):
        assert mailbox_poll(channel_id=channel.pk) == 0
    state = MailboxState.objects.get(channel=channel)
    assert state.last_uid == 1 and state.consecutive_failures == FETCH_ATTEMPTS + 1
    assert "abort" in state.last_error and "skipped" not in state.last_error
    assert seen(mailbox.folder_flags()) == {1: True, 2: False, 3: False}

    monkeypatch.undo()
    assert_the_rest_comes_in_once_mended(channel)


def test_a_missing_processed_folder_falls_back_to_flagging_seen(mailbox):
    channel = mailbox_channel(mailbox, imap_processed_folder="Processed")
    mailbox.deliver(mail("Nowhere to go"))

    assert mailbox_poll(channel_id=channel.pk) == 1

    state = MailboxState.objects.get(channel=channel)
    assert state.last_uid == 1 and state.consecutive_failures == 0
    assert "UID 1 imported, but not moved to 'Processed'" in state.last_error
    assert "TRYCREATE" in state.last_error
    assert seen(mailbox.folder_flags("INBOX")) == {1: True}
    # Never imported twice.
    assert mailbox_poll(channel_id=channel.pk) == 0
    assert Message.objects.get().body.strip() == "Nowhere to go"


def test_a_message_our_parser_trips_on_is_kept_and_holds_up_nothing(mailbox, monkeypatch):
    channel = mailbox_channel(mailbox)
    for text in ("Before", "Hostile", "After"):
        mailbox.deliver(mail(text))
    import_fails_on(monkeypatch, "Hostile", RuntimeError("parser bug"))

    assert mailbox_poll(channel_id=channel.pk) == 3

    state = MailboxState.objects.get(channel=channel)
    assert state.last_uid == 3 and state.consecutive_failures == 0
    assert sorted(Message.objects.values_list("body", flat=True)) == ["After", "Before"]
    # Kept raw, to be processed again once the parser is fixed.
    kept = WebhookEvent.objects.get(status="failed")
    assert b"Hostile" in bytes(kept.body) and "parser bug" in kept.error
    monkeypatch.undo()
    assert webhook_events_reprocess(events=[kept]) == 1
    assert Message.objects.filter(body="Hostile").exists()


def test_a_database_outage_stops_the_poll_without_skipping(mailbox, monkeypatch):
    channel = mailbox_channel(mailbox)
    for text in ("Before", "During the outage", "After"):
        mailbox.deliver(mail(text))
    import_fails_on(monkeypatch, "During the outage", OperationalError("server closed"))

    assert mailbox_poll(channel_id=channel.pk) == 0

    state = MailboxState.objects.get(channel=channel)
    assert state.last_uid == 1 and state.consecutive_failures == 1
    assert "OperationalError" in state.last_error
    assert seen(mailbox.folder_flags()) == {1: True, 2: False, 3: False}

    monkeypatch.undo()
    assert_the_rest_comes_in_once_mended(channel)


def test_a_message_the_server_hangs_up_on_is_skipped_after_a_few_polls(mailbox):
    channel = mailbox_channel(mailbox)
    for text in ("Before", "Unreadable", "After"):
        mailbox.deliver(mail(text))
    # Dovecot cannot read this file: it answers the FETCH with BYE and hangs up.
    [unreadable] = [
        path
        for path in (mailbox.directory / "home").rglob("*")
        if path.is_file() and b"Unreadable" in path.read_bytes()
    ]
    unreadable.chmod(0)

    for attempt in range(1, FETCH_ATTEMPTS):
        mailbox_poll(channel_id=channel.pk)
        state = MailboxState.objects.get(channel=channel)
        assert state.last_uid == 1 and state.consecutive_failures == attempt
        assert "FETCH failed" in state.last_error

    assert mailbox_poll(channel_id=channel.pk) == 0
    state = MailboxState.objects.get(channel=channel)
    assert state.last_uid == 2
    assert "UID 2 skipped, left on the server: the server hung up" in state.last_error

    assert mailbox_poll(channel_id=channel.pk) == 1
    assert sorted(Message.objects.values_list("body", flat=True)) == ["After", "Before"]
    assert MailboxState.objects.get(channel=channel).consecutive_failures == 0


def test_an_account_wide_refusal_never_skips_a_message(mailbox, monkeypatch):
    channel = mailbox_channel(mailbox)
    for text in ("First", "Second"):
        mailbox.deliver(mail(text))
    server_answers_fetch_of(
        monkeypatch,
        1,
        lambda client: ("NO", [b"[OVERQUOTA] Account exceeded command or bandwidth limits"]),
    )

    for _ in range(FETCH_ATTEMPTS + 2):
        mailbox_poll(channel_id=channel.pk)

    state = MailboxState.objects.get(channel=channel)
    assert state.last_uid == 0 and "skipped" not in state.last_error
    assert "OVERQUOTA" in state.last_error
    monkeypatch.undo()
    assert mailbox_poll(channel_id=channel.pk) == 2


def test_a_backlog_is_read_in_one_task_batch_after_batch(mailbox, settings):
    settings.IMAP_BATCH_SIZE = 2
    channel = mailbox_channel(mailbox)
    for number in range(5):
        mailbox.deliver(mail(f"Backlog {number}", sender=f"customer{number}@example.org"))

    assert mailbox_poll_until_drained(channel_id=channel.pk) == 5

    assert Message.objects.count() == 5
    assert MailboxState.objects.get(channel=channel).last_uid == 5
    assert all(b"\\Seen" in flags for flags in mailbox.folder_flags().values())
    assert mailbox_poll_until_drained(channel_id=channel.pk) == 0


def test_one_poll_still_reads_one_batch(mailbox, settings):
    settings.IMAP_BATCH_SIZE = 2
    channel = mailbox_channel(mailbox)
    for number in range(3):
        mailbox.deliver(mail(f"Batch {number}"))

    assert mailbox_poll(channel_id=channel.pk) == 2
    assert mailbox_poll(channel_id=channel.pk) == 1


def test_a_group_is_stored_in_one_transaction_each_message_as_if_alone(mailbox, monkeypatch):
    channel = mailbox_channel(mailbox)
    earlier = mail("Where is my parcel?")
    mailbox.deliver(earlier)
    assert mailbox_poll(channel_id=channel.pk) == 1
    parent = Message.objects.get()
    earlier_id = parent.external_id
    newcomer = mail("First time here", sender="omar@example.net")
    reply = mail_with("Any news?", In_Reply_To=f"<{earlier_id}>", References=f"<{earlier_id}>")
    list_mail = mail_with(
        "Weekly digest", sender="news@lists.example", List_Id="<news.lists.example>",
        Precedence="list",
    )  # fmt: skip
    for raw in (newcomer, reply, list_mail, mail("Hostile"), earlier):  # earlier: a duplicate
        mailbox.deliver(raw)
    import_fails_on(monkeypatch, "Hostile", RuntimeError("parser bug"))
    # Lena's conversation is busy elsewhere: the reply, behind the newcomer's mail in the
    # group, waits for it.
    busy = hold_in_another_transaction(
        "SELECT id FROM inbox_conversation WHERE id = %s FOR UPDATE", (parent.conversation_id,)
    )
    imported: list[int] = []
    poll = threading.Thread(target=lambda: imported.append(mailbox_poll(channel_id=channel.pk)))
    poll.start()
    wait_until_blocked()

    # Stored already, but in the group's one transaction, not yet committed.
    assert not Message.objects.filter(conversation__customer__email="omar@example.net").exists()
    busy.rollback()
    busy.close()
    poll.join(30)

    assert imported == [5]
    assert Message.objects.get(body__startswith="Any news?").conversation_id == (
        parent.conversation_id
    )
    assert Message.objects.filter(external_id=earlier_id).count() == 1
    assert Conversation.objects.filter(customer__email="omar@example.net").count() == 1
    assert not Conversation.objects.filter(customer__email="news@lists.example").exists()
    assert WebhookEvent.objects.filter(status="ignored").count() == 1
    kept = WebhookEvent.objects.get(status="failed")
    assert b"Hostile" in bytes(kept.body)
    assert all(b"\\Seen" in flags for flags in mailbox.folder_flags().values())
    assert MailboxState.objects.get(channel=channel).last_uid == 6


def mail_with(text: str, sender: str = "lena@example.org", **headers: str) -> bytes:
    message = email.message_from_bytes(mail(text, sender=sender), policy=email.policy.default)
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    return message.as_bytes()
