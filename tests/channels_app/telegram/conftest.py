"""Telegram test fixtures: a fake Bot API server and a channel that calls it."""

from typing import Any

import pytest

from channels_app.services import channel_create
from config.celery import app as celery_app
from tests.channels_app.telegram.helpers import (
    BOT_TOKEN,
    WEBHOOK_SECRET,
)
from tests.fakes.telegram import (
    FakeTelegram,
)


@pytest.fixture
def fake_telegram():
    fake = FakeTelegram(token=BOT_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def telegram_channel(team, fake_telegram):
    channel = channel_create(
        kind="telegram",
        name="Acme bot",
        config={
            "bot_token": BOT_TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
            "api_base_url": fake_telegram.url,
        },
    )
    channel.teams.add(team)
    return channel


@pytest.fixture
def admin_pages(settings):
    # Production settings serve static files from a manifest that tests do not build.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def enqueued_tasks(monkeypatch):
    """Celery tasks sent after commit, recorded instead of reaching a broker."""
    sent: list[tuple[str, list[Any]]] = []
    monkeypatch.setattr(
        celery_app, "send_task", lambda name, args=None, **options: sent.append((name, args))
    )
    return sent
