"""A webhook handed to the batched fast path's edge in process, as the web tier hands it."""

import asyncio

from channels_app import webhook_edge
from channels_app.contracts import WebhookRequest
from channels_app.services import channel_get_active
from inbox.outgoing_webhooks.emitting import events_subscribed
from inbox.receiving import batched


def through_the_fast_path(channel, body: bytes, headers: dict[str, str]) -> dict | None:
    """The edge's answer when the fast path stored the webhook, None when it declined (the
    regular path would then take it; here nothing does)."""

    async def attempt():
        request = WebhookRequest(body=body, headers={"content-type": "application/json", **headers})
        try:
            async with webhook_edge.received(
                kind=channel.kind, public_id=str(channel.public_id), request=request
            ) as answer:
                return answer
        finally:
            await batched.close()

    channel_get_active(kind=channel.kind, public_id=str(channel.public_id))

    # As the regular path keeps it: which events outgoing webhooks want (none).

    events_subscribed()
    return asyncio.run(attempt())
