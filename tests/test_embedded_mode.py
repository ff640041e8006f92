"""Embedded mode: Celery tasks run inside the process, yet wait for their countdown."""

import time

import pytest
from django.conf import settings
from django.db import OperationalError

from channels_app.contracts import DELIVER_MESSAGE_TASK
from channels_app.embedded_workers import start_embedded_workers
from config.celery import app as celery_app
from inbox.models import Message, MessageStatus
from tests.factories import ConversationFactory, MessageFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.IS_EMBEDDED, reason="only in embedded mode"),
]


def status_of(message) -> str:
    # The worker thread writes the same SQLite file: a read may meet its lock briefly.
    for _ in range(50):
        try:
            return Message.objects.get(pk=message.pk).status
        except OperationalError:
            time.sleep(0.05)
    return Message.objects.get(pk=message.pk).status


@pytest.fixture(autouse=True)
def _no_tasks_left_by_earlier_tests():
    """Earlier tests of this process queued tasks on the in-memory broker with no worker
    to run them: the worker started here would work through that backlog first."""
    celery_app.control.purge()


def test_an_in_process_task_waits_for_its_countdown(channel, operator, callback_server):
    start_embedded_workers(with_beat=False)
    channel.config = {"callback_url": callback_server.url}
    channel.save()
    message = MessageFactory(
        conversation=ConversationFactory(channel=channel),
        direction="out",
        author=operator,
        status=MessageStatus.QUEUED,
        external_id=None,
    )

    sent_at = time.monotonic()
    celery_app.send_task(DELIVER_MESSAGE_TASK, args=[message.pk], countdown=1.5)

    time.sleep(0.8)
    assert status_of(message) == MessageStatus.QUEUED
    assert callback_server.received.wait(timeout=10)
    assert time.monotonic() - sent_at >= 1.5
    # The test database is SQLite in memory with a shared cache, whose table locks fail a
    # writer at once instead of waiting: reading while the worker records the delivery
    # could make that write fail. Read rarely, after the recording has had its moment.
    deadline = time.monotonic() + 5
    time.sleep(0.3)
    while status_of(message) == MessageStatus.QUEUED:
        assert time.monotonic() < deadline
        time.sleep(0.25)
    assert status_of(message) == MessageStatus.SENT


def test_settings_without_configuration_are_embedded():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert settings.CELERY_BROKER_URL == "memory://"
