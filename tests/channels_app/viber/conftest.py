"""Viber test fixtures: a fake Viber REST API and a channel that calls it."""

import pytest

from channels_app.services import channel_create
from tests.fakes.viber import AUTH_TOKEN, FakeViber


@pytest.fixture
def fake_viber():
    fake = FakeViber().start()
    yield fake
    fake.stop()


@pytest.fixture
def viber_channel(team, fake_viber):
    channel = channel_create(
        kind="viber",
        name="Acme Viber",
        config={"auth_token": AUTH_TOKEN, "sender_name": "Acme", "api_base_url": fake_viber.url},
    )
    channel.teams.add(team)
    return channel
