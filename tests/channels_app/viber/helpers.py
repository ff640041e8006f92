"""Viber test helpers: the fixture callbacks, signed and posted to the webhook URL."""

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from tests.fakes.viber import AUTH_TOKEN

FIXTURES = Path(__file__).parent.parent / "fixtures" / "viber"
MARIA_ID = "01234567890A="


def callback_body(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def callback(name: str) -> dict[str, Any]:
    return json.loads(callback_body(name))


def viber_signature(body: bytes, token: str = AUTH_TOKEN) -> str:
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def post_callback(client, channel, body: bytes | dict[str, Any], *, signature: str | None = ""):
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    if signature == "":
        signature = viber_signature(body)
    headers = {} if signature is None else {"HTTP_X_VIBER_CONTENT_SIGNATURE": signature}
    return client.post(
        f"/webhooks/viber/{channel.public_id}/",
        data=body,
        content_type="application/json",
        **headers,
    )
