"""Redis (broker, channel layer and cache at once) stopped while customers write, some with
photos, and operators answer: nothing is lost, nothing is sent twice, nothing answers 5xx.

A private redis-server serves a live `manage.py serve`, a Celery worker and beat; the
test stops it for five seconds of traffic and starts it again."""

import pytest

from tests.live import redis_faults
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
