"""One delivery attempt at a time, against a real local HTTP server as the callback URL."""

import json
from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile

from channels_app.services import message_deliver
from inbox.models import Attachment, Message, MessageStatus
from inbox.services import message_reply, message_retry_delivery
from tests.channels_app.test_api_webhook import post_webhook
from tests.factories import ConversationFactory
from tests.failure_reasons import reason_text
from tests.helpers import api_payload, sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued_reply(channel, operator, callback_server):
    channel.config = {"callback_url": callback_server.url}
    channel.save()
    conversation = ConversationFactory(channel=channel, recipient_address="u-42")
    return message_reply(conversation=conversation, author=operator, body="It ships tomorrow.")


def test_a_reply_is_posted_signed_to_the_callback_url(queued_reply, callback_server):
    assert message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=3) is None

    request = callback_server.requests[0]
    assert request.headers["x-switchboard-signature"] == sign(request.body)
    assert request.headers["content-type"] == "application/json"
    payload = json.loads(request.body)
    assert payload["id"] == queued_reply.pk
    assert payload["recipient"] == {"id": "u-42"}
    assert payload["text"] == "It ships tomorrow."
    assert payload["author"]["name"] == "Anna"
    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.SENT
    assert queued_reply.external_id == "remote-1"
    assert queued_reply.sent_at is not None


def test_a_server_error_is_retried_then_fails_with_the_reason(queued_reply, callback_server):
    callback_server.status = 500
    callback_server.response_body = b"upstream down"

    delay = message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=2)

    assert delay is not None and delay > 0
    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.QUEUED
    assert "retrying" in reason_text(queued_reply)

    assert message_deliver(message_id=queued_reply.pk, attempt=2, max_attempts=2) is None
    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.FAILED
    assert "HTTP 500" in reason_text(queued_reply)
    # The callback host's own answer is not shown to operators.
    assert "upstream down" not in reason_text(queued_reply)
    assert queued_reply.delivery_attempts == 2
    assert len(callback_server.requests) == 2


def test_a_client_error_fails_at_once(queued_reply, callback_server):
    callback_server.status = 404

    assert message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=5) is None

    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.FAILED
    assert "HTTP 404" in reason_text(queued_reply)


def test_a_rate_limit_is_retried(queued_reply, callback_server):
    callback_server.status = 429

    delay = message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=5)

    assert delay is not None
    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.QUEUED


def test_an_unreachable_callback_is_retried(queued_reply, channel):
    channel.config = {"callback_url": "http://127.0.0.1:9/closed-port"}
    channel.save()

    assert message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=2) is not None
    assert message_deliver(message_id=queued_reply.pk, attempt=2, max_attempts=2) is None

    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.FAILED
    assert "unreachable" in reason_text(queued_reply)


def test_a_channel_without_callback_url_fails_with_a_clear_reason(queued_reply, channel):
    channel.config = {}
    channel.save()

    message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=5)

    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.FAILED
    assert reason_text(queued_reply) == "The channel has no callback_url configured."


def test_a_sent_message_is_not_sent_again(queued_reply, callback_server):
    message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=3)
    message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=3)

    assert len(callback_server.requests) == 1


def test_a_failed_message_can_be_retried(queued_reply, callback_server, operator_client):
    callback_server.status = 400
    message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=1)
    callback_server.status = 200
    url = f"/api/v1/conversations/{queued_reply.conversation_id}/messages/{queued_reply.pk}/retry/"

    response = operator_client.post(url)

    assert response.status_code == 200
    assert response.json()["status"] == "queued"
    message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=1)
    assert Message.objects.get(pk=queued_reply.pk).status == MessageStatus.SENT
    assert operator_client.post(url).status_code == 400


def test_retrying_a_message_that_did_not_fail_is_refused(queued_reply):
    from inbox.services import ConversationActionInvalid

    with pytest.raises(ConversationActionInvalid):
        message_retry_delivery(message=queued_reply)


def test_a_reply_with_a_file_sends_a_signed_link_that_serves_it_without_a_session(
    queued_reply, callback_server, client, settings
):
    settings.PUBLIC_BASE_URL = "https://desk.example.com"
    Attachment.objects.create(
        message=queued_reply,
        file=ContentFile(b"label data", name="label.pdf"),
        filename="label.pdf",
        content_type="application/pdf",
        size=10,
    )

    message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=3)

    [sent] = json.loads(callback_server.requests[0].body)["attachments"]
    url = urlsplit(sent["url"])
    assert (url.scheme, url.netloc) == ("https", "desk.example.com")
    response = client.get(f"{url.path}?{url.query}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"label data"


def test_replies_the_callback_answers_with_the_same_id_are_all_recorded_sent(
    queued_reply, callback_server, operator
):
    # The customer's callback answers {"id": "remote-1"} to every reply.
    second = message_reply(conversation=queued_reply.conversation, author=operator, body="Again")

    message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=3)
    assert message_deliver(message_id=second.pk, attempt=1, max_attempts=3) is None

    queued_reply.refresh_from_db()
    second.refresh_from_db()
    assert (queued_reply.status, queued_reply.external_id) == (MessageStatus.SENT, "remote-1")
    assert (second.status, second.external_id, reason_text(second)) == (
        MessageStatus.SENT,
        None,
        "",
    )
    assert len(callback_server.requests) == 2


def test_an_inbound_message_may_carry_the_id_a_reply_was_given(
    client, queued_reply, callback_server, channel
):
    message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=3)
    # The site numbers what its users send apart from what it gives our replies.
    body = api_payload(message_id="remote-1", sender_id="u-42", text="Thanks!")

    response = post_webhook(client, channel, body)

    assert response.status_code == 200
    assert response.json()["messages"][0]["duplicate"] is False
    inbound = Message.objects.get(direction="in", external_id="remote-1")
    assert inbound.body == "Thanks!"
    assert Message.objects.get(direction="out").external_id == "remote-1"
