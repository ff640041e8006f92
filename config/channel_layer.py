"""The production channel layer: channels_redis's pub/sub layer, publishing faster.

The stock layer publishes every message through one lock per Redis shard, held for the
whole round trip, so all publishes of a process wait in line; and an event for several
groups costs a round trip per group. `group_send_many` publishes to all the groups in
one pipelined round trip, outside that lock (the connection pool hands each concurrent
publish its own connection). Subscriptions and everything else are the stock layer's.
"""

from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer


class PipelinedPubSubChannelLayer(RedisPubSubChannelLayer):
    async def group_send_many(self, groups: list[str], message: dict[str, Any]) -> None:
        loop_layer = self._get_layer()
        payload = self.serialize(message)
        channels_by_shard: dict[Any, list[str]] = {}
        for group in groups:
            channel = loop_layer._get_group_channel_name(group)
            channels_by_shard.setdefault(loop_layer._get_shard(channel), []).append(channel)
        for shard, channels in channels_by_shard.items():
            shard._ensure_redis()
            async with shard._redis.pipeline(transaction=False) as pipeline:
                for channel in channels:
                    pipeline.publish(channel, payload)
                await pipeline.execute()
