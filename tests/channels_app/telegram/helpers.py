"""Telegram test helpers: the fixture Updates, and posting them to the webhook URL."""

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent.parent / "fixtures" / "telegram"
BOT_TOKEN = "123:ABC"
WEBHOOK_SECRET = "wh-secret_4f9a0c2e"
MARIA_ID = "123456789"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


def update_body(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def update(name: str) -> dict[str, Any]:
    return json.loads(update_body(name))


def post_update(client, channel, body: bytes, *, secret: str | None = WEBHOOK_SECRET):
    headers = {} if secret is None else {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret}
    return client.post(
        f"/webhooks/telegram/{channel.public_id}/",
        data=body,
        content_type="application/json",
        **headers,
    )
