"""The production channel layer on a real Redis: what it publishes reaches the stock
channels_redis subscribers, from async and sync code alike; a group message is handed to
every mailbox of the process once, deserialized once. Pins what the layer relies on of
channels_redis beyond its public API."""

import asyncio
import tomllib
import uuid
from pathlib import Path

import channels_redis
import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from django.conf import settings

from config.channel_layer import PipelinedPubSubChannelLayer, _stock_parts, group_channel_name

# The version whose private parts `_stock_parts` and `group_channel_name` were checked
# against. Another one fails here: read channels_redis/pubsub.py again, then change it.
CHECKED_CHANNELS_REDIS_VERSION = "4.3.0"
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


@pytest_asyncio.fixture
async def layer():
    layer = PipelinedPubSubChannelLayer(
        hosts=[settings.REDIS_URL], prefix=f"test-layer-{uuid.uuid4().hex[:8]}"
    )
    yield layer
    await layer.flush()


def test_the_pinned_and_installed_channels_redis_is_the_checked_version():
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]

    assert f"channels-redis=={CHECKED_CHANNELS_REDIS_VERSION}" in dependencies
    assert channels_redis.__version__ == CHECKED_CHANNELS_REDIS_VERSION


@pytest.mark.real_services
@pytest.mark.asyncio
async def test_group_names_redis_client_and_channels_are_the_stock_layers(layer):
    group_name = group_channel_name(layer.group_prefix, "inbox.all")
    channel = await layer.new_channel()

    redis_client, channels = _stock_parts(layer)

    assert group_name == layer._get_layer()._get_group_channel_name("inbox.all")
    assert await redis_client.ping()
    assert channel in channels


@pytest.mark.real_services
@pytest.mark.asyncio
async def test_batched_publishes_reach_stock_subscribers_in_order(layer):
    channel = await layer.new_channel()
    await layer.group_add("inbox.channel.1", channel)
    await asyncio.sleep(0.1)  # the subscription reaches Redis

    await layer.group_send_batch(
        [(["inbox.channel.1"], {"type": "first"}), (["inbox.channel.2"], {"type": "other"})]
    )
    await sync_to_async(layer.group_send_batch_sync)([(["inbox.channel.1"], {"type": "second"})])

    received = [await asyncio.wait_for(layer.receive(channel), 5) for _ in range(2)]
    assert received == [{"type": "first"}, {"type": "second"}]


@pytest.mark.real_services
@pytest.mark.asyncio
async def test_a_group_message_reaches_each_mailbox_once_deserialized_once(layer):
    heard: dict[str, list[dict]] = {"one": [], "two": [], "outside": []}
    mailboxes = {name: layer.new_mailbox(heard[name].append) for name in heard}
    await layer.group_add("inbox.channel.1", mailboxes["one"])
    await layer.group_add("inbox.channel.1", mailboxes["two"])
    await layer.group_add("inbox.channel.2", mailboxes["outside"])
    await asyncio.sleep(0.1)

    await layer.group_send_batch([(["inbox.channel.1"], {"type": "event", "text": "hello"})])
    for _ in range(50):
        if heard["one"] and heard["two"]:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)

    assert heard["one"] == heard["two"] == [{"type": "event", "text": "hello"}]
    assert heard["one"][0] is heard["two"][0]
    assert heard["outside"] == []


@pytest.mark.real_services
@pytest.mark.asyncio
async def test_a_closed_mailbox_hears_nothing_more(layer):
    heard: list[dict] = []
    mailbox = layer.new_mailbox(heard.append)
    await layer.group_add("inbox.channel.1", mailbox)
    layer.close_mailbox(mailbox)
    await layer.group_discard("inbox.channel.1", mailbox)

    await layer.group_send_batch([(["inbox.channel.1"], {"type": "event"})])
    await asyncio.sleep(0.3)

    assert heard == []
