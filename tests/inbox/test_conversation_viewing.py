"""Collision detection: operators see who else has a conversation open."""

import json

import pytest
from asgiref.sync import sync_to_async

from tests.factories import ConversationFactory, TeamFactory, UserFactory
from tests.inbox.test_inbox_consumer import connect, next_event_of_type

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def viewing(conversation_id: int, is_viewing: bool = True) -> str:
    return json.dumps(
        {"type": "viewing", "conversation_id": conversation_id, "is_viewing": is_viewing}
    )


async def test_opening_and_leaving_a_conversation_reach_the_other_operators(
    channel, operator, team
):
    colleague = await sync_to_async(UserFactory)(username="ben", teams=[team])
    conversation = await sync_to_async(ConversationFactory)(channel=channel)
    anna, ben = await connect(operator), await connect(colleague)

    await anna.send_to(text_data=viewing(conversation.pk))
    opened = await next_event_of_type(ben, "viewing")
    await anna.send_to(text_data=viewing(conversation.pk, is_viewing=False))
    left = await next_event_of_type(ben, "viewing")

    assert opened["conversation_id"] == conversation.pk
    assert opened["operator"]["username"] == "anna"
    assert opened["is_viewing"] is True
    assert left["is_viewing"] is False
    await anna.disconnect()
    await ben.disconnect()


async def test_switching_conversations_leaves_the_previous_one(channel, operator, team):
    colleague = await sync_to_async(UserFactory)(username="ben", teams=[team])
    first = await sync_to_async(ConversationFactory)(channel=channel)
    second = await sync_to_async(ConversationFactory)(channel=channel)
    anna, ben = await connect(operator), await connect(colleague)

    await anna.send_to(text_data=viewing(first.pk))
    await next_event_of_type(ben, "viewing")
    await anna.send_to(text_data=viewing(second.pk))

    left = await next_event_of_type(ben, "viewing")
    opened = await next_event_of_type(ben, "viewing")
    assert (left["conversation_id"], left["is_viewing"]) == (first.pk, False)
    assert (opened["conversation_id"], opened["is_viewing"]) == (second.pk, True)
    await anna.disconnect()
    await ben.disconnect()


async def test_closing_the_page_stops_viewing(channel, operator, team):
    colleague = await sync_to_async(UserFactory)(username="ben", teams=[team])
    conversation = await sync_to_async(ConversationFactory)(channel=channel)
    anna, ben = await connect(operator), await connect(colleague)
    await anna.send_to(text_data=viewing(conversation.pk))
    await next_event_of_type(ben, "viewing")

    await anna.disconnect()

    left = await next_event_of_type(ben, "viewing")
    assert (left["conversation_id"], left["is_viewing"]) == (conversation.pk, False)
    await ben.disconnect()


async def test_viewing_an_invisible_conversation_is_refused_and_not_broadcast(operator):
    outsider_team = await sync_to_async(TeamFactory)(name="Elsewhere")
    hidden = await sync_to_async(ConversationFactory)()
    supervisor = await sync_to_async(UserFactory)(role="supervisor", teams=[outsider_team])
    anna, boss = await connect(operator), await connect(supervisor)

    await anna.send_to(text_data=viewing(hidden.pk))

    error = await next_event_of_type(anna, "error")
    assert error["detail"] == "no such conversation"
    while not await boss.receive_nothing(timeout=0.3):
        assert json.loads(await boss.receive_from())["type"] == "presence"
    await anna.disconnect()
    await boss.disconnect()
