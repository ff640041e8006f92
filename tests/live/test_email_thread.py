"""A whole email thread over real servers: `manage.py smtp_inbound` as its own process,
the operator's reply through the API and a Celery worker to an SMTP sink, and the
customer's answer from a client that keeps only In-Reply-To."""

import smtplib
import sys
import time
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from inbox.models import Conversation, Message, MessageStatus
from tests.conftest import client_for
from tests.factories import ChannelFactory
from tests.live.conftest import free_port, start, stop, wait_until

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

SUPPORT = "care@bakery.test"


@pytest.fixture
def smtp_inbound_process(live_environment, tmp_path):
    port = free_port()
    log = tmp_path / "smtp.log"
    process = start(
        [sys.executable, "manage.py", "smtp_inbound", "--host", "127.0.0.1", "--port", str(port)],
        live_environment,
        log,
    )

    def listening() -> bool:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=1) as client:
                return client.noop()[0] == 250
        except OSError:
            return False

    try:
        wait_until(listening, timeout=30, what="the SMTP server", log=log)
        yield port
    finally:
        stop(process)


def wait_for(predicate, *, timeout: float = 20.0, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(what)


def test_customer_writes_operator_replies_customer_answers_in_the_same_thread(
    smtp_inbound_process, smtp_sink, celery_worker, team, operator
):
    channel = ChannelFactory(
        kind="email",
        name="Bakery care",
        teams=[team],
        config={
            "address": SUPPORT,
            "company_name": "Bakery",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_sink.port,
        },
    )
    first = EmailMessage()
    first["From"] = "Jonas Berg <jonas@example.se>"
    first["To"] = SUPPORT
    first["Subject"] = "Birthday cake order"
    first["Message-ID"] = first_id = make_msgid(domain="example.se")
    first.set_content("Can I order a cake for Saturday?\n\n-- \nJonas")
    with smtplib.SMTP("127.0.0.1", smtp_inbound_process, timeout=10) as client:
        client.send_message(first)

    conversation = wait_for(
        lambda: Conversation.objects.filter(channel=channel).first(), what="the conversation"
    )
    incoming = conversation.messages.get()
    assert incoming.body.strip() == "Can I order a cake for Saturday?"
    assert "Jonas" in incoming.body_full

    response = client_for(operator).post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"body": "Yes! Which flavour would you like?"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert smtp_sink.received.wait(20), "the reply never reached the SMTP server"
    reply = wait_for(
        lambda: Message.objects.filter(pk=response.json()["id"], status=MessageStatus.SENT).first(),
        what="the reply marked sent",
    )
    sent = smtp_sink.mails[0].message
    assert smtp_sink.mails[0].recipients == ["jonas@example.se"]
    assert sent["From"].addresses[0].display_name == "Anna via Bakery"
    assert sent["In-Reply-To"] == first_id
    assert first_id in sent["References"]
    assert sent["Message-ID"].strip("<>") == reply.external_id
    assert sent["Subject"] == "Re: Birthday cake order"

    # A client that keeps only In-Reply-To (no References) and changes the subject.
    answer = EmailMessage()
    answer["From"] = "jonas@example.se"
    answer["To"] = SUPPORT
    answer["Subject"] = "chocolate"
    answer["Message-ID"] = make_msgid(domain="example.se")
    answer["In-Reply-To"] = sent["Message-ID"]
    answer.set_content(
        "Chocolate, please.\n\n"
        f"On Sat, Jan 1, 2026 at 10:00 AM Anna via Bakery <{SUPPORT}> wrote:\n"
        "> Yes! Which flavour would you like?\n"
    )
    with smtplib.SMTP("127.0.0.1", smtp_inbound_process, timeout=10) as client:
        client.send_message(answer)

    last = wait_for(
        lambda: (
            Message.objects.filter(channel=channel, direction="in").order_by("-id").first()
            if Message.objects.filter(channel=channel, direction="in").count() == 2
            else None
        ),
        what="the customer's answer",
    )
    assert last.conversation_id == conversation.pk
    assert last.body.strip() == "Chocolate, please."
    assert "Which flavour" in last.body_full
    assert Conversation.objects.filter(channel=channel).count() == 1
