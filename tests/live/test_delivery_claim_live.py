"""Real Celery workers and slow fake platforms: a reply is sent at most once when a worker
is killed mid-send, and once when two workers take copies of its task at the same time."""

import json
import os
import signal
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app.contracts import DELIVER_MESSAGE_TASK, SETTLE_STALE_SENDING_TASK
from channels_app.services import channel_create
from config.celery import app as celery_app
from inbox.models import Message, MessageDirection, MessageStatus
from inbox.services import message_retry_delivery
from tests.channels_app.telegram.helpers import BOT_TOKEN, MARIA_ID, WEBHOOK_SECRET
from tests.factories import ConversationFactory, MessageFactory
from tests.fakes.telegram import FakeTelegram
from tests.live.conftest import QUEUE, start_worker, stop, wait_until

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fake_telegram():
    fake = FakeTelegram(token=BOT_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def workers(live_environment, tmp_path):
    """Start workers on a queue of this test only (no other worker of the run takes its
    tasks); each is stopped at the end, if still running."""
    queue = f"{QUEUE}-claim-{uuid.uuid4().hex[:6]}"
    started = []

    def start(name: str, *, concurrency: int | None = None):
        log = tmp_path / f"{name}.log"
        process = start_worker(live_environment, queue, log, concurrency=concurrency)
        started.append(process)
        return process, log

    start.queue = queue  # type: ignore[attr-defined]
    yield start
    for process in started:
        stop(process)


def queued_reply(channel, recipient: str, body: str) -> Message:
    """A reply waiting for delivery, stored without queuing its task (the test does)."""
    conversation = ConversationFactory(channel=channel, recipient_address=recipient)
    return MessageFactory(
        conversation=conversation,
        direction=MessageDirection.OUTBOUND,
        status=MessageStatus.QUEUED,
        external_id=None,
        body=body,
    )


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


def tasks_done(log, task: str) -> int:
    """How many runs of `task` the worker's log says finished."""
    return sum(
        1 for line in log.read_text().splitlines() if f"{task}[" in line and "succeeded" in line
    )


def status_of(message: Message) -> str:
    return Message.objects.get(pk=message.pk).status


def kill_worker(process) -> None:
    """SIGKILL the worker's whole process group: no chance to finish or record anything."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def sweep_as_if_the_deadline_passed(message: Message, queue: str) -> None:
    # The send started an hour ago, as far as the database knows; beat's sweep then runs
    # on the new worker.
    Message.objects.filter(pk=message.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    celery_app.send_task(SETTLE_STALE_SENDING_TASK, queue=queue)


def test_a_worker_killed_while_telegram_holds_the_send_leaves_it_unknown_never_resent(
    workers, team, fake_telegram
):
    channel = telegram_channel(team, fake_telegram)
    reply = queued_reply(channel, MARIA_ID, "Your parcel left the warehouse.")
    fake_telegram.hold_sends()
    first, _ = workers("first")

    celery_app.send_task(DELIVER_MESSAGE_TASK, args=[reply.pk], queue=workers.queue)
    assert fake_telegram.held.wait(30), "the worker never reached Telegram"
    assert status_of(reply) == MessageStatus.SENDING
    kill_worker(first)
    fake_telegram.release.set()  # Telegram did take it: the customer has the message.

    _, log = workers("second")
    sweep_as_if_the_deadline_passed(reply, workers.queue)

    wait_until(
        lambda: status_of(reply) == MessageStatus.UNKNOWN,
        timeout=30,
        what="the sweep settling the cut-off send",
    )
    # Nothing else goes to Telegram behind the operator's back: not a stray copy of the
    # task, not the next sweep.
    celery_app.send_task(DELIVER_MESSAGE_TASK, args=[reply.pk], queue=workers.queue)
    celery_app.send_task(SETTLE_STALE_SENDING_TASK, queue=workers.queue)
    wait_until(
        lambda: (
            tasks_done(log, DELIVER_MESSAGE_TASK) == 1
            and tasks_done(log, SETTLE_STALE_SENDING_TASK) == 2
        ),
        timeout=30,
        what="the new worker running both",
        log=log,
    )
    assert status_of(reply) == MessageStatus.UNKNOWN
    assert [call.params["text"] for call in fake_telegram.calls_to("sendMessage")] == [
        "Your parcel left the warehouse."
    ]


def test_a_worker_killed_while_the_api_receiver_holds_the_send_is_resent_with_the_same_id(
    workers, channel, callback_server
):
    channel.config = {"callback_url": callback_server.url}
    channel.save()
    reply = queued_reply(channel, "customer-7", "On its way!")
    callback_server.answer_delay = 60.0
    first, _ = workers("first")

    celery_app.send_task(DELIVER_MESSAGE_TASK, args=[reply.pk], queue=workers.queue)
    assert callback_server.received.wait(30), "the worker never reached the receiver"
    kill_worker(first)
    callback_server.answer_delay = 0.0
    callback_server.released.set()

    workers("second")
    sweep_as_if_the_deadline_passed(reply, workers.queue)

    wait_until(
        lambda: status_of(reply) == MessageStatus.SENT, timeout=30, what="the resend recorded"
    )
    ids = [json.loads(request.body)["id"] for request in callback_server.requests]
    # Sent again with the same id, which the receiver keeps one message by.
    assert ids == [reply.pk, reply.pk]


def test_two_workers_taking_copies_of_one_task_at_once_send_it_once(workers, team, fake_telegram):
    channel = telegram_channel(team, fake_telegram)
    reply = queued_reply(channel, MARIA_ID, "Only once, please.")
    fake_telegram.hold_sends()
    _, log = workers("pool", concurrency=2)

    for _ in range(2):
        celery_app.send_task(DELIVER_MESSAGE_TASK, args=[reply.pk], queue=workers.queue)
    assert fake_telegram.held.wait(30)
    # The second copy ran while the first held its send, and finished without sending.
    wait_until(
        lambda: tasks_done(log, DELIVER_MESSAGE_TASK) == 1,
        timeout=30,
        what="the second copy of the task",
        log=log,
    )
    assert status_of(reply) == MessageStatus.SENDING
    fake_telegram.release.set()

    wait_until(lambda: status_of(reply) == MessageStatus.SENT, timeout=30, what="the send")
    assert len(fake_telegram.calls_to("sendMessage")) == 1


def test_a_task_that_outlived_its_claim_sends_no_further_part(workers, team, fake_telegram):
    channel = telegram_channel(team, fake_telegram)
    body = " ".join(f"word{number}" for number in range(1200))  # three Telegram messages
    reply = queued_reply(channel, MARIA_ID, body)
    fake_telegram.hold_sends(after=1)
    _, log = workers("pool", concurrency=2)

    # The first task sent the first part; Telegram holds the second past the deadline.
    celery_app.send_task(DELIVER_MESSAGE_TASK, args=[reply.pk], queue=workers.queue)
    assert fake_telegram.held.wait(30), "the worker never reached Telegram"
    sweep_as_if_the_deadline_passed(reply, workers.queue)
    wait_until(lambda: status_of(reply) == MessageStatus.UNKNOWN, timeout=30, what="the sweep")
    # The operator sends it again; a second task delivers the rest at once.
    message_retry_delivery(message=Message.objects.get(pk=reply.pk))
    fake_telegram.hold_sends(after=100)
    celery_app.send_task(DELIVER_MESSAGE_TASK, args=[reply.pk], queue=workers.queue)
    wait_until(lambda: status_of(reply) == MessageStatus.SENT, timeout=30, what="the resend")
    external_id = Message.objects.get(pk=reply.pk).external_id

    # Telegram answers the first task at last: it finds its claim taken over and stops.
    fake_telegram.release.set()
    wait_until(
        lambda: "no longer this task's" in log.read_text(),
        timeout=30,
        what="the first task stopping",
        log=log,
    )
    texts = [call.params["text"] for call in fake_telegram.calls_to("sendMessage")]
    assert texts == [texts[0], texts[1], texts[1], texts[-1]]
    message = Message.objects.get(pk=reply.pk)
    assert (message.status, message.external_id) == (MessageStatus.SENT, external_id)
