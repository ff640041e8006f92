"""Redis (broker, channel layer and cache at once) stopped while customers write, some with
photos, and operators answer: nothing is lost, nothing is sent twice, nothing answers 5xx.

A private redis-server serves a live `manage.py serve`, a Celery worker and beat; the
test stops it for five seconds of traffic and starts it again."""

import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest

from channels_app.models import WebhookEvent, WebhookEventStatus
from channels_app.services import channel_create
from inbox import people
from inbox.models import Attachment, Message, MessageDirection, MessageStatus, PendingTask
from tests.channels_app.telegram.helpers import BOT_TOKEN, WEBHOOK_SECRET
from tests.factories import UserFactory
from tests.fakes.telegram import FakeTelegram
from tests.live.conftest import (
    QUEUE,
    RUN_ID,
    LiveServer,
    free_port,
    start,
    start_worker,
    stop,
)
from tests.live.private_servers import PrivateRedis, wait_for

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

OUTAGE_SECONDS = 5.0
SENDERS = (5_000_001, 5_000_002, 5_000_003)


@dataclass
class Stack:
    redis: PrivateRedis
    server: LiveServer


@pytest.fixture
def stack_on_private_redis(live_environment, collected_static, tmp_path):
    """A web server, a worker and beat whose only Redis is one this test may stop."""
    private_redis = PrivateRedis(tmp_path).start()
    queue = f"{QUEUE}-outage"
    env = {
        **live_environment,
        "REDIS_URL": private_redis.url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CHANNEL_LAYER_PREFIX": f"outage{RUN_ID}",
        "OUTBOX_SWEEP_SECONDS": "1",
        "OUTBOX_SEND_GRACE_SECONDS": "2",
    }
    server = LiveServer(env, ["--workers", "2"], free_port(), tmp_path / "asgi.log")
    worker = beat = None
    try:
        server.wait_until_answering()
        worker = start_worker(env, queue, tmp_path / "worker.log")
        beat = start(
            [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
             "--schedule", str(tmp_path / "beat-schedule")],
            env,
            tmp_path / "beat.log",
        )  # fmt: skip
        yield Stack(redis=private_redis, server=server)
    finally:
        for process in (beat, worker):
            if process is not None:
                stop(process)
        server.stop()
        private_redis.stop()


@pytest.fixture
def telegram_platform():
    fake = FakeTelegram(token=BOT_TOKEN).start()
    yield fake
    fake.stop()


@dataclass
class Traffic:
    webhook_statuses: list[int] = field(default_factory=list)
    reply_statuses: list[int] = field(default_factory=list)
    reply_texts: list[str] = field(default_factory=list)
    photo_ids: list[str] = field(default_factory=list)


def telegram_update(number: int, *, sender: int, photo_file_id: str | None = None) -> bytes:
    message: dict = {
        "message_id": number,
        "from": {"id": sender, "is_bot": False, "first_name": "Maria", "language_code": "en"},
        "chat": {"id": sender, "type": "private", "first_name": "Maria"},
        "date": int(time.time()),
    }
    if photo_file_id is None:
        message["text"] = f"message {number}"
    else:
        message["photo"] = [
            {"file_id": photo_file_id, "file_unique_id": f"u{number}", "file_size": 64,
             "width": 90, "height": 68}
        ]  # fmt: skip
        message["caption"] = f"photo {number}"
    return json.dumps({"update_id": 880_000_000 + number, "message": message}).encode()


def test_nothing_is_lost_or_sent_twice_while_redis_is_down(
    stack_on_private_redis, telegram_platform, team
):
    stack = stack_on_private_redis
    channel = channel_create(
        kind="telegram",
        name="Outage bot",
        config={
            "bot_token": BOT_TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
            "api_base_url": telegram_platform.url,
        },
    )
    channel.teams.add(team)
    operator = UserFactory(username="olga", teams=[team])
    web = httpx.Client(base_url=stack.server.url, timeout=30)
    api_headers = {"Authorization": f"Token {people.operator_api_token(user=operator)}"}
    traffic = Traffic()
    numbers = iter(range(1, 100_000))

    def post_webhook(sender: int, *, with_photo: bool) -> httpx.Response:
        number = next(numbers)
        photo_file_id = None
        if with_photo:
            photo_file_id = f"photo-{number}"
            telegram_platform.add_file(
                photo_file_id, b"\xff\xd8\xff" + bytes([number % 256]) * 64,
                file_path=f"photos/{number}.jpg",
            )  # fmt: skip
            traffic.photo_ids.append(photo_file_id)
        response = web.post(
            f"/webhooks/telegram/{channel.public_id}/",
            content=telegram_update(number, sender=sender, photo_file_id=photo_file_id),
            headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
            },
        )
        traffic.webhook_statuses.append(response.status_code)
        return response

    def post_reply(conversation_id: int) -> None:
        text = f"reply {len(traffic.reply_texts) + 1} to {conversation_id}"
        response = web.post(
            f"/api/v1/conversations/{conversation_id}/messages/",
            json={"body": text},
            headers=api_headers,
        )
        traffic.reply_statuses.append(response.status_code)
        traffic.reply_texts.append(text)

    # Given customers in conversation, and the worker delivering while Redis is up
    conversations = [
        post_webhook(sender, with_photo=False).json()["messages"][0]["conversation_id"]
        for sender in SENDERS
    ]
    post_reply(conversations[0])
    wait_for(
        lambda: len(telegram_platform.calls_to("sendMessage")) == 1,
        timeout=60,
        what="the first reply's delivery",
    )

    # When Redis stops for five seconds of photos, messages and replies
    stack.redis.stop()
    outage_started = time.monotonic()
    turn = 0
    while time.monotonic() - outage_started < OUTAGE_SECONDS:
        sender = SENDERS[turn % len(SENDERS)]
        post_webhook(sender, with_photo=turn % 2 == 0)
        post_reply(conversations[turn % len(conversations)])
        turn += 1
    webhooks_during_outage = turn
    stack.redis.start()

    # Then everything reaches the customer once, the files are fetched, events processed
    def everything_done() -> bool:
        return (
            not PendingTask.objects.exists()
            and not Message.objects.filter(
                direction=MessageDirection.OUTBOUND, status=MessageStatus.QUEUED
            ).exists()
            and not Attachment.objects.filter(file="").exists()
        )

    wait_for(everything_done, timeout=120, what="delivery and fetching after the outage")
    sent_texts = Counter(call.params["text"] for call in telegram_platform.calls_to("sendMessage"))
    duplicated = sum(count - 1 for count in sent_texts.values() if count > 1)
    lost = [text for text in traffic.reply_texts if sent_texts[text] == 0]
    server_errors = [
        status for status in traffic.webhook_statuses + traffic.reply_statuses if status >= 500
    ]
    print(
        f"\nRedis outage of {OUTAGE_SECONDS:.0f} s: {webhooks_during_outage} webhooks"
        f" ({(webhooks_during_outage + 1) // 2} with a photo), {webhooks_during_outage} replies"
        f"\n  lost {len(lost)}  duplicated {duplicated}  5xx {len(server_errors)}"
    )
    assert set(traffic.webhook_statuses) == {200}
    assert set(traffic.reply_statuses) == {201}
    assert (lost, duplicated) == ([], 0)
    assert sorted(sent_texts) == sorted(traffic.reply_texts)
    assert Message.objects.filter(
        channel=channel, direction=MessageDirection.INBOUND
    ).count() == len(traffic.webhook_statuses)
    assert set(Message.objects.filter(direction=MessageDirection.OUTBOUND).values_list(
        "status", flat=True
    )) == {MessageStatus.SENT}  # fmt: skip
    stored_files = Attachment.objects.exclude(file="").values_list("media_id", flat=True)
    assert sorted(stored_files) == sorted(traffic.photo_ids)
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {
        WebhookEventStatus.PROCESSED
    }
