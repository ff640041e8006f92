"""The production channel layer: channels_redis's pub/sub layer, publishing and fanning out
for many sockets at a lower cost.

- `group_send_batch` publishes several events, each to its groups, in one pipelined round
  trip, outside the stock layer's per-shard lock (held for a whole round trip, it made
  every publish of a process wait in line).
- `group_send_batch_sync` does the same from sync code (views, Celery tasks) on a
  process-wide sync Redis client, instead of making an event loop and a Redis connection
  per call through `async_to_sync`.
- `new_mailbox(deliver)` is a channel of this process whose messages are handed to
  `deliver` as they arrive: no queue and no waiting task per channel, and a message sent
  to a group is deserialized once for all of the group's mailboxes in the process, not
  once per receiving socket. Mailbox channels only hear their groups: they subscribe to
  nothing in Redis of their own, so `send()` to one from another process reaches nothing.

Everything else (subscriptions, the reader task, ordinary channels) is the stock layer's.
What this relies on of channels_redis beyond its public API sits in `_stock_parts` (its
private attributes) and `group_channel_name` (its naming of group channels), checked by
tests/config/test_channel_layer.py against the version pinned in pyproject.toml.
"""

import logging
import uuid
from collections.abc import Callable
from typing import Any

import redis
from channels_redis.pubsub import RedisPubSubChannelLayer
from redis import asyncio as aioredis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

logger = logging.getLogger(__name__)

Events = list[tuple[list[str], dict[str, Any]]]


def group_channel_name(prefix: str, group: str) -> str:
    """The Redis pub/sub channel channels_redis publishes a group's messages on."""
    return f"{prefix}__group__{group}"


def _stock_parts(layer: RedisPubSubChannelLayer) -> tuple[aioredis.Redis, dict[str, Any]]:
    """The only reach into the stock layer's private parts, for the running loop: the Redis
    client of its (single) shard, and its in-process channels by name, to each of which the
    reader task hands every message heard for it with `put_nowait(data)`."""
    loop_layer = layer._get_layer()
    (shard,) = loop_layer._shards
    shard._ensure_redis()
    return shard._redis, loop_layer.channels


class _Mailbox:
    """Stands where the stock layer keeps a channel's queue: it takes what the reader task
    puts there and hands it on, deserialized (once for all mailboxes of one publish)."""

    __slots__ = ("deliver", "layer")

    def __init__(self, layer: "PipelinedPubSubChannelLayer", deliver: Callable[[dict], None]):
        self.layer = layer
        self.deliver = deliver

    def put_nowait(self, data: bytes) -> None:
        try:
            self.deliver(self.layer.deserialize_shared(data))
        except Exception:
            # Raised into the stock reader task, it would pause every socket for a second.
            logger.exception("a mailbox could not take a message")


class PipelinedPubSubChannelLayer(RedisPubSubChannelLayer):
    def __init__(
        self,
        hosts=None,
        prefix: str = "asgi",
        publish_timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        """`publish_timeout`: how long the sync publish waits to connect or for an
        answer (seconds) before it gives up; realtime is best effort."""
        hosts = hosts or ["redis://localhost:6379"]
        if len(hosts) != 1:
            raise ValueError("this layer publishes to a single Redis host")
        super().__init__(hosts=hosts, prefix=prefix, **kwargs)
        self.group_prefix = prefix
        host = hosts[0]
        self._redis_url = host if isinstance(host, str) else host["address"]
        self._publish_timeout = publish_timeout
        self._sync_redis: redis.Redis | None = None
        self._last_data: bytes | None = None
        self._last_message: dict | None = None

    def _group_publishes(self, events: Events) -> list[tuple[str, bytes]]:
        publishes = []
        for groups, message in events:
            payload = self.serialize(message)
            publishes += [
                (group_channel_name(self.group_prefix, group), payload) for group in groups
            ]
        return publishes

    async def group_send_batch(self, events: Events) -> None:
        """Publish each message to its groups, in the order given."""
        # Each concurrent publish gets its own connection from the client's pool.
        redis_client, _ = _stock_parts(self)
        async with redis_client.pipeline(transaction=False) as pipeline:
            for channel, payload in self._group_publishes(events):
                pipeline.publish(channel, payload)
            await pipeline.execute()

    def group_send_batch_sync(self, events: Events) -> None:
        """`group_send_batch` for sync code: blocks for one round trip, makes no loop."""
        if self._sync_redis is None:
            self._sync_redis = redis.Redis.from_url(
                self._redis_url,
                socket_connect_timeout=self._publish_timeout,
                socket_timeout=self._publish_timeout,
                retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
            )
        with self._sync_redis.pipeline(transaction=False) as pipeline:
            for channel, payload in self._group_publishes(events):
                pipeline.publish(channel, payload)
            pipeline.execute()

    def new_mailbox(self, deliver: Callable[[dict], None]) -> str:
        """A channel of this process; each message for it is passed to `deliver` (shared
        with the other receivers of the same group message: read it, never change it)."""
        name = f"{self.group_prefix}mailbox.{uuid.uuid4().hex}"
        _, channels = _stock_parts(self)
        channels[name] = _Mailbox(self, deliver)
        return name

    def close_mailbox(self, name: str) -> None:
        _, channels = _stock_parts(self)
        channels.pop(name, None)

    def deserialize_shared(self, data: bytes) -> dict:
        # The reader task hands the same bytes object to every channel of a group in turn.
        if data is not self._last_data:
            self._last_message = self.deserialize(data)
            self._last_data = data
        assert self._last_message is not None
        return self._last_message
