"""Which active channel a webhook is for, looked up on every request and kept a few seconds."""

import time

from channels_app.models import Channel
from inbox.receiving.batched import batched_path_copies_read


class ChannelNotFound(LookupError):
    pass


# Webhooks look their channel up on every request; a few seconds of staleness across
# processes is the price (this process forgets a channel as soon as it changes it).
_active_channels: dict[tuple[str, str], tuple[float, Channel]] = {}
CHANNEL_CACHE_SECONDS = 5.0


def channel_get_active(*, kind: str, public_id: str) -> Channel:
    # What the batched path consults without querying is kept as the channels are and
    # read again with them: that path finds it all fresh.
    batched_path_copies_read()
    key = (kind, str(public_id))
    cached = _active_channels.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    # With its teams: a new conversation is filed under the channel's only team.
    channel = (
        Channel.objects.filter(kind=kind, public_id=public_id, is_active=True)
        .prefetch_related("teams")
        .first()
    )
    if channel is None:
        _active_channels.pop(key, None)
        raise ChannelNotFound(public_id)
    _active_channels[key] = (time.monotonic() + CHANNEL_CACHE_SECONDS, channel)
    return channel


def channel_cached_active(*, kind: str, public_id: str) -> Channel | None:
    """The channel if this process looked it up moments ago; never queries (async callers)."""
    cached = _active_channels.get((kind, str(public_id)))
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    return None


def channel_forget_cached(channel: Channel) -> None:
    """This process forgets the channel at once (it has just changed it)."""
    _active_channels.pop((channel.kind, str(channel.public_id)), None)
