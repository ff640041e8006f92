"""Widget sockets per client address are capped, the address read through our proxies."""

import random

import pytest
from channels.testing import WebsocketCommunicator

from channels_app.widget.consumer import CLOSE_TOO_MANY_SOCKETS
from config.asgi import application
from tests.factories import WEBCHAT_ORIGIN, WebchatChannelFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

PROXY = "10.9.0.2"


@pytest.fixture
def webchat(db, team):
    return WebchatChannelFactory(teams=[team])


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.WIDGET_SOCKETS_PER_ADDRESS = 2
    settings.TRUSTED_PROXIES = ["10.9.0.0/24"]


def a_visitor_address() -> str:
    return f"198.51.{random.randrange(256)}.{random.randrange(1, 255)}"


def widget_socket(channel, *, peer: str, forwarded_for: str | None = None):
    headers = [(b"origin", WEBCHAT_ORIGIN.encode())]
    if forwarded_for:
        headers.append((b"x-forwarded-for", forwarded_for.encode()))
    communicator = WebsocketCommunicator(
        application, f"/ws/widget/{channel.public_id}/", headers=headers
    )
    communicator.scope["client"] = (peer, 5000)
    return communicator


async def test_an_address_may_hold_only_so_many_sockets(webchat):
    address = a_visitor_address()
    first, second, third = (widget_socket(webchat, peer=address) for _ in range(3))

    assert (await first.connect())[0] and (await second.connect())[0]
    connected, code = await third.connect()

    assert not connected and code == CLOSE_TOO_MANY_SOCKETS
    # A socket closed gives its place back.
    await first.disconnect()
    fourth = widget_socket(webchat, peer=address)
    assert (await fourth.connect())[0]
    await second.disconnect()
    await fourth.disconnect()


async def test_visitors_behind_our_proxy_are_counted_apart(webchat):
    own, neighbour = a_visitor_address(), a_visitor_address()
    sockets = [widget_socket(webchat, peer=PROXY, forwarded_for=own) for _ in range(2)]
    for socket in sockets:
        assert (await socket.connect())[0]

    # The neighbour behind the same proxy still connects; the visitor cannot get round the
    # limit by writing other addresses into the header themselves.
    neighbours = widget_socket(webchat, peer=PROXY, forwarded_for=neighbour)
    spoofing = widget_socket(webchat, peer=PROXY, forwarded_for=f"{neighbour}, {own}")
    assert (await neighbours.connect())[0]
    connected, code = await spoofing.connect()
    assert not connected and code == CLOSE_TOO_MANY_SOCKETS

    for socket in [*sockets, neighbours]:
        await socket.disconnect()
