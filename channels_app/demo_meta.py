"""The demo's Instagram account: a customer's direct messages in through the signed
webhook, as Meta sends them, with what Instagram adds to a conversation (a reply written
in the Instagram app, the customer's reaction to it, a message they deleted); replies go
to a stand-in of the Graph API on this site."""

import json
from typing import Any

from django.conf import settings
from django.utils import timezone

from channels_app import services as channel_services
from channels_app.adapters.base import hmac_sha256_hex
from channels_app.contracts import WebhookRequest
from channels_app.models import Channel
from customers.services import customer_name_fill, identity_username_set

DEMO_INSTAGRAM_APP_SECRET = "demo-instagram-app-secret"
DEMO_INSTAGRAM_ACCOUNT_ID = "17841400000000001"
DEMO_INSTAGRAM_CUSTOMER = "1254459100000001"
DEMO_INSTAGRAM_NAME = "Zofia Kamińska"
DEMO_INSTAGRAM_USERNAME = "zofia.kaminska"


def instagram_demo_config() -> dict[str, Any]:
    return {
        "instagram_account_id": DEMO_INSTAGRAM_ACCOUNT_ID,
        "access_token": "demo-instagram-token",
        "app_secret": DEMO_INSTAGRAM_APP_SECRET,
        "verify_token": "demo-instagram-verify",
        "api_base_url": f"{settings.PUBLIC_BASE_URL}/demo/graph",
    }


def seed_instagram(channel: Channel) -> None:
    customer, account = DEMO_INSTAGRAM_CUSTOMER, DEMO_INSTAGRAM_ACCOUNT_ID
    # Half an hour ago, in Meta's milliseconds: replies are still inside Instagram's window.
    started_at = int(timezone.now().timestamp() * 1000) - 30 * 60_000
    events = [
        _item(
            customer,
            account,
            0,
            message={"mid": "demo-ig-1", "text": "Hej! Do you ship to Gdańsk?"},
        ),
        _item(customer, account, 1, message={"mid": "demo-ig-2", "text": "Wrong chat, sorry"}),
        _item(customer, account, 2, message={"mid": "demo-ig-2", "is_deleted": True}),
        _item(
            account,
            customer,
            3,
            message={"mid": "demo-ig-echo-1", "is_echo": True, "text": "We do, in 2 days!"},
        ),
        _item(
            customer,
            account,
            4,
            reaction={"mid": "demo-ig-echo-1", "action": "react", "reaction": "love", "emoji": "❤️"},
        ),
    ]
    for item in events:
        _webhook(channel, {**item, "timestamp": started_at + item["timestamp"]})
    # What the profile task would ask Instagram for, which the demo has no way to reach.
    customer_name_fill(kind="instagram", value=customer, name=DEMO_INSTAGRAM_NAME)
    identity_username_set(kind="instagram", value=customer, username=DEMO_INSTAGRAM_USERNAME)


def _item(sender: str, recipient: str, minute: int, **event: Any) -> dict[str, Any]:
    return {
        "sender": {"id": sender},
        "recipient": {"id": recipient},
        "timestamp": minute * 60_000,
        **event,
    }


def _webhook(channel: Channel, item: dict[str, Any]) -> None:
    body = json.dumps(
        {
            "object": "instagram",
            "entry": [
                {"id": DEMO_INSTAGRAM_ACCOUNT_ID, "time": item["timestamp"], "messaging": [item]}
            ],
        }
    ).encode()
    signature = hmac_sha256_hex(DEMO_INSTAGRAM_APP_SECRET, body)
    channel_services.webhook_receive(
        channel=channel,
        request=WebhookRequest(body=body, headers={"x-hub-signature-256": f"sha256={signature}"}),
    )
