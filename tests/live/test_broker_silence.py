"""Redis (broker, channel layer and cache at once) frozen, not stopped: it keeps its
connections and even accepts new ones, but answers nothing, as a hung host does. Customers
write, some with photos, and operators answer meanwhile: every request is answered within
about the publish deadline, nothing is lost, nothing is sent twice once it thaws."""

import pytest

from tests.live import redis_faults
from tests.live.redis_faults import Traffic

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

# A live stack on a private Redis, and a fake Telegram.
stack = redis_faults.stack
telegram_platform = redis_faults.telegram_platform

FROZEN_SECONDS = 5.0
# What a request may take beyond the publish deadline on a loaded machine: its own work.
REQUEST_SLACK_SECONDS = 1.5


def test_a_frozen_redis_delays_no_request_long_and_loses_nothing(
    stack, telegram_platform, team, settings
):
    traffic = Traffic(server=stack.server, platform=telegram_platform, team=team)
    traffic.start_conversations()

    # When Redis freezes (SIGSTOP) for five seconds of photos, messages and replies
    stack.redis.pause()
    try:
        turns = traffic.flow_for(FROZEN_SECONDS)
    finally:
        stack.redis.resume()

    # Then every request came back soon, and once Redis thaws everything reaches the
    # customer once, the files are fetched and the raw events processed
    traffic.wait_until_everything_is_done()
    figures = traffic.figures()
    print(
        f"\nRedis frozen for {FROZEN_SECONDS:.0f} s: {turns} webhooks"
        f" ({(turns + 1) // 2} with a photo), {turns} replies"
        f"\n  slowest webhook {figures.slowest_webhook:.2f} s"
        f"  slowest reply {figures.slowest_reply:.2f} s"
        f"\n  lost {len(figures.lost)}  duplicated {figures.duplicated}"
        f"  5xx {len(figures.server_errors)}"
    )
    traffic.assert_nothing_lost_or_sent_twice()
    bound = settings.BROKER_PUBLISH_DEADLINE_SECONDS + REQUEST_SLACK_SECONDS
    assert figures.slowest_webhook < bound
    assert figures.slowest_reply < bound
