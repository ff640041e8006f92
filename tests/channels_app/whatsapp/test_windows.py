"""The 24-hour customer service window counts from the time WhatsApp gives the customer's
message (its `timestamp`), never later than the webhook's arrival: after an outage Meta
redelivers webhooks for days, and a late one must not reopen a closed window."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from channels_app.adapters.whatsapp import WINDOW_CLOSED
from channels_app.services import channel_update, message_deliver
from inbox.models import Conversation, CsatSurvey, Message, MessageStatus, SurveyStatus
from inbox.services import message_reply
from tests.channels_app.whatsapp.helpers import WA_ID, first_message, fixture_json, post_payload
from tests.helpers import surveys_sent_after_resolving

pytestmark = pytest.mark.django_db

TEMPLATE = {"name": "reopen_chat", "language": "en_US"}


def customer_wrote(client, channel, *, at: datetime, message_id: str = "wamid.late-1"):
    """A text message WhatsApp stamped `at`, whose webhook arrives now."""
    payload = fixture_json("text")
    message = first_message(payload)
    message["id"] = message_id
    message["timestamp"] = str(int(at.timestamp()))
    response = post_payload(client, channel, payload)
    assert response.status_code == 200, response.content
    return Conversation.objects.get(channel=channel, recipient_address=WA_ID)


def delivered(message: Message) -> Message:
    message_deliver(message_id=message.pk, attempt=1, max_attempts=3)
    message.refresh_from_db()
    return message


def reply_to(conversation, operator) -> Message:
    return message_reply(conversation=conversation, author=operator, body="It ships tomorrow.")


def test_a_reply_to_a_three_day_old_message_arriving_now_goes_as_the_template(
    client, whatsapp_channel, operator, graph_api
):
    channel_update(channel=whatsapp_channel, config={"fallback_template": TEMPLATE})
    conversation = customer_wrote(client, whatsapp_channel, at=timezone.now() - timedelta(days=3))
    assert conversation.last_inbound_at > timezone.now() - timedelta(minutes=5)

    message = delivered(reply_to(conversation, operator))

    assert [sent["type"] for sent in graph_api.sent_messages] == ["template"]
    assert graph_api.sent_messages[0]["template"]["name"] == "reopen_chat"
    assert message.status == MessageStatus.SENT


def test_without_a_template_that_reply_fails_with_the_window_named_and_nothing_is_sent(
    client, whatsapp_channel, operator, graph_api
):
    conversation = customer_wrote(client, whatsapp_channel, at=timezone.now() - timedelta(days=3))

    message = delivered(reply_to(conversation, operator))

    assert (message.status, message.error) == (MessageStatus.FAILED, WINDOW_CLOSED.stored())
    assert graph_api.requests == []


def test_a_message_stamped_within_24_hours_still_opens_the_window(
    client, whatsapp_channel, operator, graph_api
):
    channel_update(channel=whatsapp_channel, config={"fallback_template": TEMPLATE})
    conversation = customer_wrote(client, whatsapp_channel, at=timezone.now() - timedelta(hours=2))

    message = delivered(reply_to(conversation, operator))

    assert [sent["type"] for sent in graph_api.sent_messages] == ["text"]
    assert message.status == MessageStatus.SENT


def test_an_old_message_redelivered_after_a_fresh_one_does_not_close_the_window(
    client, whatsapp_channel, operator, graph_api
):
    customer_wrote(
        client, whatsapp_channel, at=timezone.now() - timedelta(minutes=5), message_id="wamid.new"
    )
    conversation = customer_wrote(
        client, whatsapp_channel, at=timezone.now() - timedelta(days=3), message_id="wamid.old"
    )
    assert conversation.messages.count() == 2

    message = delivered(reply_to(conversation, operator))

    assert [sent["type"] for sent in graph_api.sent_messages] == ["text"]
    assert message.status == MessageStatus.SENT


def test_a_timestamp_later_than_the_arrival_never_stretches_the_window(
    client, whatsapp_channel, operator, graph_api
):
    conversation = customer_wrote(client, whatsapp_channel, at=timezone.now() + timedelta(hours=10))
    arrived = Message.objects.get()
    Message.objects.filter(pk=arrived.pk).update(
        created_at=arrived.created_at - timedelta(hours=25)
    )

    message = delivered(reply_to(conversation, operator))

    assert message.status == MessageStatus.FAILED
    assert graph_api.requests == []


def test_a_survey_after_a_three_day_old_message_is_not_sent_as_the_free_form_list(
    client, whatsapp_channel, operator, graph_api
):
    conversation = customer_wrote(client, whatsapp_channel, at=timezone.now() - timedelta(days=3))
    # The reply itself went out as a template; the window stayed closed.
    channel_update(channel=whatsapp_channel, config={"fallback_template": TEMPLATE})
    delivered(reply_to(conversation, operator))

    surveys_sent_after_resolving(conversation, operator)

    assert [sent["type"] for sent in graph_api.sent_messages] == ["template"]
    assert CsatSurvey.objects.get().status != SurveyStatus.SENT


def test_a_survey_after_a_fresh_message_goes_as_the_list(
    client, whatsapp_channel, operator, graph_api
):
    conversation = customer_wrote(
        client, whatsapp_channel, at=timezone.now() - timedelta(minutes=30)
    )
    delivered(reply_to(conversation, operator))

    surveys_sent_after_resolving(conversation, operator)

    assert [sent["type"] for sent in graph_api.sent_messages] == ["text", "interactive"]
    assert CsatSurvey.objects.get().status == SurveyStatus.SENT
