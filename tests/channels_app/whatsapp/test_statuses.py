"""Delivery statuses of what we sent, as Meta reports them."""

import pytest

from customers.models import Customer
from inbox.models import Message, MessageStatus
from tests.channels_app.whatsapp.helpers import (
    SENT_WAMID,
    WA_ID,
    post_fixture,
)
from tests.factories import ConversationFactory, MessageFactory
from tests.failure_reasons import reason_text
from tests.helpers import stored_counts

pytestmark = pytest.mark.django_db


# Delivery statuses of what we sent


@pytest.fixture
def sent_message(whatsapp_channel):
    conversation = ConversationFactory(channel=whatsapp_channel, recipient_address=WA_ID)
    return MessageFactory(
        conversation=conversation, direction="out", status="sent", external_id=SENT_WAMID
    )


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["delivered"], MessageStatus.DELIVERED),
        (["read"], MessageStatus.READ),
        (["delivered", "read"], MessageStatus.READ),
        (["read", "delivered"], MessageStatus.READ),
        (["read", "sent"], MessageStatus.READ),
    ],
)
def test_status_webhooks_move_a_sent_message_forward_never_back(
    client, sent_message, whatsapp_channel, statuses, expected
):
    for status in statuses:
        post_fixture(client, whatsapp_channel, f"status_{status}")

    sent_message.refresh_from_db()
    assert sent_message.status == expected
    assert reason_text(sent_message) == ""


def test_a_failed_status_stores_metas_reason(client, sent_message, whatsapp_channel):
    post_fixture(client, whatsapp_channel, "status_failed")

    sent_message.refresh_from_db()
    assert sent_message.status == MessageStatus.FAILED
    assert reason_text(sent_message) == (
        "WhatsApp could not deliver the message. The platform said: "
        "131047 Re-engagement message: Message failed to send because more than 24 hours "
        "have passed since the customer last replied to this number."
    )


def test_a_status_for_a_message_we_do_not_know_changes_nothing(client, whatsapp_channel):
    other = MessageFactory(direction="out", status="sent", external_id=SENT_WAMID)  # other channel

    response = post_fixture(client, whatsapp_channel, "status_read")

    assert response.json()["messages"] == []
    other.refresh_from_db()
    assert other.status == MessageStatus.SENT
    assert Customer.objects.count() == 1  # only the factory's own customer


def test_statuses_never_create_customers_or_messages(client, whatsapp_channel):
    for status in ("sent", "delivered", "read", "failed"):
        post_fixture(client, whatsapp_channel, f"status_{status}")

    assert stored_counts()[:3] == (0, 0, 0)


@pytest.mark.parametrize(
    ("earlier", "replayed"),
    [
        ("read", "failed"),
        ("delivered", "failed"),
        ("read", "delivered"),
        ("delivered", "delivered"),
        ("delivered", "sent"),
    ],
)
def test_a_replayed_or_late_status_changes_nothing(
    client, sent_message, whatsapp_channel, earlier, replayed
):
    post_fixture(client, whatsapp_channel, f"status_{earlier}")
    sent_message.refresh_from_db()
    updated_at = sent_message.updated_at

    # Meta sends the signed webhook again (or a late one arrives): answered, and ignored.
    response = post_fixture(client, whatsapp_channel, f"status_{replayed}")

    assert response.status_code == 200
    sent_message.refresh_from_db()
    assert sent_message.status == earlier
    assert reason_text(sent_message) == ""
    assert sent_message.updated_at == updated_at


@pytest.mark.parametrize("report", ["status_sent", "status_delivered", "status_failed"])
def test_a_late_report_of_an_earlier_send_leaves_the_operators_resend_alone(
    client, sent_message, whatsapp_channel, report
):
    # The reply failed, and the operator sent it again: queued, with its old platform id.
    Message.objects.filter(pk=sent_message.pk).update(status=MessageStatus.QUEUED)

    post_fixture(client, whatsapp_channel, report)

    sent_message.refresh_from_db()
    assert sent_message.status == MessageStatus.QUEUED


@pytest.mark.parametrize("status", [MessageStatus.FAILED, MessageStatus.UNKNOWN])
def test_a_status_report_never_revives_a_reply_that_failed_or_is_unknown_into_the_queue(
    client, sent_message, whatsapp_channel, status
):
    sent_message.status = status
    sent_message.save()

    post_fixture(client, whatsapp_channel, "status_failed")

    sent_message.refresh_from_db()
    assert sent_message.status == status
