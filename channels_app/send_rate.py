"""Caps on how fast a channel may send, kept across every worker process.

A platform limits messages per sender (Telegram: about 30 a second per bot), whichever of
our processes sends them, so the cap lives in Redis: one key per channel holds the moment
its next message may go, and reserving a slot moves that moment on by one interval in one
atomic step (a generic cell rate algorithm, timed by Redis' own clock). Without Redis, in
embedded mode, the single process keeps the same in memory.
"""

import os
import threading
import time
from dataclasses import dataclass

from django.conf import settings

KEY_PREFIX = "switchboard:send-rate:"

# KEYS[1]: when the next message may go (Redis time, seconds); ARGV: interval, max wait,
# slots wanted.
_RESERVE_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
if next_free < now then next_free = now end
local wait = next_free - now
if wait > tonumber(ARGV[2]) then return {0, tostring(wait)} end
local after = next_free + tonumber(ARGV[1]) * tonumber(ARGV[3])
redis.call('SET', KEYS[1], tostring(after), 'PX', math.ceil((after - now) * 1000) + 1000)
return {tonumber(ARGV[3]), tostring(wait)}
"""
# ARGV[1]: seconds during which nothing may go.
_PAUSE_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local resume = now + tonumber(ARGV[1])
if resume > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], tostring(resume), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
return 1
"""


@dataclass(frozen=True)
class SendSlots:
    """`count` slots reserved, the first to use after `wait_seconds`, the next each one
    interval later. None reserved: the channel cannot send for `wait_seconds`, longer than
    the caller would wait."""

    count: int
    wait_seconds: float


def send_slots_reserve(
    *, key: str, per_second: float, count: int, max_wait_seconds: float
) -> SendSlots:
    """Reserve the channel's next `count` send slots, unless the first is more than
    `max_wait_seconds` off."""
    interval = 1.0 / per_second
    if not settings.REDIS_URL:
        return _in_memory.reserve(key, interval=interval, count=count, max_wait=max_wait_seconds)
    reserved, wait = _scripts().reserve(
        keys=[KEY_PREFIX + key], args=[repr(interval), repr(max_wait_seconds), count]
    )
    return SendSlots(count=int(reserved), wait_seconds=max(float(wait), 0.0))


def send_rate_pause(*, key: str, seconds: float) -> None:
    """The platform asked us to slow down: no slot opens on this channel for `seconds`."""
    if not settings.REDIS_URL:
        _in_memory.pause(key, seconds=seconds)
        return
    _scripts().pause(keys=[KEY_PREFIX + key], args=[repr(float(seconds))])


class _Scripts:
    def __init__(self) -> None:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        self.reserve = client.register_script(_RESERVE_SCRIPT)
        self.pause = client.register_script(_PAUSE_SCRIPT)


_scripts_by_process: dict[int, _Scripts] = {}


def _scripts() -> _Scripts:
    # One client per process: a Celery worker forks its pool after start-up.
    pid = os.getpid()
    if pid not in _scripts_by_process:
        _scripts_by_process.clear()
        _scripts_by_process[pid] = _Scripts()
    return _scripts_by_process[pid]


class _InMemory:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_free: dict[str, float] = {}

    def reserve(self, key: str, *, interval: float, count: int, max_wait: float) -> SendSlots:
        with self._lock:
            now = time.monotonic()
            next_free = max(self._next_free.get(key, now), now)
            wait = next_free - now
            if wait > max_wait:
                return SendSlots(count=0, wait_seconds=wait)
            self._next_free[key] = next_free + interval * count
            return SendSlots(count=count, wait_seconds=wait)

    def pause(self, key: str, *, seconds: float) -> None:
        with self._lock:
            resume = time.monotonic() + seconds
            self._next_free[key] = max(self._next_free.get(key, resume), resume)


_in_memory = _InMemory()
