"""Operator presence.

Presence lives in the cache (Redis in production, process memory embedded), one key per
operator holding each of their sockets' status and expiry: an operator with two tabs
stays online when one closes, and a server that dies without saying "offline" leaves
nobody shown online for long (a socket's entry lapses unless its pings renew it)."""

import logging
import time

from inbox import realtime, selectors

logger = logging.getLogger(__name__)


async def operator_presence_set(*, operator: dict, socket: str, status: str | None) -> None:
    """Record one socket's status (online, away, offline; None when it closes) and tell
    the other operators when the operator's overall status changes."""
    from django.core.cache import cache

    key = selectors.presence_cache_key(operator["id"])
    now = time.time()
    sockets = selectors.presence_live_sockets(await cache.aget(key), now=now)
    before = selectors.presence_status_of(sockets)
    if status is None:
        sockets.pop(socket, None)
    else:
        sockets[socket] = [status, now + selectors.PRESENCE_TTL_SECONDS]
    if sockets:
        await cache.aset(key, sockets, timeout=selectors.PRESENCE_TTL_SECONDS)
    else:
        await cache.adelete(key)
    after = selectors.presence_status_of(sockets)
    if after != before:
        await realtime.presence_changed(operator=operator, status=after)
