"""Customers writing (some with photos) and operators answering on Telegram, against a
live web server, Celery worker and beat whose only Redis (broker, channel layer and cache
at once) is a private one the test may stop or freeze; and what must hold once it is back:
nothing lost, nothing sent twice."""

import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
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
from tests.live.conftest import QUEUE, RUN_ID, LiveServer, free_port, start, start_worker, stop
from tests.live.private_servers import PrivateRedis, wait_for

SENDERS = (5_000_001, 5_000_002, 5_000_003)


@dataclass
class Stack:
    redis: PrivateRedis
    server: LiveServer


@contextmanager
def stack_on_private_redis(live_environment, tmp_path, **settings: str) -> Iterator[Stack]:
    """A web server, a worker and beat whose only Redis is one this test may stop."""
    private_redis = PrivateRedis(tmp_path).start()
    queue = f"{QUEUE}-redis-{tmp_path.name[-12:]}"
    env = {
        **live_environment,
        "REDIS_URL": private_redis.url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CHANNEL_LAYER_PREFIX": f"faults{RUN_ID}",
        "OUTBOX_SWEEP_SECONDS": "1",
        "OUTBOX_SEND_GRACE_SECONDS": "2",
        **settings,
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
def stack(live_environment, collected_static, tmp_path):
    with stack_on_private_redis(live_environment, tmp_path) as stack:
        yield stack


@pytest.fixture
def telegram_platform():
    fake = FakeTelegram(token=BOT_TOKEN).start()
    yield fake
    fake.stop()


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


@dataclass
class Figures:
    webhooks: int
    replies: int
    lost: list[str]
    duplicated: int
    server_errors: list[int]
    slowest_webhook: float
    slowest_reply: float


@dataclass
class Traffic:
    """Webhooks and replies as customers and an operator send them, with what each got."""

    server: LiveServer
    platform: FakeTelegram
    team: object
    webhook_statuses: list[int] = field(default_factory=list)
    reply_statuses: list[int] = field(default_factory=list)
    reply_texts: list[str] = field(default_factory=list)
    photo_ids: list[str] = field(default_factory=list)
    webhook_seconds: list[float] = field(default_factory=list)
    reply_seconds: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.channel = channel_create(
            kind="telegram",
            name="Outage bot",
            config={
                "bot_token": BOT_TOKEN,
                "webhook_secret": WEBHOOK_SECRET,
                "api_base_url": self.platform.url,
            },
        )
        self.channel.teams.add(self.team)
        operator = UserFactory(username="olga", teams=[self.team])
        self.web = httpx.Client(base_url=self.server.url, timeout=30)
        self.api_headers = {"Authorization": f"Token {people.operator_api_token(user=operator)}"}
        self.numbers = iter(range(1, 100_000))
        self.conversations: list[int] = []

    def start_conversations(self) -> None:
        """Each customer writes once, and the first one gets a reply delivered."""
        self.conversations = [
            self.post_webhook(sender, with_photo=False).json()["messages"][0]["conversation_id"]
            for sender in SENDERS
        ]
        self.post_reply(self.conversations[0])
        wait_for(
            lambda: len(self.platform.calls_to("sendMessage")) == 1,
            timeout=60,
            what="the first reply's delivery",
        )

    def post_webhook(self, sender: int, *, with_photo: bool) -> httpx.Response:
        number = next(self.numbers)
        photo_file_id = None
        if with_photo:
            photo_file_id = f"photo-{number}"
            self.platform.add_file(
                photo_file_id, b"\xff\xd8\xff" + bytes([number % 256]) * 64,
                file_path=f"photos/{number}.jpg",
            )  # fmt: skip
            self.photo_ids.append(photo_file_id)
        started = time.monotonic()
        response = self.web.post(
            f"/webhooks/telegram/{self.channel.public_id}/",
            content=telegram_update(number, sender=sender, photo_file_id=photo_file_id),
            headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
            },
        )
        self.webhook_seconds.append(time.monotonic() - started)
        self.webhook_statuses.append(response.status_code)
        return response

    def post_reply(self, conversation_id: int) -> None:
        text = f"reply {len(self.reply_texts) + 1} to {conversation_id}"
        started = time.monotonic()
        response = self.web.post(
            f"/api/v1/conversations/{conversation_id}/messages/",
            json={"body": text},
            headers=self.api_headers,
        )
        self.reply_seconds.append(time.monotonic() - started)
        self.reply_statuses.append(response.status_code)
        self.reply_texts.append(text)

    def flow_for(self, seconds: float) -> int:
        """Customers write (every other time with a photo) and the operator answers, turn by
        turn, for `seconds`; returns the number of turns."""
        started = time.monotonic()
        turn = 0
        while time.monotonic() - started < seconds:
            self.post_webhook(SENDERS[turn % len(SENDERS)], with_photo=turn % 2 == 0)
            self.post_reply(self.conversations[turn % len(self.conversations)])
            turn += 1
        return turn

    def wait_until_everything_is_done(self) -> None:
        def everything_done() -> bool:
            return (
                not PendingTask.objects.exists()
                and not Message.objects.filter(
                    direction=MessageDirection.OUTBOUND,
                    status__in=(MessageStatus.QUEUED, MessageStatus.SENDING),
                ).exists()
                and not Attachment.objects.filter(file="").exists()
            )

        wait_for(everything_done, timeout=120, what="delivery and fetching after the fault")

    def figures(self) -> Figures:
        sent = Counter(call.params["text"] for call in self.platform.calls_to("sendMessage"))
        return Figures(
            webhooks=len(self.webhook_statuses),
            replies=len(self.reply_statuses),
            lost=[text for text in self.reply_texts if sent[text] == 0],
            duplicated=sum(count - 1 for count in sent.values() if count > 1),
            server_errors=[
                status for status in self.webhook_statuses + self.reply_statuses if status >= 500
            ],
            slowest_webhook=max(self.webhook_seconds),
            slowest_reply=max(self.reply_seconds),
        )

    def assert_nothing_lost_or_sent_twice(self) -> None:
        figures = self.figures()
        assert set(self.webhook_statuses) == {200}
        assert set(self.reply_statuses) == {201}
        assert (figures.lost, figures.duplicated) == ([], 0)
        sent = [call.params["text"] for call in self.platform.calls_to("sendMessage")]
        assert sorted(sent) == sorted(self.reply_texts)
        assert Message.objects.filter(
            channel=self.channel, direction=MessageDirection.INBOUND
        ).count() == len(self.webhook_statuses)
        assert set(
            Message.objects.filter(direction=MessageDirection.OUTBOUND).values_list(
                "status", flat=True
            )
        ) == {MessageStatus.SENT}
        stored_files = Attachment.objects.exclude(file="").values_list("media_id", flat=True)
        assert sorted(stored_files) == sorted(self.photo_ids)
        assert set(WebhookEvent.objects.values_list("status", flat=True)) == {
            WebhookEventStatus.PROCESSED
        }
