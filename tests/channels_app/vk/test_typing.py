"""A VK customer typing (`message_typing_state`) shows live in the inbox, on their latest
conversation with the community, as colleagues typing do; it opens no conversation."""

import json

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from channels_app.adapters.vk.inbound import events_from_callback
from channels_app.contracts import CustomerTyping
from inbox.models import Conversation
from tests.channels_app.vk.helpers import MARIA_ID, event, event_body
from tests.helpers import stored_counts
from tests.inbox.test_inbox_consumer import connect, next_event_of_type

pytestmark = pytest.mark.django_db(transaction=True)


async def post_vk(channel, body: bytes) -> bytes:
    response = await AsyncClient().post(
        f"/webhooks/vk/{channel.public_id}/", data=body, content_type="application/json"
    )
    assert response.status_code == 200
    return response.content


@pytest.mark.asyncio
async def test_a_customer_typing_on_vk_shows_on_their_conversation(vk_channel, operator):
    await post_vk(vk_channel, event_body("message_new_text"))
    conversation = await Conversation.objects.select_related("customer").aget()
    anna = await connect(operator)

    assert await post_vk(vk_channel, event_body("message_typing_state")) == b"ok"

    typing = await next_event_of_type(anna, "typing")
    assert typing["conversation_id"] == conversation.pk
    assert typing["is_customer"] is True
    assert typing["is_typing"] is True
    assert typing["customer"] == {
        "id": conversation.customer_id,
        "name": conversation.customer.name,
    }
    await anna.disconnect()


@pytest.mark.asyncio
async def test_typing_from_someone_without_a_conversation_opens_none(vk_channel):
    assert await post_vk(vk_channel, event_body("message_typing_state")) == b"ok"

    assert (await sync_to_async(stored_counts)())[:3] == (0, 0, 0)


@pytest.mark.parametrize(("from_id", "state"), [(-218000001, "typing"), (2_000_000_001, "typing")])
def test_the_community_typing_or_a_group_chat_is_no_customer_typing(from_id, state):
    typing = event("message_typing_state")
    typing["object"].update(from_id=from_id, state=state)

    assert events_from_callback(json.dumps(typing).encode()) == []
    assert events_from_callback(event_body("message_typing_state")) == [
        CustomerTyping(sender_address=MARIA_ID)
    ]
