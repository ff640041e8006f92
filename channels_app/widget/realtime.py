"""Events to widget visitors over the channel layer.

One group per visitor (`widget.visitor.<channel id>.<visitor id>`): every tab the visitor
has open joins it. Delivery is at-most-once; the visitor catches up from the database
(the `history` frame) when it reconnects.
"""

import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache

logger = logging.getLogger(__name__)

VISITOR_EVENT_TYPE = "widget.event"


def visitor_group(*, channel_id: int, visitor_id: str) -> str:
    # Visitor ids are hex tokens we issue: the name stays ASCII and short.
    return f"widget.visitor.{channel_id}.{visitor_id}"[:99]


async def visitor_send(*, channel_id: int, visitor_id: str, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    await layer.group_send(
        visitor_group(channel_id=channel_id, visitor_id=visitor_id),
        {"type": VISITOR_EVENT_TYPE, "text": json.dumps(payload, separators=(",", ":"))},
    )


def visitor_send_now(*, channel_id: int, visitor_id: str, payload: dict[str, Any]) -> None:
    """From sync code (the delivery worker): raises if the layer is unreachable, so the
    delivery is retried rather than marked sent."""
    async_to_sync(visitor_send)(channel_id=channel_id, visitor_id=visitor_id, payload=payload)


# A visitor is online while one of their sockets has said hello or pinged (every 25 s)
# within this time; closing the last tab lets it lapse.
ONLINE_SECONDS = 60


def _online_key(channel_id: int, visitor_id: str) -> str:
    return f"widget.online.{channel_id}.{visitor_id}"


async def visitor_mark_online(*, channel_id: int, visitor_id: str) -> None:
    await cache.aset(_online_key(channel_id, visitor_id), 1, timeout=ONLINE_SECONDS)


def visitor_is_online(*, channel_id: int, visitor_id: str) -> bool:
    return bool(cache.get(_online_key(channel_id, visitor_id)))
