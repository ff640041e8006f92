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
