"""The operator websocket, in process: who gets which events."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from inbox import people
from tests.factories import ConversationFactory, TeamFactory, UserFactory
from tests.helpers import api_payload, sign

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def token_header(user) -> list[tuple[bytes, bytes]]:
    token = people.operator_api_token(user=user)
    return [(b"authorization", f"Token {token}".encode()), (b"origin", b"http://127.0.0.1:8000")]


async def connect(user) -> WebsocketCommunicator:
    headers = await sync_to_async(token_header)(user)
    communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def next_event_of_type(communicator, event_type: str, timeout: float = 3.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        event = json.loads(await communicator.receive_from(timeout=max(remaining, 0.01)))
        if event["type"] == event_type:
            return event


async def post_webhook_async(channel, body: bytes) -> int:
    from django.test import AsyncClient

    response = await AsyncClient().post(
        f"/webhooks/api/{channel.public_id}/",
        data=body,
        content_type="application/json",
        headers={"X-Switchboard-Signature": sign(body)},
    )
    return response.status_code


async def test_an_anonymous_socket_is_closed():
    communicator = WebsocketCommunicator(
        application, "/ws/inbox/", headers=[(b"origin", b"http://127.0.0.1:8000")]
    )
    connected, code = await communicator.connect()
    assert not connected
    assert code == 4401


async def test_operators_get_events_of_their_channels_only(channel, operator, settings):
    outsider = await sync_to_async(UserFactory)(
        teams=[await sync_to_async(TeamFactory)(name="Billing")]
    )
    mine, theirs = await connect(operator), await connect(outsider)

    assert await post_webhook_async(channel, api_payload(text="Parcel missing")) == 200

    created = await next_event_of_type(mine, "message.created")
    assert created["message"]["body"] == "Parcel missing"
    assert created["message"]["direction"] == "in"
    conversation_event = await next_event_of_type(mine, "conversation.created")
    assert conversation_event["conversation"]["id"] == created["conversation_id"]
    while not await theirs.receive_nothing(timeout=0.3):
        event = json.loads(await theirs.receive_from())
        assert event["type"] == "presence", event
    await mine.disconnect()
    await theirs.disconnect()


async def test_typing_reaches_the_other_operators_of_the_channel(channel, operator, team):
    colleague = await sync_to_async(UserFactory)(username="ben", teams=[team])
    conversation = await sync_to_async(ConversationFactory)(channel=channel)
    anna, ben = await connect(operator), await connect(colleague)

    await anna.send_to(
        text_data=json.dumps(
            {"type": "typing", "conversation_id": conversation.pk, "is_typing": True}
        )
    )

    typing = await next_event_of_type(ben, "typing")
    assert typing["conversation_id"] == conversation.pk
    assert typing["operator"]["username"] == "anna"
    assert typing["is_typing"] is True
    await anna.disconnect()
    await ben.disconnect()


async def test_typing_on_an_invisible_conversation_is_refused(operator):
    hidden = await sync_to_async(ConversationFactory)()
    anna = await connect(operator)

    await anna.send_to(text_data=json.dumps({"type": "typing", "conversation_id": hidden.pk}))

    error = await next_event_of_type(anna, "error")
    assert error["detail"] == "no such conversation"
    await anna.disconnect()


async def hears_channel(communicator, channel_id: int) -> bool:
    """Whether an event broadcast to the channel's operators reaches this socket."""
    from inbox import realtime

    # Let a pending access check finish, and set aside what arrived meanwhile. (A receive
    # that times out would cancel the consumer, so silence is asked with receive_nothing.)
    while not await communicator.receive_nothing(timeout=0.3):
        await communicator.receive_from()
    await realtime.group_send_text(
        [realtime.channel_group(channel_id)], {"type": "probe", "channel": channel_id}
    )
    if await communicator.receive_nothing(timeout=0.5):
        return False
    return json.loads(await communicator.receive_from()) == {"type": "probe", "channel": channel_id}


async def test_an_operator_taken_off_a_team_stops_hearing_its_channels_at_once(
    operator, team, channel
):
    socket = await connect(operator)
    assert await hears_channel(socket, channel.pk)

    await sync_to_async(team.members.remove)(operator)

    assert not await hears_channel(socket, channel.pk)
    await socket.disconnect()


async def test_a_team_given_a_channel_hears_it_without_reconnecting(operator, team):
    from tests.factories import ChannelFactory

    other = await sync_to_async(ChannelFactory)()
    socket = await connect(operator)
    assert not await hears_channel(socket, other.pk)

    await sync_to_async(other.teams.add)(team)

    assert await hears_channel(socket, other.pk)
    await socket.disconnect()


async def test_a_deactivated_operators_socket_is_closed(operator):
    socket = await connect(operator)

    operator.is_active = False
    await sync_to_async(operator.save)()

    closing = await socket.receive_output(timeout=2)
    while closing["type"] != "websocket.close":
        closing = await socket.receive_output(timeout=2)
    assert closing["code"] == 4403


def session_cookie_of(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def connect_with_cookie(cookie: str) -> tuple[bool, int | None]:
    communicator = WebsocketCommunicator(
        application,
        "/ws/inbox/",
        headers=[
            (b"cookie", f"sessionid={cookie}".encode()),
            (b"origin", b"http://127.0.0.1:8000"),
        ],
    )
    connected, code = await communicator.connect()
    if connected:
        await communicator.disconnect()
    return connected, code


async def test_a_signed_in_browser_connects_with_its_session_cookie(operator):
    cookie = await sync_to_async(session_cookie_of)(operator)

    assert await connect_with_cookie(cookie) == (True, None)


async def test_a_session_is_refused_once_the_password_changed_or_when_forged(operator):
    cookie = await sync_to_async(session_cookie_of)(operator)
    operator.set_password("a new long password")
    await sync_to_async(operator.save)()

    assert await connect_with_cookie(cookie) == (False, 4401)
    assert await connect_with_cookie("not-a-session") == (False, 4401)
