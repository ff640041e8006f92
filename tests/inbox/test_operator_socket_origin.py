"""The operator socket opens only for pages of this site: a browser's Origin must be one
of the site's full origins (scheme, host and port), not merely name an allowed host."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from inbox import people

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def site(settings):
    settings.PUBLIC_BASE_URL = "https://desk.example.com"
    settings.CSRF_TRUSTED_ORIGINS = ["https://admin.example.com:8443", "https://*.example.org"]
    settings.ALLOWED_HOSTS = ["desk.example.com", "admin.example.com", ".example.org"]


async def connects_from(user, origin: str | None) -> bool:
    token = await sync_to_async(people.operator_api_token)(user=user)
    headers = [(b"authorization", f"Token {token}".encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=headers)
    connected, _ = await communicator.connect()
    if connected:
        await communicator.disconnect()
    return connected


@pytest.mark.parametrize(
    "origin",
    [
        "https://desk.example.com",
        "https://desk.example.com:443",
        "https://DESK.example.com",
        "https://admin.example.com:8443",
        "https://eu.example.org",
        None,  # not a browser: the token alone decides
    ],
)
async def test_the_sites_own_origins_connect(site, operator, origin):
    assert await connects_from(operator, origin) is True


@pytest.mark.parametrize(
    "origin",
    [
        "http://desk.example.com",  # same host, another scheme
        "https://desk.example.com:8443",  # same host, another port
        "https://admin.example.com",  # trusted only on its port 8443
        "http://eu.example.org",
        "https://example.org.evil.test",
        "https://evil.test",
        "null",
    ],
)
async def test_other_origins_are_refused(site, operator, origin):
    assert await connects_from(operator, origin) is False


@pytest.mark.parametrize(
    "origin, connected",
    [
        ("http://127.0.0.1:8000", True),  # PUBLIC_BASE_URL's default
        ("http://127.0.0.1:9999", False),  # another service on the same host
        ("https://127.0.0.1:8000", False),
        ("http://localhost:8000", False),  # an allowed host, but not the site's address
    ],
)
async def test_an_allowed_host_alone_is_not_enough(operator, origin, connected):
    assert await connects_from(operator, origin) is connected
