"""One poll per IMAP mailbox at a time, across every worker process (a cache lock)."""

import secrets
import time

from django.conf import settings
from django.core.cache import cache


class MailboxPollLock:
    """One poll per mailbox at a time. The lock lapses soon after a poll that died, and
    a poll renews it with every message, so a slow one keeps it; it is only released by
    the poll holding it."""

    def __init__(self, channel_id: int):
        self.key = f"imap-poll:{channel_id}"
        self.token = secrets.token_hex(8)
        self.timeout = int(settings.IMAP_TIMEOUT_SECONDS * 4)
        self.renewed_at = time.monotonic()

    def acquire(self) -> bool:
        self.renewed_at = time.monotonic()
        return cache.add(self.key, self.token, timeout=self.timeout)

    def renew(self) -> None:
        self.renewed_at = time.monotonic()
        if cache.get(self.key) == self.token:
            cache.touch(self.key, timeout=self.timeout)

    def renew_when_due(self) -> None:
        """Renew once a quarter of the lock's time has passed: two cache round trips per
        message would cost more than reading a small message does."""
        if time.monotonic() - self.renewed_at >= self.timeout / 4:
            self.renew()

    def release(self) -> None:
        if cache.get(self.key) == self.token:
            cache.delete(self.key)
