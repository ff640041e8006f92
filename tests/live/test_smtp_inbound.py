"""The inbound SMTP server over real connections: smtplib in, the inbox out."""

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from channels_app.adapters.email import EmailAdapter
from channels_app.models import WebhookEvent
from channels_app.smtp_inbound import smtp_inbound_controller
from inbox.models import Conversation, Message
from tests.factories import ChannelFactory
from tests.live.conftest import free_port

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

SUPPORT = "help@shop.test"


@pytest.fixture
def email_channel():
    return ChannelFactory(kind="email", config={"address": SUPPORT, "company_name": "Shop"})


@pytest.fixture
def smtp_server(settings):
    settings.EMAIL_INBOUND_MAX_BYTES = 200_000
    port = free_port()
    controller = smtp_inbound_controller(host="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


def mail(text: str = "Is the blue one in stock?", **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = headers.pop("From", "Kim Lee <kim@example.com>")
    message["To"] = headers.pop("To", SUPPORT)
    message["Subject"] = headers.pop("Subject", "Stock question")
    message["Message-ID"] = make_msgid(domain="example.com")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


def send(port: int, message: EmailMessage, *, recipients: list[str] | None = None) -> dict:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        return client.send_message(message, to_addrs=recipients)


def test_a_mail_for_the_channel_lands_in_the_inbox(email_channel, smtp_server):
    refused = send(smtp_server, mail())

    assert refused == {}
    message = Message.objects.get()
    assert message.body.strip() == "Is the blue one in stock?"
    assert message.conversation.customer.name == "Kim Lee"
    assert message.conversation.channel == email_channel


def test_a_mail_to_the_reply_address_threads_into_its_conversation(email_channel, smtp_server):
    send(smtp_server, mail())
    conversation = Conversation.objects.get()
    reply_address = EmailAdapter(email_channel).reply_address(conversation.pk)

    send(smtp_server, mail("And in red?", To=reply_address))

    assert Conversation.objects.count() == 1
    assert conversation.messages.count() == 2


def test_other_recipients_are_refused_with_550(email_channel, smtp_server):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(smtp_server, mail(To="someone@else.test"))

    assert refused.value.recipients["someone@else.test"][0] == 550
    assert not Message.objects.exists()


def test_an_inactive_channel_receives_nothing(email_channel, smtp_server):
    email_channel.is_active = False
    email_channel.save()

    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(smtp_server, mail())


def test_a_message_over_the_size_limit_is_refused_with_552(email_channel, smtp_server):
    big = mail("x" * 300_000)

    with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused)) as refused:
        send(smtp_server, big)

    assert refused.value.smtp_code == 552
    assert not Message.objects.exists()


def test_a_mail_for_two_channels_lands_in_both(email_channel, smtp_server):
    other = ChannelFactory(kind="email", config={"address": "sales@shop.test"})

    send(smtp_server, mail(To=f"{SUPPORT}, sales@shop.test"))

    assert set(Conversation.objects.values_list("channel_id", flat=True)) == {
        email_channel.pk,
        other.pk,
    }


def test_mail_from_the_null_sender_is_accepted_but_opens_nothing(email_channel, smtp_server):
    # `MAIL FROM:<>` is reserved for notifications (receipts, delay warnings): never answered.
    with smtplib.SMTP("127.0.0.1", smtp_server, timeout=10) as client:
        refused = client.sendmail("<>", [SUPPORT], mail("Your message was read.").as_bytes())

    assert refused == {}
    assert not Conversation.objects.exists()
    assert WebhookEvent.objects.get(channel=email_channel).status == "ignored"


def test_a_channel_switched_off_between_rcpt_and_data_refuses_rather_than_drops(
    email_channel, smtp_server
):
    with smtplib.SMTP("127.0.0.1", smtp_server, timeout=10) as client:
        client.ehlo()
        client.mail("kim@example.com")
        assert client.rcpt(SUPPORT)[0] == 250
        email_channel.is_active = False
        email_channel.save()

        code, _ = client.data(mail().as_bytes())

    assert code == 550
    assert not Message.objects.exists()
