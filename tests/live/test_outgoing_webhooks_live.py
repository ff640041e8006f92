"""Outgoing webhooks against a live web server, Celery worker and beat on a private Redis:
a company's system receiving them checks every signature with the recipe the docs give,
and gets every event exactly once by delivery id, although it was down for a while and
Redis was stopped meanwhile."""

import time
from collections import Counter

import pytest

from channels_app.webhook_subscriptions import webhook_subscription_save
from inbox.models import Conversation, Message, PendingTask, WebhookDelivery
from inbox.outgoing_webhooks.emitting import CONVERSATION_CREATED, MESSAGE_CREATED
from inbox.outgoing_webhooks.models import WebhookDeliveryStatus
from tests.live import redis_faults
from tests.live.private_servers import wait_for
from tests.live.redis_faults import Traffic
from tests.outgoing_webhooks import conftest as outgoing_webhooks_conftest
from tests.outgoing_webhooks.conftest import SECRET

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

telegram_platform = redis_faults.telegram_platform
# A company's system taking the webhooks, checking their signatures.
receiver = outgoing_webhooks_conftest.receiver

RECEIVER_OUTAGE_SECONDS = 3.0
REDIS_OUTAGE_SECONDS = 5.0


@pytest.fixture
def stack(live_environment, collected_static, tmp_path):
    # Retries a second apart for a minute, swept every second: the test's hours.
    with redis_faults.stack_on_private_redis(
        live_environment,
        tmp_path,
        WEBHOOK_RETRY_DELAYS_SECONDS=",".join(["1"] * 60),
        WEBHOOK_DELIVERY_SWEEP_SECONDS="1",
    ) as stack:
        yield stack


def test_every_event_arrives_signed_and_once_across_receiver_and_redis_outages(
    stack, telegram_platform, team, receiver
):
    webhook_subscription_save(
        subscription=None,
        values={
            "url": receiver.url,
            "events": [CONVERSATION_CREATED, MESSAGE_CREATED],
            "secret": SECRET,
        },
    )
    traffic = Traffic(server=stack.server, platform=telegram_platform, team=team)
    traffic.start_conversations()
    wait_for(lambda: receiver.kept, timeout=30, what="the first delivery")

    # When the receiver is down while customers write and the operator answers
    receiver.is_down = True
    turns = traffic.flow_for(RECEIVER_OUTAGE_SECONDS)
    wait_for(
        lambda: sum(receiver.attempts.values()) > len(receiver.kept),
        timeout=30,
        what="an attempt the receiver refused",
    )
    # and Redis stops while the receiver is back
    receiver.is_down = False
    stack.redis.stop()
    turns += traffic.flow_for(REDIS_OUTAGE_SECONDS)
    stack.redis.start()

    # Then every delivery arrives, once per delivery id, each signed right
    traffic.wait_until_everything_is_done()
    started = time.monotonic()
    wait_for(
        lambda: (
            not PendingTask.objects.exists()
            and not WebhookDelivery.objects.exclude(status=WebhookDeliveryStatus.DELIVERED).exists()
        ),
        timeout=120,
        what="every webhook delivered",
    )
    print(
        f"\n{turns} turns; {len(receiver.kept)} deliveries, {sum(receiver.attempts.values())} "
        f"attempts; the last delivered {time.monotonic() - started:.1f} s after the rest was done"
    )
    assert receiver.bad_signatures == 0
    deliveries = {
        str(delivery_id)
        for delivery_id in WebhookDelivery.objects.values_list("delivery_id", flat=True)
    }
    assert set(receiver.kept) == deliveries
    # Every message and every conversation, each in exactly one delivery.
    messages = Counter(payload["data"]["id"] for payload in receiver.events(MESSAGE_CREATED))
    assert sorted(messages) == sorted(Message.objects.values_list("pk", flat=True))
    assert set(messages.values()) == {1}
    conversations = Counter(
        payload["data"]["id"] for payload in receiver.events(CONVERSATION_CREATED)
    )
    assert sorted(conversations) == sorted(Conversation.objects.values_list("pk", flat=True))
    assert set(conversations.values()) == {1}
    # The outage was real: some deliveries took more than one attempt.
    assert max(receiver.attempts.values()) > 1
    traffic.assert_nothing_lost_or_sent_twice()
