"""An operator reply delivered by a real Celery worker through the Redis broker."""

import time

import pytest

from inbox.models import Message, MessageStatus
from tests.conftest import client_for
from tests.factories import ConversationFactory
from tests.failure_reasons import reason_text
from tests.helpers import sign

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def wait_for_status(message_id: int, statuses: set[str], timeout: float = 20.0) -> Message:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = Message.objects.get(pk=message_id)
        if message.status in statuses:
            return message
        time.sleep(0.1)
    raise TimeoutError(f"message {message_id} still {message.status}: {reason_text(message)}")


@pytest.fixture
def conversation(channel, callback_server):
    channel.config = {"callback_url": callback_server.url}
    channel.save()
    return ConversationFactory(channel=channel, recipient_address="customer-7")


def test_a_reply_is_delivered_signed_by_the_worker(
    celery_worker, conversation, operator, callback_server
):
    api = client_for(operator)

    response = api.post(
        f"/api/v1/conversations/{conversation.pk}/messages/", {"body": "On its way!"}, format="json"
    )

    assert response.status_code == 201
    message = wait_for_status(response.json()["id"], {MessageStatus.SENT, MessageStatus.FAILED})
    assert message.status == MessageStatus.SENT, reason_text(message)
    request = callback_server.requests[0]
    assert request.headers["x-switchboard-signature"] == sign(request.body)
    assert request.json()["text"] == "On its way!"
    assert request.json()["recipient"]["id"] == "customer-7"
    shown = api.get(f"/api/v1/conversations/{conversation.pk}/messages/").json()["results"][-1]
    assert (shown["status"], shown["external_id"]) == ("sent", "remote-1")


def test_a_failing_callback_is_retried_then_shown_failed(
    celery_worker, conversation, operator, callback_server
):
    callback_server.status = 500
    callback_server.response_body = b"maintenance"
    api = client_for(operator)

    response = api.post(
        f"/api/v1/conversations/{conversation.pk}/messages/", {"body": "Hello?"}, format="json"
    )

    message = wait_for_status(response.json()["id"], {MessageStatus.FAILED, MessageStatus.SENT})
    assert message.status == MessageStatus.FAILED
    # DELIVERY_MAX_RETRIES=2 for the worker: the first try and two retries.
    assert len(callback_server.requests) == 3
    assert message.delivery_attempts == 3
    shown = api.get(f"/api/v1/conversations/{conversation.pk}/messages/").json()["results"][-1]
    assert shown["status"] == "failed"
    assert "HTTP 500" in shown["error"] and "maintenance" not in shown["error"]
    assert shown["error_code"] == "platform_refused"
    in_russian = api.get(
        f"/api/v1/conversations/{conversation.pk}/messages/", HTTP_ACCEPT_LANGUAGE="ru"
    ).json()["results"][-1]
    assert in_russian["error"].startswith("Адрес обратного вызова (callback URL) не принял")


def test_a_webhook_conversation_is_assigned_by_the_worker(celery_worker, channel, team, operator):
    from asgiref.sync import async_to_sync
    from django.core.cache import cache

    from inbox.models import Conversation
    from inbox.selectors import AUTO_ASSIGN_TURN_KEY_PREFIX, presence_cache_key
    from inbox.services import operator_presence_set
    from tests.helpers import api_payload

    team.auto_assign = True
    team.save()
    async_to_sync(operator_presence_set)(
        operator={"id": operator.pk, "username": operator.username, "name": "Anna"},
        socket="live-tab",
        status="online",
    )
    body = api_payload(message_id="auto-1", sender_id="auto-sender")
    try:
        response = client_for(operator).post(
            f"/webhooks/api/{channel.public_id}/",
            data=body,
            content_type="application/json",
            HTTP_X_SWITCHBOARD_SIGNATURE=sign(body),
        )
        assert response.status_code == 200
        conversation_id = response.json()["messages"][0]["conversation_id"]

        deadline = time.monotonic() + 20
        while Conversation.objects.get(pk=conversation_id).assignee_id is None:
            assert time.monotonic() < deadline, "the worker never assigned the conversation"
            time.sleep(0.1)
        assert Conversation.objects.get(pk=conversation_id).assignee_id == operator.pk
    finally:
        cache.delete_many(
            [presence_cache_key(operator.pk), f"{AUTO_ASSIGN_TURN_KEY_PREFIX}{team.pk}"]
        )
