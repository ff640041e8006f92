"""Whether Redis stopped answering lately, so that the request path waits on a silent
Redis once, not at every publish of every request.

What a write publishes after its commit (tasks handed to the broker, realtime events to
the channel layer) goes to Redis, which may stop answering without closing its
connections (a hung host, a frozen process): each publish would then wait for its socket
timeout. Once a publish failed, this process publishes nothing for SILENCE_HOLD_SECONDS:
the outbox keeps the tasks for beat's sweep (inbox.task_outbox), and realtime is best
effort (operators' pages catch up from the API). When the hold is over, one publish tries
again while the others still skip it; its success ends the silence.
"""

import threading
import time

SILENCE_HOLD_SECONDS = 5.0

_lock = threading.Lock()
# time.monotonic() until which publishes skip Redis; 0.0 while it answers.
_silent_until = 0.0


def redis_worth_trying() -> bool:
    """Whether to publish now: always while Redis answers; during a silence, only the one
    caller that finds the hold over (the others skip until it knows)."""
    global _silent_until
    if not _silent_until:
        return True
    with _lock:
        now = time.monotonic()
        if not _silent_until:
            return True
        if now < _silent_until:
            return False
        _silent_until = now + SILENCE_HOLD_SECONDS
        return True


def redis_went_silent() -> None:
    """A publish failed: skip Redis for the hold."""
    global _silent_until
    with _lock:
        _silent_until = time.monotonic() + SILENCE_HOLD_SECONDS


def redis_answered() -> None:
    """A publish went through: Redis is worth trying again at once."""
    global _silent_until
    if _silent_until:
        with _lock:
            _silent_until = 0.0
