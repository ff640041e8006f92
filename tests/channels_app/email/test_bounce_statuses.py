"""A bounce fails a delivered mail only when it names a Message-ID we provably gave."""

import pytest

from channels_app.services import mail_receive
from inbox.models import Conversation, Message, MessageStatus
from tests.channels_app.email.helpers import customer_mail, deliver_reply, delivery_status_report
from tests.failure_reasons import reason_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered_reply(email_channel, operator):
    mail_receive(channel=email_channel, raw=customer_mail()[0])
    reply = deliver_reply(Conversation.objects.get(), operator, "Here is your tracking number.")
    Message.objects.filter(pk=reply.pk).update(status=MessageStatus.DELIVERED)
    return reply


def bounce_of(message_id: str) -> bytes:
    return delivery_status_report(
        "maria@example.com",
        status="5.1.1",
        diagnostic="550 5.1.1 <maria@example.com>: User unknown",
        original_message_id=message_id,
    )


def test_a_bounce_of_our_own_signed_message_id_fails_a_delivered_mail(
    email_channel, delivered_reply
):
    mail_receive(channel=email_channel, raw=bounce_of(delivered_reply.external_id))

    delivered_reply.refresh_from_db()
    assert delivered_reply.status == MessageStatus.FAILED
    assert "User unknown" in reason_text(delivered_reply)


def test_a_bounce_of_an_id_we_did_not_sign_leaves_a_delivered_mail_alone(
    email_channel, delivered_reply
):
    Message.objects.filter(pk=delivered_reply.pk).update(external_id="foreign.1@mail.example.com")

    mail_receive(channel=email_channel, raw=bounce_of("foreign.1@mail.example.com"))

    delivered_reply.refresh_from_db()
    assert delivered_reply.status == MessageStatus.DELIVERED
    assert reason_text(delivered_reply) == ""


def test_a_bounce_never_fails_a_mail_already_read(email_channel, delivered_reply):
    Message.objects.filter(pk=delivered_reply.pk).update(status=MessageStatus.READ)

    mail_receive(channel=email_channel, raw=bounce_of(delivered_reply.external_id))

    assert Message.objects.get(pk=delivered_reply.pk).status == MessageStatus.READ
