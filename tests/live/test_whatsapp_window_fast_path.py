"""A WhatsApp webhook that takes the batched fast path keeps the time WhatsApp gives the
message, so a late one does not reopen the 24-hour window there either."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app.services import message_deliver
from inbox.models import Conversation, Message, MessageDirection, MessageStatus
from tests.channels_app.whatsapp.helpers import (
    APP_SECRET,
    first_message,
    fixture_json,
    post_payload,
    whatsapp_config,
)
from tests.factories import MessageFactory
from tests.fakes.whatsapp import FakeGraphApi
from tests.helpers import channel_serving, sign
from tests.live.fast_path import through_the_fast_path

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def graph_api():
    with FakeGraphApi() as fake:
        yield fake


@pytest.fixture
def whatsapp_channel(team, graph_api):
    config = whatsapp_config(
        graph_api, fallback_template={"name": "reopen_chat", "language": "en_US"}
    )
    return channel_serving(team, kind="whatsapp", name="WhatsApp support", config=config)


def text_message(message_id: str, *, written_ago: timedelta) -> dict:
    payload = fixture_json("text")
    message = first_message(payload)
    message["id"] = message_id
    message["timestamp"] = str(int((timezone.now() - written_ago).timestamp()))
    return payload


def queued_reply(conversation, operator) -> Message:
    """A reply waiting for delivery, which the test delivers itself (no task queued: a
    worker of another test must not send it meanwhile)."""
    return MessageFactory(
        conversation=conversation,
        direction=MessageDirection.OUTBOUND,
        status=MessageStatus.QUEUED,
        author=operator,
        body="It ships tomorrow.",
        external_id=None,
    )


def fast(channel, payload: dict) -> dict | None:
    body = json.dumps(payload).encode()
    return through_the_fast_path(channel, body, {"x-hub-signature-256": sign(body, APP_SECRET)})


def test_a_three_day_old_message_on_the_fast_path_leaves_the_window_closed(
    client, whatsapp_channel, graph_api, operator
):
    # The customer is known (an earlier message, days ago, through the regular path).
    post_payload(
        client, whatsapp_channel, text_message("wamid.first", written_ago=timedelta(days=4))
    )

    answer = fast(whatsapp_channel, text_message("wamid.late", written_ago=timedelta(days=3)))

    assert answer is not None  # stored by the fast path, not left to the regular one
    late = Message.objects.get(external_id="wamid.late")
    assert late.sent_at < timezone.now() - timedelta(days=2)
    reply = queued_reply(Conversation.objects.get(), operator)
    message_deliver(message_id=reply.pk, attempt=1, max_attempts=3)

    assert [sent["type"] for sent in graph_api.sent_messages] == ["template"]
    reply.refresh_from_db()
    assert reply.status == MessageStatus.SENT


def test_a_fresh_message_on_the_fast_path_opens_the_window(
    client, whatsapp_channel, graph_api, operator
):
    post_payload(
        client, whatsapp_channel, text_message("wamid.first", written_ago=timedelta(days=4))
    )

    assert fast(whatsapp_channel, text_message("wamid.new", written_ago=timedelta(minutes=2)))

    reply = queued_reply(Conversation.objects.get(), operator)
    message_deliver(message_id=reply.pk, attempt=1, max_attempts=3)

    assert [sent["type"] for sent in graph_api.sent_messages] == ["text"]
