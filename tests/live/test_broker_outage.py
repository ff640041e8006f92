"""Redis (broker, channel layer and cache at once) stopped while customers write, some with
photos, and operators answer: nothing is lost, nothing is sent twice, nothing answers 5xx.

A private redis-server serves a live `manage.py serve`, a Celery worker and beat; the
test stops it for five seconds of traffic and starts it again; and a delivery's retry
queued while it is down runs soon after it is back."""

import time

import pytest

from channels_app.contracts import DELIVER_MESSAGE_TASK
from inbox.models import Message, MessageStatus, PendingTask
from tests.fakes.telegram import INTERNAL_SERVER_ERROR
from tests.live import redis_faults
from tests.live.private_servers import wait_for
from tests.live.redis_faults import Traffic

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

# A live stack on a private Redis, and a fake Telegram.
stack = redis_faults.stack
telegram_platform = redis_faults.telegram_platform

OUTAGE_SECONDS = 5.0


def test_nothing_is_lost_or_sent_twice_while_redis_is_down(stack, telegram_platform, team):
    traffic = Traffic(server=stack.server, platform=telegram_platform, team=team)
    traffic.start_conversations()

    # When Redis stops for five seconds of photos, messages and replies
    stack.redis.stop()
    turns = traffic.flow_for(OUTAGE_SECONDS)
    stack.redis.start()

    # Then everything reaches the customer once, the files are fetched, events processed
    traffic.wait_until_everything_is_done()
    figures = traffic.figures()
    print(
        f"\nRedis outage of {OUTAGE_SECONDS:.0f} s: {turns} webhooks"
        f" ({(turns + 1) // 2} with a photo), {turns} replies"
        f"\n  lost {len(figures.lost)}  duplicated {figures.duplicated}"
        f"  5xx {len(figures.server_errors)}"
    )
    traffic.assert_nothing_lost_or_sent_twice()


def test_a_retry_queued_while_redis_is_down_runs_soon_after_it_is_back(
    stack, telegram_platform, team
):
    traffic = Traffic(server=stack.server, platform=telegram_platform, team=team)
    traffic.start_conversations()
    # Telegram holds the next reply's send, and fails it once Redis is down.
    telegram_platform.hold_sends(after=1)
    traffic.post_reply(traffic.conversations[1])
    assert telegram_platform.held.wait(30), "the worker never reached Telegram"
    reply = Message.objects.get(body=traffic.reply_texts[-1])

    stack.redis.stop()
    telegram_platform.hold_sends(after=100)
    telegram_platform.fail_next(INTERNAL_SERVER_ERROR, method="sendMessage")
    telegram_platform.release.set()
    # The worker's retry finds no broker: it waits in the outbox.
    wait_for(
        lambda: PendingTask.objects.filter(task=DELIVER_MESSAGE_TASK).exists(),
        timeout=30,
        what="the retry recorded",
    )
    time.sleep(OUTAGE_SECONDS)
    stack.redis.start()
    back = time.monotonic()

    wait_for(
        lambda: Message.objects.get(pk=reply.pk).status == MessageStatus.SENT,
        timeout=60,
        what="the retry's delivery after Redis came back",
    )
    print(f"\nretry delivered {time.monotonic() - back:.1f} s after Redis came back")
    texts = [call.params["text"] for call in telegram_platform.calls_to("sendMessage")]
    assert texts.count(reply.body) == 2  # the try Telegram failed, then the retry
    assert not PendingTask.objects.exists()
