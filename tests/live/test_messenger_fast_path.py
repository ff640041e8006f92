"""Messenger on the batched fast path: a known customer's plain message is stored there as
the regular path stores it; a first message (whose sender's name the regular path asks
Meta for), echoes, watermarks, button answers and files are left to the regular path."""

import asyncio
import json
from datetime import UTC, datetime

import pytest

from channels_app import webhook_edge
from channels_app.contracts import WebhookRequest
from channels_app.services import channel_get_active
from inbox.models import Conversation, Message
from inbox.receiving import batched
from tests.channels_app.messenger.helpers import APP_SECRET, PSID, fixture_json, post_payload
from tests.channels_app.meta_messaging import MESSENGER, first_item, meta_config
from tests.fakes.meta_messaging import FakeSendApi
from tests.helpers import channel_serving, sign

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

WRITTEN_AT = datetime(2026, 12, 7, 9, 30, 0, 250000, tzinfo=UTC)


@pytest.fixture
def send_api():
    with FakeSendApi() as fake:
        yield fake


@pytest.fixture
def page(team, send_api):
    return channel_serving(
        team, kind="messenger", name="Page", config=meta_config(MESSENGER, send_api)
    )


def text(mid: str, body: str = "Any news?", *, sender: str = PSID) -> dict:
    payload = fixture_json("text")
    item = first_item(payload)
    item["sender"]["id"] = sender
    item["timestamp"] = int(WRITTEN_AT.timestamp() * 1000)
    item["message"].update(mid=mid, text=body)
    return payload


def fast(channel, payload: dict) -> dict | None:
    body = json.dumps(payload).encode()

    async def attempt():
        request = WebhookRequest(
            body=body,
            headers={
                "x-hub-signature-256": sign(body, APP_SECRET),
                "content-type": "application/json",
            },
        )
        try:
            async with webhook_edge.received(
                kind=channel.kind, public_id=str(channel.public_id), request=request
            ) as answer:
                return answer
        finally:
            await batched.close()

    channel_get_active(kind=channel.kind, public_id=str(channel.public_id))
    return asyncio.run(attempt())


def stored(mid: str) -> dict:
    message = Message.objects.get(external_id=mid)
    return {
        "conversation": message.conversation_id,
        "direction": message.direction,
        "status": message.status,
        "body": message.body,
        "sent_at": message.sent_at,
        "author": message.author_id,
        "sent_from": message.sent_from,
    }


def test_a_known_customers_message_is_stored_as_the_regular_path_stores_it(client, page):
    post_payload(client, page, text("m_first", "Hi"))
    post_payload(client, page, text("m_regular"))

    answer = fast(page, text("m_fast"))

    assert answer is not None, "the fast path declined a known customer's message"
    message = Message.objects.get(external_id="m_fast")
    assert answer["messages"] == [
        {"id": message.pk, "conversation_id": message.conversation_id, "duplicate": False}
    ]
    assert stored("m_fast") == stored("m_regular")
    # Meta's own time, which the reply window counts from.
    assert message.sent_at == WRITTEN_AT
    assert Conversation.objects.get().last_inbound_at is not None


def test_a_first_message_is_left_to_the_regular_path_which_asks_for_the_name(client, page):
    assert fast(page, text("m_new")) is None

    assert Message.objects.count() == 0


@pytest.mark.parametrize(
    "fixture", ["echo_business_suite", "read", "delivery", "quick_reply", "image", "postback"]
)
def test_echoes_watermarks_answers_and_files_are_left_to_the_regular_path(client, page, fixture):
    post_payload(client, page, text("m_first", "Hi"))

    assert fast(page, fixture_json(fixture)) is None

    assert Message.objects.count() == 1
