"""Fixtures of the Messenger Platform channels: a fake Send API, a Messenger and an
Instagram channel that call it, and the adapters' clock stopped."""

import pytest

from channels_app.adapters.meta import messaging_outbound
from tests.channels_app.meta_messaging import INSTAGRAM, MESSENGER, NOW, meta_config
from tests.fakes.meta_messaging import FakeSendApi
from tests.helpers import channel_serving


@pytest.fixture
def send_api():
    with FakeSendApi() as fake:
        yield fake


@pytest.fixture
def messenger_channel(db, team, send_api):
    config = meta_config(MESSENGER, send_api)
    return channel_serving(team, kind="messenger", name="Lumen Home page", config=config)


@pytest.fixture
def instagram_channel(db, team, send_api):
    config = meta_config(INSTAGRAM, send_api)
    return channel_serving(team, kind="instagram", name="@lumen.home", config=config)


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr(messaging_outbound, "current_time", lambda: NOW)
    return NOW


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path
