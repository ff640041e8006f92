"""What a process reads from the database now and then and keeps a few seconds: the SLA
policies, the triggers automation rules watch, the events outgoing webhooks want.

The receiving paths consult them on every message. The regular path reads a copy again
once it is older than its `seconds`; the batched path, on the event loop, never queries
and takes only a fresh copy (`fresh`), leaving the message to the regular path without
one. A change reaches other processes within `seconds`; the process that made it forgets
its copy at once.
"""

import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

KEPT_SECONDS = 5.0


class KeptCopy(Generic[T]):
    def __init__(self, read: Callable[[], T], *, seconds: float = KEPT_SECONDS) -> None:
        self._read = read
        self._seconds = seconds
        self._kept: tuple[float, T] | None = None

    def get(self) -> T:
        """The copy, read again first when older than `seconds` (one query at most then)."""
        kept = self.fresh()
        if kept is not None:
            return kept
        value = self._read()
        self._kept = (time.monotonic() + self._seconds, value)
        return value

    def fresh(self) -> T | None:
        """The copy if this process read it moments ago; never queries. None otherwise."""
        kept = self._kept
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        return None

    def forget(self) -> None:
        """Read again on next use (this process has just changed what it copies)."""
        self._kept = None
