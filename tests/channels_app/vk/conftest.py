"""VK test fixtures: a fake VK API server and a channel that calls it."""

import uuid

import pytest

from channels_app.services import channel_create
from tests.channels_app.vk.helpers import CONFIRMATION_CODE, GROUP_ID, SECRET_KEY
from tests.fakes.vk import ACCESS_TOKEN, FakeVk


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    """A cache of this test's own: what a customer's app shows and whose name was asked
    for are kept there by channel id, which the next test database gives out again."""
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    }


@pytest.fixture
def fake_vk():
    fake = FakeVk(confirmation_code=CONFIRMATION_CODE).start()
    yield fake
    fake.stop()


@pytest.fixture
def vk_channel(team, fake_vk):
    channel = channel_create(
        kind="vk",
        name="Acme VK",
        config={
            "group_id": GROUP_ID,
            "access_token": ACCESS_TOKEN,
            "secret_key": SECRET_KEY,
            "confirmation_code": CONFIRMATION_CODE,
            "api_base_url": fake_vk.url,
        },
    )
    channel.teams.add(team)
    return channel
