"""A VK reply delivered by a real Celery worker through the Redis broker, to a fake VK
API that loses its first answer: the worker's retry is the same VK message."""

import time

import pytest

from channels_app.services import channel_create
from inbox.models import Conversation, Message, MessageStatus
from tests.channels_app.vk.helpers import GROUP_ID, SECRET_KEY, event_body, post_event
from tests.conftest import client_for
from tests.failure_reasons import reason_text
from tests.fakes.vk import ACCESS_TOKEN, FakeVk

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fake_vk():
    fake = FakeVk().start()
    yield fake
    fake.stop()


def wait_for_status(message_id: int, statuses: set[str], timeout: float = 20.0) -> Message:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = Message.objects.get(pk=message_id)
        if message.status in statuses:
            return message
        time.sleep(0.1)
    raise TimeoutError(f"message {message_id} still {message.status}: {reason_text(message)}")


def test_a_vk_reply_whose_answer_was_lost_is_sent_once_by_the_worker(
    celery_worker, client, team, operator, fake_vk, settings
):
    channel = channel_create(
        kind="vk",
        name="Acme VK",
        config={
            "group_id": GROUP_ID,
            "access_token": ACCESS_TOKEN,
            "secret_key": SECRET_KEY,
            "api_base_url": fake_vk.url,
        },
    )
    channel.teams.add(team)
    assert post_event(client, channel, event_body("message_new_text")).content == b"ok"
    conversation = Conversation.objects.get()
    fake_vk.lose_next_answer("messages.send")

    response = client_for(operator).post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"body": "Уже отправили!"},
        format="json",
    )

    assert response.status_code == 201
    message = wait_for_status(response.json()["id"], {MessageStatus.SENT, MessageStatus.FAILED})
    assert message.status == MessageStatus.SENT, reason_text(message)
    sends = fake_vk.calls_to("messages.send")
    assert len(sends) == 2
    assert sends[0].params["random_id"] == sends[1].params["random_id"]
    assert [sent["message"] for sent in fake_vk.sent] == ["Уже отправили!"]
    assert message.external_id == "5001"


def test_the_batched_fast_path_leaves_vk_to_the_regular_path_which_answers_ok(
    client, team, fake_vk
):
    import asyncio

    from channels_app import webhook_edge
    from channels_app.contracts import WebhookRequest

    channel = channel_create(
        kind="vk",
        name="Acme VK",
        config={"group_id": GROUP_ID, "access_token": ACCESS_TOKEN, "secret_key": SECRET_KEY},
    )
    channel.teams.add(team)
    assert post_event(client, channel, event_body("message_new_text")).content == b"ok"
    second = event_body("message_new_text").replace(b'"id": 301', b'"id": 302')

    async def fast_answer():
        request = WebhookRequest(body=second, headers={"content-type": "application/json"})
        async with webhook_edge.received(
            kind="vk", public_id=str(channel.public_id), request=request
        ) as answer:
            return answer

    assert asyncio.run(fast_answer()) is None
    assert post_event(client, channel, second).content == b"ok"
    assert Message.objects.filter(channel=channel).count() == 2
