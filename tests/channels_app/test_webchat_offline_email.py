"""A visitor who left the chat gets the operator's reply by email too, if they gave one."""

import asyncio
import uuid

import pytest

from channels_app.services import message_deliver
from channels_app.widget.realtime import visitor_is_online, visitor_mark_online
from customers.models import Identity, IdentityClaim
from inbox.models import MessageStatus
from inbox.services import message_reply
from tests.factories import (
    ChannelFactory,
    ConversationFactory,
    CustomerFactory,
    WebchatChannelFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def webchat(smtp_sink, team):
    mail = ChannelFactory(
        kind="email",
        config={
            "address": "help@shop.example.com",
            "company_name": "Shop",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_sink.port,
        },
    )
    channel = WebchatChannelFactory(teams=[team])
    channel.config = {**channel.config, "fallback_email_channel": mail.pk}
    channel.save()
    return channel


@pytest.fixture
def visitor_conversation(webchat):
    customer = CustomerFactory(name="Visitor", email="")
    IdentityClaim.objects.create(customer=customer, kind="email", value="visitor@example.org")
    # A visitor id of its own: whether one is online lives in the cache, across tests.
    return ConversationFactory(
        channel=webchat, customer=customer, recipient_address=uuid.uuid4().hex[:16]
    )


def reply(conversation, operator, body="We found your order."):
    message = message_reply(conversation=conversation, author=operator, body=body)
    assert message_deliver(message_id=message.pk, attempt=1, max_attempts=3) is None
    message.refresh_from_db()
    return message


def test_a_reply_to_a_visitor_who_left_also_goes_by_email(
    visitor_conversation, operator, smtp_sink
):
    message = reply(visitor_conversation, operator)

    assert message.status == MessageStatus.SENT
    sent = smtp_sink.mails[0]
    assert sent.recipients == ["visitor@example.org"]
    assert sent.message["Subject"] == "Re: Your chat with Shop"
    assert "We found your order." in sent.message.get_body(("plain",)).get_content()


def test_a_visitor_still_in_the_chat_gets_no_email(visitor_conversation, operator, smtp_sink):
    visitor_id = visitor_conversation.recipient_address
    asyncio.run(
        visitor_mark_online(channel_id=visitor_conversation.channel_id, visitor_id=visitor_id)
    )
    assert visitor_is_online(channel_id=visitor_conversation.channel_id, visitor_id=visitor_id)

    reply(visitor_conversation, operator)

    assert smtp_sink.mails == []


def test_without_a_fallback_channel_nothing_is_mailed(visitor_conversation, operator, smtp_sink):
    channel = visitor_conversation.channel
    channel.config = {k: v for k, v in channel.config.items() if k != "fallback_email_channel"}
    channel.save()

    assert reply(visitor_conversation, operator).status == MessageStatus.SENT
    assert smtp_sink.mails == []


def test_a_failing_mail_server_retries_the_reply(visitor_conversation, operator, smtp_sink):
    smtp_sink.refuse_with = "451 4.3.0 Try later"
    message = message_reply(conversation=visitor_conversation, author=operator, body="Hello")

    assert message_deliver(message_id=message.pk, attempt=1, max_attempts=3) is not None


def test_an_address_that_bounced_as_dead_gets_no_copy(visitor_conversation, operator, smtp_sink):
    customer = visitor_conversation.customer
    customer.email = "Old@Example.org"  # typed by an operator
    customer.save()
    Identity.objects.create(
        customer=customer, kind="email", value="old@example.org", is_reachable=False
    )

    reply(visitor_conversation, operator)

    # The profile's address is dead: the email the visitor typed in the chat is used.
    assert smtp_sink.mails[0].recipients == ["visitor@example.org"]


def test_the_copy_is_written_in_the_visitors_language(visitor_conversation, operator, smtp_sink):
    customer = visitor_conversation.customer
    customer.language = "ru"
    customer.save()

    reply(visitor_conversation, operator, body="Заказ уже в пути.")

    sent = smtp_sink.mails[0].message
    assert sent["Subject"] == "Re: Ваш чат с Shop"
    text = sent.get_body(("plain",)).get_content()
    assert text.startswith("Заказ уже в пути.")
    assert "Вы писали нам в чате на сайте" in text
