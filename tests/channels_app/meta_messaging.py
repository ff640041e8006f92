"""What the tests of Meta's signed-webhook channels share (WhatsApp, Messenger, Instagram):
fixture payloads, posting them signed, channel settings, and the Messenger Platform's
conversations and replies with the adapter's clock stopped."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inbox.models import Conversation, Message
from tests.fakes.meta_messaging import (
    INSTAGRAM_ACCESS_TOKEN,
    INSTAGRAM_ACCOUNT_ID,
    PAGE_ACCESS_TOKEN,
    PAGE_ID,
    FakeSendApi,
)
from tests.helpers import sign

FIXTURES = Path(__file__).parent / "fixtures"
# The adapter's clock stops here in the window tests; webhooks still arrive on the real
# one, moments later.
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class SignedMetaWebhooks:
    """One kind's webhook URL, app secret and fixture payloads."""

    kind: str
    app_secret: str

    def fixture_bytes(self, name: str) -> bytes:
        return (FIXTURES / self.kind / f"{name}.json").read_bytes()

    def fixture_json(self, name: str) -> dict[str, Any]:
        return json.loads(self.fixture_bytes(name))

    def post(self, client, channel, body: bytes, *, signature: str | None = None):
        return client.post(
            f"/webhooks/{self.kind}/{channel.public_id}/",
            data=body,
            content_type="application/json",
            HTTP_X_HUB_SIGNATURE_256=(
                signature if signature is not None else sign(body, self.app_secret)
            ),
        )

    def post_payload(self, client, channel, payload: dict[str, Any]):
        return self.post(client, channel, json.dumps(payload).encode())

    def post_fixture(self, client, channel, name: str):
        response = self.post(client, channel, self.fixture_bytes(name))
        assert response.status_code == 200, response.content
        return response


MESSENGER = SignedMetaWebhooks(kind="messenger", app_secret="9b2c4e1f0a7d6b5c3e8f1a2b4c6d8e0f")
INSTAGRAM = SignedMetaWebhooks(kind="instagram", app_secret="5e0d3c2b1a9f8e7d6c5b4a3f2e1d0c9b")
VERIFY_TOKEN = "switchboard-meta-verify-7c2d"
_ACCOUNTS = {
    "messenger": {"page_id": PAGE_ID, "page_access_token": PAGE_ACCESS_TOKEN},
    "instagram": {
        "instagram_account_id": INSTAGRAM_ACCOUNT_ID,
        "access_token": INSTAGRAM_ACCESS_TOKEN,
    },
}


def first_item(payload: dict[str, Any]) -> dict[str, Any]:
    return payload["entry"][0]["messaging"][0]


def meta_config(webhooks: SignedMetaWebhooks, send_api: FakeSendApi, **overrides) -> dict:
    return {
        **_ACCOUNTS[webhooks.kind],
        "app_secret": webhooks.app_secret,
        "verify_token": VERIFY_TOKEN,
        "api_base_url": send_api.url,
        **overrides,
    }


def customer_wrote(client, channel, webhooks: SignedMetaWebhooks, *, at: datetime):
    """The customer's text, stamped by Meta at `at`, reaches the webhook; their
    conversation."""
    payload = webhooks.fixture_json("text")
    first_item(payload)["timestamp"] = int(at.timestamp() * 1000)
    webhooks.post_payload(client, channel, payload)
    return Conversation.objects.get()


def delivered(message: Message) -> Message:
    """One delivery try of the message, then the message as it was left."""
    from channels_app.services import message_deliver

    message_deliver(message_id=message.pk, attempt=1, max_attempts=3)
    message.refresh_from_db()
    return message
