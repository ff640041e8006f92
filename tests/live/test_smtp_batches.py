"""Mail waiting together at the SMTP server is stored together, in one transaction, and
each message still gets exactly the outcome it would have had alone: replies threaded,
duplicates changing nothing, bounces and list mail kept raw opening nothing, and a message
that fails never taking the others of its batch down with it."""

import smtplib
import subprocess
import sys
import threading
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.db import OperationalError

from channels_app import smtp_inbound
from channels_app.adapters.email import EmailAdapter
from channels_app.models import WebhookEvent
from channels_app.smtp_inbound import smtp_inbound_controller
from inbox.models import Conversation, Message
from tests.factories import ChannelFactory
from tests.live.conftest import (
    ROOT,
    free_port,
    hold_in_another_transaction,
    wait_until_blocked,
)

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

SUPPORT = "help@shop.test"


@pytest.fixture
def email_channel():
    return ChannelFactory(kind="email", config={"address": SUPPORT})


class OneWorkerServer:
    """A server with one worker, which a mail saying "Hold the worker" keeps busy until
    released: what arrives meanwhile waits, and is taken as one batch once it is free."""

    def __init__(self) -> None:
        self.port = free_port()
        self.controller = smtp_inbound_controller(host="127.0.0.1", port=self.port, workers=1)
        self.entered, self.released = threading.Event(), threading.Event()
        self.holding: Sending | None = None

    def hold(self) -> None:
        self.entered.clear()
        self.released.clear()
        self.holding = send_in_background(self.port, "kim@example.com", mail("Hold the worker"))
        assert self.entered.wait(10)

    def queue(self, mails: list[tuple[str, EmailMessage]]) -> list["Sending"]:
        """Hold the worker, then send each (envelope sender, message) on a connection of
        its own, in order, each once the one before waits for the worker."""
        self.hold()
        sendings = []
        pause = threading.Event()
        for sender, message in mails:
            sendings.append(send_in_background(self.port, sender, message))
            for _ in range(200):
                if len(self.controller.handler._waiting) >= len(sendings):
                    break
                pause.wait(0.05)
        return sendings

    def answers(self, sendings: list["Sending"]) -> list[int | None]:
        """Release the worker; the answers to `sendings`, in order."""
        self.released.set()
        for sending in [*sendings, self.holding]:
            assert sending is not None
            sending.join(30)
        return [sending.code for sending in sendings]

    def send_together(self, mails: list[tuple[str, EmailMessage]]) -> list[int | None]:
        return self.answers(self.queue(mails))


@pytest.fixture
def server(monkeypatch):
    server = OneWorkerServer()
    real_mail_receive = smtp_inbound.mail_receive

    def mail_receive(*, channel, raw, envelope_sender=""):
        if b"Hold the worker" in raw:
            server.entered.set()
            server.released.wait(20)
        return real_mail_receive(channel=channel, raw=raw, envelope_sender=envelope_sender)

    monkeypatch.setattr(smtp_inbound, "mail_receive", mail_receive)
    server.controller.start()
    yield server
    server.released.set()
    server.controller.stop()


def mail(text: str, *, sender: str = "kim@example.com", **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = SUPPORT
    message["Subject"] = text[:40]
    message["Message-ID"] = headers.pop("Message_ID", make_msgid(domain="example.com"))
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


class Sending(threading.Thread):
    def __init__(self, port: int, envelope_sender: str, message: EmailMessage):
        super().__init__()
        self.port, self.envelope_sender, self.message = port, envelope_sender, message
        self.code: int | None = None

    def run(self) -> None:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as client:
            try:
                client.sendmail(self.envelope_sender, [SUPPORT], self.message.as_bytes())
                self.code = 250
            except smtplib.SMTPDataError as error:
                self.code = error.smtp_code


def send_in_background(port: int, envelope_sender: str, message: EmailMessage) -> Sending:
    sending = Sending(port, envelope_sender, message)
    sending.start()
    return sending


def bare_id(message: EmailMessage) -> str:
    return message["Message-ID"].strip("<>")


def test_mail_waiting_together_is_stored_in_one_transaction_each_as_if_alone(email_channel, server):
    earlier = mail("Where is my parcel?", sender="lena@example.org")
    assert server.send_together([("lena@example.org", earlier)]) == [250]
    reply = mail(
        "Any news?",
        sender="lena@example.org",
        In_Reply_To=earlier["Message-ID"],
        References=f"<lost@elsewhere.example> {earlier['Message-ID']}",
    )
    newcomer = mail("First time here", sender="omar@example.net")
    list_mail = mail(
        "Weekly digest", sender="news@lists.example", List_Id="<news.lists.example>",
        Precedence="list",
    )  # fmt: skip
    receipt = mail("Your message was read.", sender="postmaster@example.net")

    parent = Message.objects.get(external_id=bare_id(earlier))
    # Lena's conversation is busy elsewhere: the reply, behind the newcomer's first mail
    # in the batch, waits for it.
    busy = hold_in_another_transaction(
        "SELECT id FROM inbox_conversation WHERE id = %s FOR UPDATE", (parent.conversation_id,)
    )
    sendings = server.queue(
        [
            ("omar@example.net", newcomer),
            ("lena@example.org", reply),
            ("news@lists.example", list_mail),
            ("", receipt),
            ("lena@example.org", earlier),  # delivered again: a duplicate
        ]
    )
    server.released.set()
    wait_until_blocked()

    # Stored already, but in the batch's one transaction, not yet committed.
    assert not Message.objects.filter(external_id=bare_id(newcomer)).exists()
    busy.rollback()
    busy.close()
    assert server.answers(sendings) == [250, 250, 250, 250, 250]
    assert Message.objects.filter(external_id=bare_id(newcomer)).exists()
    parent = Message.objects.get(external_id=bare_id(earlier))
    threaded = Message.objects.get(external_id=bare_id(reply))
    assert threaded.conversation_id == parent.conversation_id
    assert Message.objects.filter(external_id=bare_id(earlier)).count() == 1
    assert Conversation.objects.filter(customer__email="omar@example.net").count() == 1
    # Kept raw, opening nothing.
    assert not Message.objects.filter(
        external_id__in=[bare_id(list_mail), bare_id(receipt)]
    ).exists()
    assert not Conversation.objects.filter(customer__email__endswith="lists.example").exists()
    ignored = [bytes(event.body) for event in WebhookEvent.objects.filter(status="ignored")]
    assert any(b"Weekly digest" in body for body in ignored)
    assert any(b"Your message was read." in body for body in ignored)


def wait_for_message(external_id: str) -> None:
    pause = threading.Event()
    for _ in range(200):
        if Message.objects.filter(external_id=external_id).exists():
            return
        pause.wait(0.05)
    raise AssertionError(f"{external_id} never stored")


def parsing_fails_on(monkeypatch, marker: bytes, error: Exception) -> None:
    """Our parsing of mail containing `marker` raises `error`."""
    real_parse_raw = EmailAdapter.parse_raw

    def parse_raw(adapter, raw, **kwargs):
        if marker in raw:
            raise error
        return real_parse_raw(adapter, raw, **kwargs)

    monkeypatch.setattr(EmailAdapter, "parse_raw", parse_raw)


def test_a_mail_the_inbox_trips_on_is_kept_and_takes_nothing_down(
    email_channel, server, monkeypatch
):
    parsing_fails_on(monkeypatch, b"Hostile", RuntimeError("parser bug"))
    before, hostile, after = mail("Before"), mail("Hostile"), mail("After")

    codes = server.send_together([("kim@example.com", item) for item in (before, hostile, after)])

    assert codes == [250, 250, 250]
    assert Message.objects.filter(external_id__in=[bare_id(before), bare_id(after)]).count() == 2
    assert not Message.objects.filter(external_id=bare_id(hostile)).exists()
    kept = WebhookEvent.objects.get(status="failed")
    assert b"Hostile" in bytes(kept.body) and "parser bug" in kept.error


def test_a_mail_that_cannot_be_stored_is_deferred_alone(email_channel, server, monkeypatch):
    parsing_fails_on(monkeypatch, b"Store down", OperationalError("server closed the connection"))
    before, failing, after = mail("Before"), mail("Store down"), mail("After")

    codes = server.send_together([("kim@example.com", item) for item in (before, failing, after)])

    # The batch was given up and each mail stored alone: the failing one is deferred (the
    # sending server tries again), the others are in.
    assert codes == [250, 451, 250]
    assert Message.objects.filter(external_id__in=[bare_id(before), bare_id(after)]).count() == 2
    assert not Message.objects.filter(external_id=bare_id(failing)).exists()


def test_the_servers_limits_come_from_the_environment(live_environment, tmp_path):
    port = free_port()
    log = tmp_path / "smtp.log"
    env = {**live_environment, "SMTP_INBOUND_WORKERS": "3", "SMTP_INBOUND_MAX_CONNECTIONS": "1"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "smtp_inbound", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        pause = threading.Event()
        for _ in range(200):
            if "listening" in log.read_text():
                break
            pause.wait(0.05)
        assert f"127.0.0.1:{port} (3 workers)" in log.read_text()
        first = smtplib.SMTP("127.0.0.1", port, timeout=10)
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            smtplib.SMTP("127.0.0.1", port, timeout=10)
        assert refused.value.smtp_code == 421
        first.quit()
    finally:
        process.terminate()
        process.wait(10)
