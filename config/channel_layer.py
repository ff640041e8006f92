"""The production channel layer: channels_redis's pub/sub layer, publishing faster.

The stock layer publishes every message through one lock per Redis shard, held for the
whole round trip, so all publishes of a process wait in line; and an event for several
groups costs a round trip per group. `group_send_batch` publishes several events, each
to its groups, in one pipelined round trip per shard, outside that lock (the connection
pool hands each concurrent publish its own connection). Subscriptions and everything
else are the stock layer's.
"""

from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer


class PipelinedPubSubChannelLayer(RedisPubSubChannelLayer):
    async def group_send_many(self, groups: list[str], message: dict[str, Any]) -> None:
        await self.group_send_batch([(groups, message)])

    async def group_send_batch(self, events: list[tuple[list[str], dict[str, Any]]]) -> None:
        """Publish each message to its groups, in the order given."""
        loop_layer = self._get_layer()
        publishes_by_shard: dict[Any, list[tuple[str, bytes]]] = {}
        for groups, message in events:
            payload = self.serialize(message)
            for group in groups:
                channel = loop_layer._get_group_channel_name(group)
                shard = loop_layer._get_shard(channel)
                publishes_by_shard.setdefault(shard, []).append((channel, payload))
        for shard, publishes in publishes_by_shard.items():
            shard._ensure_redis()
            async with shard._redis.pipeline(transaction=False) as pipeline:
                for channel, payload in publishes:
                    pipeline.publish(channel, payload)
                await pipeline.execute()
