"""WhatsApp test fixtures: a fake Graph API and a channel that calls it."""

import pytest

from tests.channels_app.whatsapp.helpers import whatsapp_config
from tests.fakes.whatsapp import FakeGraphApi
from tests.helpers import channel_serving


@pytest.fixture
def graph_api():
    with FakeGraphApi() as fake:
        yield fake


@pytest.fixture
def whatsapp_channel(db, team, graph_api):
    config = whatsapp_config(graph_api)
    return channel_serving(team, kind="whatsapp", name="WhatsApp support", config=config)
