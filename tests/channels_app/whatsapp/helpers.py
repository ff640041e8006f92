"""WhatsApp test helpers: the fixture payloads, and posting them signed to the webhook URL."""

import json
from pathlib import Path
from typing import Any

from customers.models import Customer
from tests.fakes.whatsapp import (
    ACCESS_TOKEN,
    PHONE_NUMBER_ID,
    FakeGraphApi,
)
from tests.helpers import sign

FIXTURES = Path(__file__).parent.parent / "fixtures" / "whatsapp"
APP_SECRET = "3f1c9d0e7b5a4c2e8f6d1a0b9c8e7d6f"
VERIFY_TOKEN = "switchboard-verify-5b1f0c"
WA_ID = "16505551234"
USER_ID = "US.13491208655302741918"
SENT_WAMID = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def fixture_json(name: str) -> dict[str, Any]:
    return json.loads(fixture_bytes(name))


def first_message(payload: dict[str, Any]) -> dict[str, Any]:
    return payload["entry"][0]["changes"][0]["value"]["messages"][0]


def whatsapp_config(graph_api: FakeGraphApi, **overrides: Any) -> dict[str, Any]:
    return {
        "phone_number_id": PHONE_NUMBER_ID,
        "access_token": ACCESS_TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
        "api_base_url": graph_api.url,
        **overrides,
    }


def post_whatsapp(client, channel, body: bytes, *, signature: str | None = None):
    return client.post(
        f"/webhooks/whatsapp/{channel.public_id}/",
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=signature if signature is not None else sign(body, APP_SECRET),
    )


def post_fixture(client, channel, name: str):
    response = post_whatsapp(client, channel, fixture_bytes(name))
    assert response.status_code == 200, response.content
    return response


def post_payload(client, channel, payload: dict[str, Any]):
    return post_whatsapp(client, channel, json.dumps(payload).encode())


def identities_of(customer: Customer) -> set[tuple[str, str]]:
    return set(customer.identities.values_list("kind", "value"))
