"""The SMTP server under more mail than it can store at once: one slow message holds up
no other connection, a message that finds every worker busy for too long is deferred
with 451 (the sender tries again, nothing is lost), and connections beyond the limit are
told 421 before they send anything."""

import smtplib
import threading
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from channels_app import smtp_inbound
from channels_app.smtp_inbound import smtp_inbound_controller
from inbox.models import Message
from tests.factories import ChannelFactory
from tests.live.conftest import free_port

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

SUPPORT = "help@shop.test"


@pytest.fixture
def email_channel():
    return ChannelFactory(kind="email", config={"address": SUPPORT})


class HeldStore:
    """Messages whose text says "Slow" wait in the store until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.released = threading.Event()


@pytest.fixture
def held_store(monkeypatch):
    held = HeldStore()
    real_mail_receive = smtp_inbound.mail_receive

    def mail_receive(*, channel, raw, envelope_sender=""):
        if b"Slow" in raw:
            held.entered.set()
            held.released.wait(20)
        return real_mail_receive(channel=channel, raw=raw, envelope_sender=envelope_sender)

    monkeypatch.setattr(smtp_inbound, "mail_receive", mail_receive)
    yield held
    held.released.set()


@pytest.fixture
def start_server():
    controllers = []

    def start(**limits) -> int:
        port = free_port()
        controller = smtp_inbound_controller(host="127.0.0.1", port=port, **limits)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


def mail(text: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Kim Lee <kim@example.com>"
    message["To"] = SUPPORT
    message["Subject"] = text
    message["Message-ID"] = make_msgid(domain="example.com")
    message.set_content(text)
    return message.as_bytes()


def send_in_background(port: int, raw: bytes) -> tuple[threading.Thread, list]:
    answers: list = []

    def send() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            answers.append(client.sendmail("kim@example.com", [SUPPORT], raw))

    thread = threading.Thread(target=send)
    thread.start()
    return thread, answers


def wait_for(check, timeout: float = 10) -> None:
    pause = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        pause.wait(0.05)
    raise AssertionError("timed out")


def test_a_slow_message_holds_up_no_other_connection(email_channel, held_store, start_server):
    port = start_server(workers=2)
    slow, slow_answers = send_in_background(port, mail("Slow: a large attachment"))
    assert held_store.entered.wait(10)

    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        refused = client.sendmail("kim@example.com", [SUPPORT], mail("Quick question"))

    assert refused == {}
    assert list(Message.objects.values_list("conversation__subject", flat=True)) == [
        "Quick question"
    ]
    held_store.released.set()
    slow.join(20)
    assert slow_answers == [{}]
    assert Message.objects.count() == 2


def test_mail_finding_every_worker_busy_is_deferred_then_accepted(
    email_channel, held_store, start_server
):
    port = start_server(workers=1, store_wait_seconds=0.3)
    slow, slow_answers = send_in_background(port, mail("Slow: the only worker"))
    assert held_store.entered.wait(10)
    waiting = mail("Waits too long")

    with (
        smtplib.SMTP("127.0.0.1", port, timeout=10) as client,
        pytest.raises(smtplib.SMTPDataError) as deferred,
    ):
        client.sendmail("kim@example.com", [SUPPORT], waiting)

    assert deferred.value.smtp_code == 451
    assert not Message.objects.filter(conversation__subject="Waits too long").exists()
    held_store.released.set()
    slow.join(20)
    assert slow_answers == [{}]

    # The sending server tries again later, as 451 asks: stored once.
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        assert client.sendmail("kim@example.com", [SUPPORT], waiting) == {}
    assert Message.objects.filter(conversation__subject="Waits too long").count() == 1
    assert Message.objects.count() == 2


def test_connections_beyond_the_limit_are_told_to_come_back(email_channel, start_server):
    port = start_server(max_connections=2)
    first = smtplib.SMTP("127.0.0.1", port, timeout=10)
    second = smtplib.SMTP("127.0.0.1", port, timeout=10)

    with pytest.raises(smtplib.SMTPConnectError) as refused:
        smtplib.SMTP("127.0.0.1", port, timeout=10)

    assert refused.value.smtp_code == 421
    first.quit()
    # A place is free again once a connection closes.
    wait_for(lambda: _connects(port))
    assert second.sendmail("kim@example.com", [SUPPORT], mail("Still served")) == {}
    second.quit()
    assert Message.objects.count() == 1


def _connects(port: int) -> bool:
    try:
        smtplib.SMTP("127.0.0.1", port, timeout=10).quit()
    except smtplib.SMTPConnectError:
        return False
    return True
