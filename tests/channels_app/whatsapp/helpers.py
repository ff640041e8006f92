"""WhatsApp test helpers: the fixture payloads, and posting them signed to the webhook URL."""

from typing import Any

from customers.models import Customer
from tests.channels_app.meta_messaging import SignedMetaWebhooks
from tests.fakes.whatsapp import (
    ACCESS_TOKEN,
    PHONE_NUMBER_ID,
    FakeGraphApi,
)

APP_SECRET = "3f1c9d0e7b5a4c2e8f6d1a0b9c8e7d6f"
VERIFY_TOKEN = "switchboard-verify-5b1f0c"
WA_ID = "16505551234"
USER_ID = "US.13491208655302741918"
SENT_WAMID = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"


def fixture_bytes(name: str) -> bytes:
    return WHATSAPP.fixture_bytes(name)


def fixture_json(name: str) -> dict[str, Any]:
    return WHATSAPP.fixture_json(name)


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


WHATSAPP = SignedMetaWebhooks(kind="whatsapp", app_secret=APP_SECRET)
post_whatsapp = WHATSAPP.post
post_fixture = WHATSAPP.post_fixture
post_payload = WHATSAPP.post_payload


def identities_of(customer: Customer) -> set[tuple[str, str]]:
    return set(customer.identities.values_list("kind", "value"))
