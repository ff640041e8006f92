"""IMAP polling against a real dovecot started on loopback for these tests."""

from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.utils import timezone

from channels_app.imap_polling import mailbox_channels_due, mailbox_poll
from channels_app.models import MailboxState
from inbox.models import Conversation, Message
from tests.factories import ChannelFactory
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
