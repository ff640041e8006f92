"""WhatsApp test fixtures: a fake Graph API and a channel that calls it."""

import pytest

from channels_app.services import channel_create
from tests.channels_app.whatsapp.helpers import (
    whatsapp_config,
)
from tests.fakes.whatsapp import (
    FakeGraphApi,
)


@pytest.fixture
def graph_api():
    fake = FakeGraphApi().start()
    yield fake
    fake.stop()


@pytest.fixture
def whatsapp_channel(db, team, graph_api):
    channel = channel_create(
        kind="whatsapp", name="WhatsApp support", config=whatsapp_config(graph_api)
    )
    channel.teams.set([team])
    return channel


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path
