"""VK test helpers: the fixture events, and posting them to the webhook URL."""

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent.parent / "fixtures" / "vk"
GROUP_ID = "218000001"
SECRET_KEY = "s3cretKey2026"
CONFIRMATION_CODE = "a1b2c3d4"
MARIA_ID = "512345678"


def event_body(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def event(name: str) -> dict[str, Any]:
    return json.loads(event_body(name))


def post_event(client, channel, body: bytes | dict[str, Any]):
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    return client.post(
        f"/webhooks/vk/{channel.public_id}/", data=body, content_type="application/json"
    )
