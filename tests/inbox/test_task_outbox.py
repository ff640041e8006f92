"""Tasks queued after commit are recorded with their cause until the broker takes them;
what it refused is sent by the sweep, and nothing it took is sent again."""

from datetime import timedelta

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from channels_app import services as channel_services
from channels_app.contracts import DELIVER_MESSAGE_TASK, FETCH_MEDIA_TASK
from config.celery import app as celery_app
from inbox import services
from inbox.models import Attachment, PendingTask
from inbox.task_outbox import pending_tasks_send_due
from tests.factories import ConversationFactory, MessageFactory
from tests.helpers import Broker

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker(monkeypatch):
    broker = Broker()
    monkeypatch.setattr(celery_app, "send_task", broker.send_task)
    return broker


@pytest.fixture
def conversation(channel):
    return ConversationFactory(channel=channel)


def test_a_reply_is_recorded_with_its_delivery_until_the_broker_takes_it(
    broker, conversation, operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = services.message_reply(conversation=conversation, author=operator, body="Hi")

    assert list(PendingTask.objects.values_list("task", "args")) == [
        (DELIVER_MESSAGE_TASK, [message.pk])
    ]
    for callback in callbacks:
        callback()
    assert broker.taken == [(DELIVER_MESSAGE_TASK, [message.pk], None)]
    assert not PendingTask.objects.exists()


def test_a_refused_task_stays_and_is_sent_by_the_sweep_once_the_broker_is_back(
    broker, conversation, operator, django_capture_on_commit_callbacks
):
    broker.is_up = False
    with django_capture_on_commit_callbacks(execute=True):
        message = services.message_reply(conversation=conversation, author=operator, body="Hi")

    assert broker.taken == []
    assert PendingTask.objects.count() == 1
    assert pending_tasks_send_due(older_than=timedelta(0)) == 0, "still down: nothing sent"

    broker.is_up = True
    assert pending_tasks_send_due(older_than=timedelta(0)) == 1
    assert broker.taken == [(DELIVER_MESSAGE_TASK, [message.pk], None)]
    assert not PendingTask.objects.exists()
    assert pending_tasks_send_due(older_than=timedelta(0)) == 0
    assert len(broker.taken) == 1, "nothing is sent twice"


def test_the_sweep_leaves_a_task_whose_hand_over_may_still_be_under_way(broker, conversation):
    broker.is_up = False
    services.task_send_on_commit(DELIVER_MESSAGE_TASK, [1])
    broker.is_up = True

    assert pending_tasks_send_due(older_than=timedelta(seconds=60)) == 0
    assert broker.taken == []


def test_a_retry_the_broker_refused_is_not_sent_before_its_time(broker):
    broker.is_up = False
    services.task_send_on_commit(DELIVER_MESSAGE_TASK, [1], countdown=600)
    broker.is_up = True

    assert pending_tasks_send_due(older_than=timedelta(0)) == 0
    PendingTask.objects.update(not_before=PendingTask.objects.get().created_at)
    assert pending_tasks_send_due(older_than=timedelta(0)) == 1


def test_a_file_whose_fetch_was_lost_is_fetched_again_and_one_given_up_on_is_not(
    broker, conversation, django_capture_on_commit_callbacks
):
    message = MessageFactory(conversation=conversation)
    lost = Attachment.objects.create(message=message, media_id="photo-1", filename="a.jpg")
    given_up = Attachment.objects.create(
        message=message, media_id="photo-2", filename="b.jpg", fetch_error="expired"
    )
    recent = Attachment.objects.create(message=message, media_id="photo-3", filename="c.jpg")
    long_ago = timezone.now() - timedelta(hours=2)
    Attachment.objects.filter(pk__in=[lost.pk, given_up.pk]).update(created_at=long_ago)

    with django_capture_on_commit_callbacks(execute=True):
        queued = channel_services.attachments_fetch_lost(older_than=timedelta(hours=1))

    assert queued == 1
    assert broker.taken == [(FETCH_MEDIA_TASK, [lost.pk], None)]
    assert recent.pk not in [args[0] for _, args, _ in broker.taken]


def test_after_a_refusal_hand_overs_skip_the_broker_for_a_while_and_the_sweep_sends_them(
    broker, conversation, operator, django_capture_on_commit_callbacks, monkeypatch
):
    broker.is_up = False
    with django_capture_on_commit_callbacks(execute=True):
        services.message_reply(conversation=conversation, author=operator, body="First")
    broker.is_up = True
    offered = []
    broker_send = broker.send_task
    monkeypatch.setattr(
        celery_app,
        "send_task",
        lambda *args, **options: (offered.append(args), broker_send(*args, **options)),
    )

    # A request right after the refusal does not wait on the broker again
    with django_capture_on_commit_callbacks(execute=True):
        services.message_reply(conversation=conversation, author=operator, body="Second")
    assert offered == []
    assert PendingTask.objects.count() == 2

    # The sweep sends both, and the hand-overs after it go straight to the broker
    assert pending_tasks_send_due(older_than=timedelta(0)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        third = services.message_reply(conversation=conversation, author=operator, body="Third")
    assert broker.taken[-1] == (DELIVER_MESSAGE_TASK, [third.pk], None)
    assert not PendingTask.objects.exists()


@pytest.mark.parametrize(("deadline", "tries_again"), [(60.0, True), (0.0, False)])
def test_a_hand_over_tries_the_broker_again_only_within_its_deadline(
    deadline, tries_again, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.BROKER_PUBLISH_DEADLINE_SECONDS = deadline
    decisions = []

    def send_task(name, args=None, countdown=None, retry_policy=None, **options):
        # What kombu asks after a failed try, before it connects and tries again.
        timeout = OperationalError("Timeout reading from 127.0.0.1")
        try:
            retry_policy["errback"](timeout, 0)
        except OperationalError:
            decisions.append("gave up")
            raise
        decisions.append("tries again")

    monkeypatch.setattr(celery_app, "send_task", send_task)
    with django_capture_on_commit_callbacks(execute=True):
        services.task_send_on_commit(DELIVER_MESSAGE_TASK, [1])

    assert decisions == ["tries again" if tries_again else "gave up"]
    assert PendingTask.objects.exists() is not tries_again
