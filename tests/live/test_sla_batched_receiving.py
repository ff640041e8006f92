"""The batched receiving path sets SLA clocks as the regular path does: a first message
opens its conversation under the matching policy, and a message that would start a next
response clock is left to the regular path, which counts it."""

import pytest

from inbox.models import Conversation, SlaPolicy
from inbox.services import message_reply
from inbox.sla.policies import policies_forget_cached
from tests.channels_app.test_api_webhook import post_webhook
from tests.helpers import api_payload
from tests.live.test_batched_receiving import fast, fast_and_broadcast, fast_together

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def standard():
    policy = SlaPolicy.objects.create(
        name="Standard", first_response_minutes=60, next_response_minutes=30, resolution_minutes=480
    )
    policies_forget_cached()
    return policy


def clocks(conversation: Conversation) -> dict:
    """The due times as offsets from the opening: equal for both paths."""
    opened = conversation.resolution_started_at
    return {
        "policy": conversation.sla_policy_id,
        "first_response": conversation.first_response_due_at - opened,
        "resolution": conversation.resolution_due_at - opened,
        "next_due": conversation.sla_next_due_at - opened,
    }


def test_a_first_message_on_the_fast_path_opens_under_the_matching_policy(
    client, channel, standard
):
    post_webhook(client, channel, api_payload(message_id="r-1", sender_id="olga"))
    regular = Conversation.objects.get()

    answer, broadcasts = fast_and_broadcast(
        channel, api_payload(message_id="f-1", sender_id="nina", name="Nina")
    )

    assert answer is not None, "the fast path declined a new sender"
    opened = Conversation.objects.get(pk=answer["messages"][0]["conversation_id"])
    assert clocks(opened) == clocks(regular)
    created = broadcasts[1]["conversation"]
    assert created["sla"]["policy"] == {"id": standard.pk, "name": "Standard"}
    assert created["sla"]["breached"] == []


def test_without_a_fresh_copy_of_the_policies_a_first_message_takes_the_regular_path(
    channel, standard
):
    async def forget_the_policies(tasks):
        policies_forget_cached()

    answers, _ = fast_together(
        channel,
        [(api_payload(message_id="f-1", sender_id="nina"), None, "application/json")],
        meanwhile=forget_the_policies,
    )

    assert answers == [None]
    assert not Conversation.objects.exists()


def test_a_message_that_starts_the_next_response_clock_is_left_to_the_regular_path(
    client, channel, operator, standard
):
    post_webhook(client, channel, api_payload(message_id="m-1", sender_id="olga"))
    conversation = Conversation.objects.get()
    message_reply(conversation=conversation, author=operator, body="Hello Olga")
    after_reply = fast(channel, api_payload(message_id="m-2", sender_id="olga"))

    post_webhook(client, channel, api_payload(message_id="m-2", sender_id="olga"))
    waiting = Conversation.objects.get()
    then = fast(channel, api_payload(message_id="m-3", sender_id="olga"))

    assert after_reply is None
    assert waiting.next_response_started_at is not None
    assert waiting.next_response_due_at is not None
    assert then is not None, "a message while the clock runs takes the fast path"
    assert Conversation.objects.get().next_response_due_at == waiting.next_response_due_at
