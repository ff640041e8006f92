"""The webhook fast path keeps a Viber sender's avatar as the regular path does."""

import asyncio
import json

import pytest

from channels_app import webhook_edge
from channels_app.contracts import WebhookRequest
from channels_app.services import channel_create, channel_get_active, webhook_receive
from customers.models import Identity
from inbox.models import Message
from inbox.outgoing_webhooks.emitting import events_subscribed
from inbox.receiving import batched
from tests.channels_app.viber.helpers import viber_signature
from tests.fakes.viber import AUTH_TOKEN

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

SENDER_ID = "fastpathSender="
FIRST = "https://media-direct.cdn.viber.com/download_photo?dlid=first"
SECOND = "https://media-direct.cdn.viber.com/download_photo?dlid=second"


@pytest.fixture
def bot(db):
    config = {"auth_token": AUTH_TOKEN, "sender_name": "Acme", "api_base_url": "http://127.0.0.1:9"}
    return channel_create(kind="viber", name="Acme Viber", config=config)


def message(token: int, avatar: str | None) -> WebhookRequest:
    sender = {"id": SENDER_ID, "name": "Olga", "api_version": 10}
    if avatar is not None:
        sender["avatar"] = avatar
    body = json.dumps(
        {
            "event": "message",
            "timestamp": 1765094400001,
            "message_token": token,
            "sender": sender,
            "message": {"type": "text", "text": f"message {token}"},
        }
    ).encode()
    return WebhookRequest(
        body=body,
        headers={
            "x-viber-content-signature": viber_signature(body),
            "content-type": "application/json",
        },
    )


def fast(channel, request: WebhookRequest) -> dict | None:
    async def attempt():
        try:
            async with webhook_edge.received(
                kind=channel.kind, public_id=str(channel.public_id), request=request
            ) as answer:
                return answer
        finally:
            await batched.close()

    channel_get_active(kind=channel.kind, public_id=str(channel.public_id))

    # As the regular path keeps it: which events outgoing webhooks want (none).

    events_subscribed()
    return asyncio.run(attempt())


def avatar() -> str:
    return Identity.objects.get(kind="viber", value=SENDER_ID).avatar_url


def test_a_new_senders_avatar_is_stored_with_their_identity(bot):
    answer = fast(bot, message(1, FIRST))

    assert answer is not None, "the fast path declined a new sender"
    assert avatar() == FIRST


def test_a_known_sender_whose_avatar_is_news_is_left_to_the_regular_path(bot):
    assert fast(bot, message(1, FIRST)) is not None
    assert fast(bot, message(2, FIRST)) is not None  # the same picture: nothing to keep
    assert fast(bot, message(3, None)) is not None  # none given: the known one stays

    # The fast path would store the message without the new picture.
    assert fast(bot, message(4, SECOND)) is None
    webhook_receive(channel=bot, request=message(4, SECOND))

    assert avatar() == SECOND
    assert Message.objects.count() == 4
