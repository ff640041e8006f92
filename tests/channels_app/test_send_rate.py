"""A channel's send rate, shared by all worker processes (Redis) or kept in memory."""

import uuid

import pytest

from channels_app.send_rate import send_rate_pause, send_slots_reserve


@pytest.fixture(params=["redis", "memory"])
def backend(request, settings):
    if request.param == "redis":
        if not settings.REDIS_URL:
            pytest.skip("needs Redis: set REDIS_URL")
    else:
        settings.REDIS_URL = ""
    return request.param


def reserve(key: str, count: int = 1, max_wait: float = 5.0):
    return send_slots_reserve(key=key, per_second=10, count=count, max_wait_seconds=max_wait)


def test_slots_follow_one_another_at_the_rate(backend):
    key = f"test:{uuid.uuid4()}"

    first = reserve(key, count=3)
    second = reserve(key)

    assert (first.count, first.wait_seconds) == (3, pytest.approx(0.0, abs=0.02))
    # Three slots at 10 a second: the next opens 0.3 s after the first.
    assert second.count == 1
    assert second.wait_seconds == pytest.approx(0.3, abs=0.05)


def test_a_pause_holds_every_slot_back_and_a_long_wait_reserves_nothing(backend):
    key = f"test:{uuid.uuid4()}"
    send_rate_pause(key=key, seconds=8)

    refused = reserve(key, count=5, max_wait=5.0)
    accepted = reserve(key, max_wait=10.0)
    after = reserve(key, max_wait=10.0)

    assert refused.count == 0
    assert refused.wait_seconds == pytest.approx(8, abs=0.1)
    assert accepted.count == 1
    assert accepted.wait_seconds == pytest.approx(8, abs=0.1)
    # The refused reservation took nothing: the slot after is one interval later.
    assert after.wait_seconds == pytest.approx(8.1, abs=0.1)
