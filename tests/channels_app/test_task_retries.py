"""A task's retry is queued through the outbox with the tries made so far: one the broker
does not take (Redis down) waits in the database and is sent by the sweep when due, and
still counts toward the task's last try."""

from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app import tasks
from channels_app.contracts import DELIVER_MESSAGE_TASK, FETCH_MEDIA_TASK
from inbox.models import Attachment, Message, MessageDirection, MessageStatus, PendingTask
from inbox.task_outbox import pending_tasks_send_due
from tests.channels_app.telegram import conftest as telegram_fixtures
from tests.factories import ConversationFactory, MessageFactory
from tests.fakes.telegram import INTERNAL_SERVER_ERROR
from tests.inbox import test_task_outbox as outbox_tests

pytestmark = pytest.mark.django_db

# The broker at the edge of the process, up or refusing; a fake Bot API and its channel.
broker = outbox_tests.broker
fake_telegram = telegram_fixtures.fake_telegram
telegram_channel = telegram_fixtures.telegram_channel


@pytest.fixture
def api_reply(channel, callback_server):
    """A reply whose first delivery task the broker took."""
    channel.config = {"callback_url": callback_server.url}
    channel.save()
    conversation = ConversationFactory(channel=channel, recipient_address="u-42")
    return MessageFactory(
        conversation=conversation,
        direction=MessageDirection.OUTBOUND,
        status=MessageStatus.QUEUED,
        external_id=None,
        body="It ships tomorrow.",
    )


def due_now() -> None:
    PendingTask.objects.update(not_before=timezone.now() - timedelta(seconds=1))


def test_a_delivery_retry_the_broker_refused_is_sent_by_the_sweep_when_due(
    api_reply, callback_server, broker, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_MAX_RETRIES = 1  # two tries in all
    callback_server.status = 503
    broker.is_up = False

    with django_capture_on_commit_callbacks(execute=True):
        tasks.message_deliver(api_reply.pk)

    retry = PendingTask.objects.get()
    assert (retry.task, retry.args) == (DELIVER_MESSAGE_TASK, [api_reply.pk, 1])
    assert retry.not_before > timezone.now()
    assert Message.objects.get(pk=api_reply.pk).status == MessageStatus.QUEUED
    broker.is_up = True
    assert pending_tasks_send_due(older_than=timedelta(0)) == 0, "not before its time"
    due_now()
    assert pending_tasks_send_due(older_than=timedelta(0)) == 1
    assert broker.taken == [(DELIVER_MESSAGE_TASK, [api_reply.pk, 1], None)]

    # The retry is the last try: it fails for good rather than queuing another
    with django_capture_on_commit_callbacks(execute=True):
        tasks.message_deliver(*broker.taken[0][1])

    assert Message.objects.get(pk=api_reply.pk).status == MessageStatus.FAILED
    assert not PendingTask.objects.exists()
    assert len(callback_server.requests) == 2


def test_a_file_fetch_retry_the_broker_refused_waits_in_the_outbox(
    telegram_channel, fake_telegram, broker, django_capture_on_commit_callbacks
):
    message = MessageFactory(conversation=ConversationFactory(channel=telegram_channel))
    attachment = Attachment.objects.create(message=message, media_id="photo-1", filename="a.jpg")
    fake_telegram.fail_next(INTERNAL_SERVER_ERROR, method="getFile")
    broker.is_up = False

    with django_capture_on_commit_callbacks(execute=True):
        tasks.attachment_fetch_media(attachment.pk)

    retry = PendingTask.objects.get()
    assert (retry.task, retry.args) == (FETCH_MEDIA_TASK, [attachment.pk, 1])
    assert retry.not_before > timezone.now()
