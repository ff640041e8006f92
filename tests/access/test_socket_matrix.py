"""Both websockets for each role, against one table: the operator socket (who may open it,
view a conversation, hear its events) and the widget socket (a visitor's: open to everyone
from the channel's allowed origins, and an operator's credentials add nothing)."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from inbox import people
from tests.access.world import ROLES, World, world_build
from tests.factories import WEBCHAT_ORIGIN

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

INBOX_ORIGIN = b"http://127.0.0.1:8000"

# What each role gets, in the order of ROLES: admin, supervisor, operator (serving team),
# outsider (another team), anonymous.
SOCKET_MATRIX: dict[str, tuple[str, str, str, str, str]] = {
    "operator socket: open": ("open", "open", "open", "open", "refused"),
    "operator socket: view the conversation": (
        "viewing",
        "viewing",
        "viewing",
        "no such conversation",
        "refused",
    ),
    "operator socket: hear a colleague typing in it": (
        "heard",
        "heard",
        "heard",
        "not heard",
        "refused",
    ),
    "widget socket: from the allowed origin": ("ready", "ready", "ready", "ready", "ready"),
    "widget socket: from another origin": ("refused", "refused", "refused", "refused", "refused"),
}


@pytest.fixture
def world(transactional_db, settings, tmp_path) -> World:
    settings.MEDIA_ROOT = tmp_path
    return world_build()


def credentials(user) -> list[tuple[bytes, bytes]]:
    if user is None:
        return []
    return [(b"authorization", f"Token {people.operator_api_token(user=user)}".encode())]


async def operator_socket(user) -> WebsocketCommunicator | None:
    headers = [*await sync_to_async(credentials)(user), (b"origin", INBOX_ORIGIN)]
    communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=headers)
    connected, _ = await communicator.connect()
    return communicator if connected else None


async def next_event(communicator, is_wanted, timeout: float = 5.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        event = json.loads(await communicator.receive_from(timeout=max(remaining, 0.01)))
        if is_wanted(event):
            return event


async def view(communicator, user, conversation_id: int) -> str:
    await communicator.send_to(
        text_data=json.dumps({"type": "viewing", "conversation_id": conversation_id})
    )
    event = await next_event(
        communicator,
        lambda event: (
            event["type"] == "error"
            or (event["type"] == "viewing" and event["operator"]["username"] == user.username)
        ),
    )
    return "viewing" if event["type"] == "viewing" else event["detail"]


async def heard_typing(communicator, colleague, conversation_id: int) -> str:
    """Whether the colleague's typing reached this socket before their presence change,
    which goes to every operator after it."""
    event = await next_event(
        communicator,
        lambda event: (
            event.get("operator", {}).get("username") == colleague.username
            and (
                event["type"] == "typing"
                or (event["type"] == "presence" and event["status"] == "away")
            )
        ),
    )
    if event["type"] == "typing":
        assert event["conversation_id"] == conversation_id
        return "heard"
    return "not heard"


async def widget_answer(world: World, user, origin: str) -> str:
    headers = [*await sync_to_async(credentials)(user), (b"origin", origin.encode())]
    communicator = WebsocketCommunicator(
        application, f"/ws/widget/{world.webchat_public_id}/", headers=headers
    )
    connected, _ = await communicator.connect()
    if not connected:
        return "refused"
    await communicator.send_json_to({"type": "hello"})
    frame = await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()
    return frame["type"]


async def test_sockets_answer_each_role_as_the_table_says(world):
    conversation_id = world.conversation.pk
    sockets = {role: await operator_socket(world.users[role]) for role in ROLES}
    actual: dict[str, list[str]] = {key: [] for key in SOCKET_MATRIX}
    for role in ROLES:
        socket = sockets[role]
        actual["operator socket: open"].append("open" if socket else "refused")
        actual["operator socket: view the conversation"].append(
            await view(socket, world.users[role], conversation_id) if socket else "refused"
        )

    colleague = await operator_socket(world.colleague)
    assert colleague is not None
    await colleague.send_to(
        text_data=json.dumps({"type": "typing", "conversation_id": conversation_id})
    )
    await colleague.send_to(text_data=json.dumps({"type": "presence", "status": "away"}))
    for role in ROLES:
        socket = sockets[role]
        actual["operator socket: hear a colleague typing in it"].append(
            await heard_typing(socket, world.colleague, conversation_id) if socket else "refused"
        )
    for socket in [*sockets.values(), colleague]:
        if socket is not None:
            await socket.disconnect()

    for role in ROLES:
        user = world.users[role]
        actual["widget socket: from the allowed origin"].append(
            await widget_answer(world, user, WEBCHAT_ORIGIN)
        )
        actual["widget socket: from another origin"].append(
            await widget_answer(world, user, "https://elsewhere.example.com")
        )

    assert {key: tuple(values) for key, values in actual.items()} == SOCKET_MATRIX
