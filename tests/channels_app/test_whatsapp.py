"""The WhatsApp Cloud API channel: Meta's webhooks in through the real URL, Graph API calls
out against a fake Graph API on 127.0.0.1 (tests/fakes/whatsapp.py)."""

import copy
import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_app.adapters.base import ConfigInvalid
from channels_app.adapters.whatsapp import WINDOW_CLOSED_REASON, WhatsAppAdapter
from channels_app.contracts import InboundMessage, WebhookRequest
from channels_app.models import WebhookEvent, WebhookEventStatus
from channels_app.services import attachment_fetch_media, channel_create, message_deliver
from customers.models import Customer, Identity
from inbox.models import Attachment, Conversation, Message, MessageStatus
from inbox.services import message_reply
from tests.factories import ChannelFactory, ConversationFactory, MessageFactory
from tests.fakes.whatsapp import (
    ACCESS_TOKEN,
    ACCESS_TOKEN_EXPIRED,
    INVALID_PARAMETER,
    PAIR_RATE_LIMITED,
    PHONE_NUMBER_ID,
    RATE_LIMITED,
    REENGAGEMENT_REQUIRED,
    SERVER_ERROR,
    SPAM_RATE_LIMITED,
    UNDELIVERABLE,
    FakeGraphApi,
    GraphError,
)
from tests.helpers import api_payload, sign

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "whatsapp"
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


@pytest.fixture
def graph_api():
    fake = FakeGraphApi().start()
    yield fake
    fake.stop()


@pytest.fixture
def whatsapp_channel(db, team, graph_api):
    channel = channel_create(
        kind="whatsapp", name="WhatsApp support", config=whatsapp_config(graph_api)
    )
    channel.teams.set([team])
    return channel


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


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


def stored_counts() -> tuple[int, int, int, int]:
    return (
        Customer.objects.count(),
        Conversation.objects.count(),
        Message.objects.count(),
        WebhookEvent.objects.count(),
    )


def identities_of(customer: Customer) -> set[tuple[str, str]]:
    return set(customer.identities.values_list("kind", "value"))


# Creating the channel


def test_creating_a_whatsapp_channel_through_the_api_keeps_secrets_write_only(
    admin_client_api, graph_api
):
    response = admin_client_api.post(
        "/api/v1/channels/",
        {
            "kind": "whatsapp",
            "name": "WhatsApp support",
            "config": whatsapp_config(
                graph_api, fallback_template={"name": "reopen_chat", "language": "en_US"}
            ),
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    channel = response.json()
    assert f"/webhooks/whatsapp/{channel['public_id']}/" in channel["webhook_url"]
    assert channel["config"] == {
        "phone_number_id": PHONE_NUMBER_ID,
        "api_base_url": graph_api.url,
        "fallback_template": {"name": "reopen_chat", "language": "en_US"},
    }
    assert channel["secrets_set"] == ["access_token", "app_secret", "verify_token"]
    assert ACCESS_TOKEN not in response.content.decode()


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"phone_number_id": None}, "phone_number_id"),
        ({"access_token": None}, "access_token"),
        ({"app_secret": None}, "app_secret"),
        ({"verify_token": None}, "verify_token"),
        ({"phone_number_id": 106540352242922}, "phone_number_id"),
        ({"phone_number_id": "+1 555 0783"}, "phone_number_id"),
        ({"api_base_url": "ftp://graph.example.com"}, "api_base_url"),
        ({"fallback_template": "reopen_chat"}, "fallback_template"),
        ({"fallback_template": {"name": "reopen_chat"}}, "fallback_template"),
        ({"fallback_template": {"name": "x", "language": "en", "colour": 1}}, "fallback_template"),
        ({"unexpected": "value"}, "unexpected"),
    ],
)
def test_a_whatsapp_channel_refuses_a_config_it_cannot_work_with(graph_api, change, key):
    config = {
        name: value
        for name, value in {**whatsapp_config(graph_api), **change}.items()
        if value is not None
    }

    with pytest.raises(ConfigInvalid) as raised:
        channel_create(kind="whatsapp", name="WhatsApp", config=config)

    assert key in raised.value.errors


# Meta's GET handshake


def verification(client, channel, **params: str):
    return client.get(f"/webhooks/whatsapp/{channel.public_id}/", params)


def test_the_handshake_with_the_right_verify_token_echoes_the_challenge(client, whatsapp_channel):
    response = verification(
        client,
        whatsapp_channel,
        **{
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"},
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN[:-1], "hub.challenge": "42"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"},
        {"hub.mode": "subscribe", "hub.challenge": "1158201444"},
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN},
        {"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"},
        {},
    ],
)
def test_the_handshake_is_refused_without_the_right_token_and_parameters(
    client, whatsapp_channel, params
):
    response = verification(client, whatsapp_channel, **params)

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert b"1158201444" not in response.content
    assert stored_counts() == (0, 0, 0, 0)


def test_the_handshake_on_an_unknown_channel_is_404(client, whatsapp_channel):
    other = ChannelFactory()  # an API channel: wrong kind for this URL

    response = verification(
        client,
        other,
        **{"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"},
    )

    assert response.status_code == 404


# Inbound messages


def test_a_text_message_creates_the_customer_with_all_their_identities(client, whatsapp_channel):
    response = post_fixture(client, whatsapp_channel, "text")

    message = Message.objects.get()
    assert response.json()["messages"] == [
        {"id": message.pk, "conversation_id": message.conversation_id, "duplicate": False}
    ]
    assert message.body == "Hi! Does the Aurora lamp come in another color?"
    assert message.direction == "in"
    assert message.external_id == "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    conversation = message.conversation
    assert conversation.channel == whatsapp_channel
    assert conversation.status == "open"
    assert conversation.recipient_address == WA_ID
    customer = conversation.customer
    assert customer.name == "Sheena Nelson"
    assert customer.phone == "+16505551234"
    assert identities_of(customer) == {
        ("whatsapp", WA_ID),
        ("phone", "+16505551234"),
        ("whatsapp_user", USER_ID),
    }
    assert WebhookEvent.objects.get().status == WebhookEventStatus.PROCESSED


@pytest.mark.parametrize(
    ("fixture", "media_id", "content_type", "filename", "text"),
    [
        ("image", "1003383421387256", "image/jpeg", "image.jpg", "This is the scratch on the base"),
        ("document", "1577962479617013", "application/pdf", "invoice-10482.pdf", "My invoice"),
        ("audio", "1262735541808577", "audio/ogg; codecs=opus", "audio.ogg", ""),
        ("video", "2153468731712298", "video/mp4", "video.mp4", "It flickers like this"),
        ("sticker", "1114622063745413", "image/webp", "sticker.webp", ""),
    ],
)
def test_media_messages_keep_the_platform_media_id_to_fetch_later(
    client, whatsapp_channel, fixture, media_id, content_type, filename, text
):
    post_fixture(client, whatsapp_channel, fixture)

    message = Message.objects.get()
    assert message.body == text
    attachment = message.attachments.get()
    assert (attachment.media_id, attachment.content_type, attachment.filename) == (
        media_id,
        content_type,
        filename,
    )
    assert not attachment.file
    assert identities_of(message.conversation.customer) >= {("whatsapp", WA_ID)}


@pytest.mark.parametrize(
    ("fixture", "expected_lines"),
    [
        (
            "location",
            [
                "Philz Coffee",
                "1 Hacker Way, Menlo Park, CA 94025",
                "37.48342, -122.14851",
                "https://www.google.com/maps/search/?api=1&query=37.48342,-122.14851",
            ],
        ),
        (
            "contacts",
            [
                "Shared contact: Pablo Morales",
                "Phone: +1 (415) 555-0133 (WORK)",
                "Email: pablo.morales@example.com (WORK)",
                "Organization: Lucky Shrub",
            ],
        ),
        ("interactive_button_reply", ["Change date"]),
        ("interactive_list_reply", ["Excellent"]),
        ("button", ["Talk to an agent"]),
        ("reaction", ["Reacted 👍"]),
        ("reaction_removed", ["Removed a reaction"]),
        ("unsupported", ["[unsupported message type: poll_creation]"]),
    ],
)
def test_other_message_kinds_arrive_as_readable_text(
    client, whatsapp_channel, fixture, expected_lines
):
    post_fixture(client, whatsapp_channel, fixture)

    message = Message.objects.get()
    for line in expected_lines:
        assert line in message.body.splitlines()
    assert message.external_id == first_message(fixture_json(fixture))["id"]
    assert not message.attachments.exists()


def test_a_shared_contact_card_never_becomes_an_identity(client, whatsapp_channel):
    post_fixture(client, whatsapp_channel, "contacts")

    assert Customer.objects.count() == 1
    assert not Identity.objects.filter(value__contains="4155550133").exists()
    assert not Identity.objects.filter(value="pablo.morales@example.com").exists()


@pytest.mark.parametrize(
    ("fixture", "text", "button_payload"),
    [
        ("interactive_button_reply", "Change date", "change-delivery-date"),
        ("interactive_list_reply", "Excellent", "csat-5"),
        ("button", "Talk to an agent", "talk-to-agent"),
        ("text", "Hi! Does the Aurora lamp come in another color?", ""),
    ],
)
def test_button_and_list_answers_carry_the_chosen_id(
    whatsapp_channel, fixture, text, button_payload
):
    adapter = WhatsAppAdapter(whatsapp_channel)

    events = adapter.parse(WebhookRequest(body=fixture_bytes(fixture), headers={}))

    assert len(events) == 1
    assert isinstance(events[0], InboundMessage)
    assert (events[0].text, events[0].button_payload) == (text, button_payload)
    assert events[0].sent_at is not None


def test_a_customer_known_only_by_user_id_is_keyed_and_answered_by_it(client, whatsapp_channel):
    post_fixture(client, whatsapp_channel, "username_only")

    conversation = Conversation.objects.get()
    assert conversation.recipient_address == "DE.72910384756102938"
    assert conversation.customer.name == "Lena K."
    assert identities_of(conversation.customer) == {("whatsapp_user", "DE.72910384756102938")}
    assert conversation.customer.phone == ""


def test_the_phone_given_later_joins_the_same_customer_through_the_user_id(
    client, whatsapp_channel
):
    post_fixture(client, whatsapp_channel, "username_only")

    post_fixture(client, whatsapp_channel, "username_with_phone")

    customer = Customer.objects.get()
    assert identities_of(customer) == {
        ("whatsapp_user", "DE.72910384756102938"),
        ("whatsapp", "4915112345678"),
        ("phone", "+4915112345678"),
    }
    assert customer.phone == "+4915112345678"
    assert Conversation.objects.get().messages.count() == 2


def test_the_same_delivery_again_changes_nothing(client, whatsapp_channel):
    first = post_fixture(client, whatsapp_channel, "text")
    before = stored_counts()

    again = post_fixture(client, whatsapp_channel, "text")

    assert again.json()["messages"][0]["duplicate"] is True
    assert again.json()["messages"][0]["id"] == first.json()["messages"][0]["id"]
    assert stored_counts() == before


def test_a_redelivery_with_the_same_wamid_but_another_body_is_still_a_duplicate(
    client, whatsapp_channel
):
    post_fixture(client, whatsapp_channel, "text")
    payload = fixture_json("text")
    first_message(payload)["text"]["body"] = "a different copy"

    response = post_payload(client, whatsapp_channel, payload)

    assert response.status_code == 200
    assert list(Message.objects.values_list("body", flat=True)) == [
        "Hi! Does the Aurora lamp come in another color?"
    ]


def test_a_second_message_joins_the_open_conversation(client, whatsapp_channel):
    post_fixture(client, whatsapp_channel, "text")

    post_fixture(client, whatsapp_channel, "text_followup")

    conversation = Conversation.objects.get()
    assert list(conversation.messages.order_by("id").values_list("body", flat=True)) == [
        "Hi! Does the Aurora lamp come in another color?",
        "Also, do you ship to Canada?",
    ]


def test_one_webhook_with_several_entries_stores_every_message_and_status(client, whatsapp_channel):
    sent = MessageFactory(
        conversation=ConversationFactory(channel=whatsapp_channel, recipient_address=WA_ID),
        direction="out",
        status=MessageStatus.SENT,
        external_id=SENT_WAMID,
    )

    response = post_fixture(client, whatsapp_channel, "batch")

    assert len(response.json()["messages"]) == 2
    rahul = Customer.objects.get(identities__kind="whatsapp", identities__value="919812345678")
    assert rahul.name == "Rahul Mehta"
    assert rahul.phone == "+919812345678"
    assert Message.objects.get(conversation__customer=rahul).attachments.get().media_id == (
        "880125717766125"
    )
    sheena = Customer.objects.get(identities__kind="whatsapp", identities__value=WA_ID)
    assert Message.objects.get(conversation__customer=sheena, direction="in").body == (
        "Is my order on its way?"
    )
    sent.refresh_from_db()
    assert sent.status == MessageStatus.DELIVERED


def test_the_same_person_on_the_api_channel_and_on_whatsapp_is_one_customer(
    client, whatsapp_channel
):
    api_channel = ChannelFactory()
    body = api_payload(sender_id="shop-user-7", name="Sheena N.", phone="+1 650 555 1234")
    api_response = client.post(
        f"/webhooks/api/{api_channel.public_id}/",
        data=body,
        content_type="application/json",
        HTTP_X_SWITCHBOARD_SIGNATURE=sign(body),
    )
    assert api_response.status_code == 200

    post_fixture(client, whatsapp_channel, "text")

    customer = Customer.objects.get()
    assert identities_of(customer) == {
        ("api", f"{api_channel.public_id}:shop-user-7"),
        ("phone", "+16505551234"),
        ("whatsapp", WA_ID),
        ("whatsapp_user", USER_ID),
    }
    assert Conversation.objects.filter(customer=customer).count() == 2


def test_whatsapp_first_then_the_api_channel_with_the_phone_is_one_customer(
    client, whatsapp_channel
):
    post_fixture(client, whatsapp_channel, "text")
    api_channel = ChannelFactory()
    body = api_payload(sender_id="shop-user-7", phone="+16505551234")

    client.post(
        f"/webhooks/api/{api_channel.public_id}/",
        data=body,
        content_type="application/json",
        HTTP_X_SWITCHBOARD_SIGNATURE=sign(body),
    )

    assert Customer.objects.count() == 1
    assert Conversation.objects.count() == 2


def test_changes_other_than_messages_are_accepted_and_ignored(client, whatsapp_channel):
    response = post_fixture(client, whatsapp_channel, "template_status_update")

    assert response.json()["messages"] == []
    assert stored_counts()[:3] == (0, 0, 0)
    assert WebhookEvent.objects.get().status == WebhookEventStatus.IGNORED


def test_a_change_for_another_phone_number_is_ignored(client, whatsapp_channel):
    post_fixture(client, whatsapp_channel, "other_number")

    assert stored_counts()[:3] == (0, 0, 0)
    assert WebhookEvent.objects.get().status == WebhookEventStatus.IGNORED


def test_a_payload_for_another_meta_object_is_ignored(client, whatsapp_channel):
    payload = fixture_json("text")
    payload["object"] = "instagram"

    response = post_payload(client, whatsapp_channel, payload)

    assert response.status_code == 200
    assert stored_counts()[:3] == (0, 0, 0)


# Delivery statuses of what we sent


@pytest.fixture
def sent_message(whatsapp_channel):
    conversation = ConversationFactory(channel=whatsapp_channel, recipient_address=WA_ID)
    return MessageFactory(
        conversation=conversation, direction="out", status="sent", external_id=SENT_WAMID
    )


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["delivered"], MessageStatus.DELIVERED),
        (["read"], MessageStatus.READ),
        (["delivered", "read"], MessageStatus.READ),
        (["read", "delivered"], MessageStatus.READ),
        (["read", "sent"], MessageStatus.READ),
    ],
)
def test_status_webhooks_move_a_sent_message_forward_never_back(
    client, sent_message, whatsapp_channel, statuses, expected
):
    for status in statuses:
        post_fixture(client, whatsapp_channel, f"status_{status}")

    sent_message.refresh_from_db()
    assert sent_message.status == expected
    assert sent_message.error == ""


def test_a_failed_status_stores_metas_reason(client, sent_message, whatsapp_channel):
    post_fixture(client, whatsapp_channel, "status_failed")

    sent_message.refresh_from_db()
    assert sent_message.status == MessageStatus.FAILED
    assert sent_message.error == (
        "131047 Re-engagement message: Message failed to send because more than 24 hours "
        "have passed since the customer last replied to this number."
    )


def test_a_status_for_a_message_we_do_not_know_changes_nothing(client, whatsapp_channel):
    other = MessageFactory(direction="out", status="sent", external_id=SENT_WAMID)  # other channel

    response = post_fixture(client, whatsapp_channel, "status_read")

    assert response.json()["messages"] == []
    other.refresh_from_db()
    assert other.status == MessageStatus.SENT
    assert Customer.objects.count() == 1  # only the factory's own customer


def test_statuses_never_create_customers_or_messages(client, whatsapp_channel):
    for status in ("sent", "delivered", "read", "failed"):
        post_fixture(client, whatsapp_channel, f"status_{status}")

    assert stored_counts()[:3] == (0, 0, 0)


# Refused deliveries


@pytest.mark.parametrize(
    "signature",
    [
        "sha256=" + "0" * 64,
        sign(b"another body", APP_SECRET),
        sign(fixture_bytes("text"), "wrong-app-secret"),
        sign(fixture_bytes("text"), ACCESS_TOKEN),
        "sha1=" + "0" * 40,
        "",
    ],
)
def test_a_bad_signature_is_refused_and_nothing_is_stored(client, whatsapp_channel, signature):
    response = post_whatsapp(client, whatsapp_channel, fixture_bytes("text"), signature=signature)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_signature"
    assert stored_counts() == (0, 0, 0, 0)


def test_a_missing_signature_header_is_refused(client, whatsapp_channel):
    response = client.post(
        f"/webhooks/whatsapp/{whatsapp_channel.public_id}/",
        data=fixture_bytes("text"),
        content_type="application/json",
    )

    assert response.status_code == 401
    assert stored_counts() == (0, 0, 0, 0)


def _without_message_id(payload):
    del first_message(payload)["id"]


def _without_sender(payload):
    value = payload["entry"][0]["changes"][0]["value"]
    del value["contacts"]
    del first_message(payload)["from"]
    del first_message(payload)["from_user_id"]


def _entry_not_a_list(payload):
    payload["entry"] = {"id": "1"}


def _text_without_body(payload):
    first_message(payload)["text"] = {}


def _image_without_id(payload):
    message = first_message(payload)
    message["type"] = "image"
    message["image"] = {"mime_type": "image/jpeg"}


def _message_id_too_long(payload):
    first_message(payload)["id"] = "wamid." + "A" * 300


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (fixture_bytes("text")[:-40], "not valid JSON"),
        (b"\xff\xfe garbage", "not valid JSON"),
        (b"[]", "JSON object"),
        (_without_message_id, "messages[].id"),
        (_without_sender, "wa_id or user_id"),
        (_entry_not_a_list, "entry"),
        (_text_without_body, "text.body"),
        (_image_without_id, "image.id"),
        (_message_id_too_long, "messages[].id"),
    ],
)
def test_a_malformed_body_gets_400_with_a_json_error(client, whatsapp_channel, body, complaint):
    if callable(body):
        payload = fixture_json("text")
        body(payload)
        body = json.dumps(payload).encode()

    response = post_whatsapp(client, whatsapp_channel, body)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "malformed"
    assert complaint in response.json()["detail"]
    assert (Customer.objects.count(), Message.objects.count()) == (0, 0)


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(
        ["", "\x00", "\ud800", "text", "image", "document", "interactive", "16505551234"]
    )
)
meta_keys = st.sampled_from(
    [
        "object",
        "entry",
        "changes",
        "field",
        "value",
        "metadata",
        "phone_number_id",
        "contacts",
        "profile",
        "name",
        "wa_id",
        "user_id",
        "messages",
        "from",
        "from_user_id",
        "id",
        "timestamp",
        "type",
        "text",
        "body",
        "image",
        "document",
        "filename",
        "mime_type",
        "caption",
        "location",
        "latitude",
        "longitude",
        "interactive",
        "button_reply",
        "title",
        "reaction",
        "emoji",
        "statuses",
        "status",
        "errors",
        "code",
        "error_data",
        "details",
        "phones",
        "org",
    ]
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(meta_keys, children, max_size=5)
    ),
    max_leaves=14,
)
FUZZ_FIXTURES = [
    "text",
    "image",
    "document",
    "location",
    "contacts",
    "interactive_list_reply",
    "button",
    "reaction",
    "unsupported",
    "username_only",
    "batch",
    "status_failed",
]


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*path, index))
    return found


@st.composite
def mutated_fixtures(draw) -> Any:
    """A real Meta payload with one part swapped for arbitrary JSON, or dropped."""
    payload = copy.deepcopy(fixture_json(draw(st.sampled_from(FUZZ_FIXTURES))))
    path = draw(st.sampled_from(_paths(payload)[1:]))
    parent = payload
    for step in path[:-1]:
        parent = parent[step]
    if draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(json_values)
    return payload


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=json_values | mutated_fixtures())
def test_no_signed_payload_makes_the_webhook_answer_500(client, whatsapp_channel, payload):
    body = json.dumps(payload).encode()

    response = post_whatsapp(client, whatsapp_channel, body)

    assert response.status_code in (200, 400), response.content
    assert "error" in response.json() or response.json()["status"] in ("ok", "accepted")


# Sending replies


def conversation_on(channel, *, recipient_address: str = WA_ID, hours_since_customer: float | None):
    last_inbound_at = (
        timezone.now() - timedelta(hours=hours_since_customer)
        if hours_since_customer is not None
        else None
    )
    return ConversationFactory(
        channel=channel, recipient_address=recipient_address, last_inbound_at=last_inbound_at
    )


def reply(channel, operator, text: str = "It ships tomorrow.", **conversation_options) -> Message:
    conversation_options.setdefault("hours_since_customer", 1)
    conversation = conversation_on(channel, **conversation_options)
    return message_reply(conversation=conversation, author=operator, body=text)


def test_a_reply_inside_the_window_is_sent_as_text_with_the_bearer_token(
    whatsapp_channel, operator, graph_api
):
    message = reply(whatsapp_channel, operator)

    assert message_deliver(message_id=message.pk, attempt=1, max_attempts=3) is None

    [request] = graph_api.requests
    assert request.method == "POST"
    assert request.path == f"/v26.0/{PHONE_NUMBER_ID}/messages"
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "text",
        "text": {"body": "It ships tomorrow."},
    }
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.external_id == graph_api.sent_message_ids[0]
    assert message.external_id.startswith("wamid.")


def test_a_reply_to_a_customer_known_only_by_user_id_is_addressed_by_recipient(
    whatsapp_channel, operator, graph_api
):
    message = reply(whatsapp_channel, operator, recipient_address="DE.72910384756102938")

    message_deliver(message_id=message.pk, attempt=1, max_attempts=3)

    [sent] = graph_api.sent_messages
    assert sent["recipient"] == "DE.72910384756102938"
    assert "to" not in sent
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


@pytest.mark.parametrize("hours_since_customer", [None, 24.01, 24 * 9])
def test_outside_the_window_without_a_template_the_reply_fails_and_nothing_is_sent(
    whatsapp_channel, operator, graph_api, hours_since_customer
):
    message = reply(whatsapp_channel, operator, hours_since_customer=hours_since_customer)

    assert message_deliver(message_id=message.pk, attempt=1, max_attempts=5) is None

    assert graph_api.requests == []
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.error == WINDOW_CLOSED_REASON
    assert "24-hour" in message.error and "template" in message.error


def test_outside_the_window_the_fallback_template_is_sent(whatsapp_channel, operator, graph_api):
    whatsapp_channel.config["fallback_template"] = {"name": "reopen_chat", "language": "en_US"}
    whatsapp_channel.save()
    message = reply(whatsapp_channel, operator, hours_since_customer=30)

    message_deliver(message_id=message.pk, attempt=1, max_attempts=3)

    assert graph_api.sent_messages == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": WA_ID,
            "type": "template",
            "template": {"name": "reopen_chat", "language": {"code": "en_US"}},
        }
    ]
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.external_id == graph_api.sent_message_ids[0]


def test_a_fallback_template_with_a_text_parameter_carries_the_reply(
    whatsapp_channel, operator, graph_api
):
    whatsapp_channel.config["fallback_template"] = {
        "name": "support_update",
        "language": "de",
        "text_parameter": True,
    }
    whatsapp_channel.save()
    message = reply(
        whatsapp_channel, operator, text="Your order\nships\ttomorrow.", hours_since_customer=None
    )

    message_deliver(message_id=message.pk, attempt=1, max_attempts=3)

    [sent] = graph_api.sent_messages
    assert sent["template"] == {
        "name": "support_update",
        "language": {"code": "de"},
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Your order ships tomorrow."}]}
        ],
    }


def test_inside_the_window_the_template_is_not_used(whatsapp_channel, operator, graph_api):
    whatsapp_channel.config["fallback_template"] = {"name": "reopen_chat", "language": "en_US"}
    whatsapp_channel.save()
    message = reply(whatsapp_channel, operator, hours_since_customer=23.9)

    message_deliver(message_id=message.pk, attempt=1, max_attempts=3)

    assert [sent["type"] for sent in graph_api.sent_messages] == ["text"]


@pytest.mark.parametrize(
    ("error", "is_retried", "error_text"),
    [
        (RATE_LIMITED, True, "130429"),
        (GraphError(400, 130429, "(#130429) Rate limit hit"), True, "130429"),
        (PAIR_RATE_LIMITED, True, "131056"),
        (SPAM_RATE_LIMITED, True, "80007"),
        (SERVER_ERROR, True, "HTTP 500"),
        (GraphError(503, 2, "Service temporarily unavailable"), True, "HTTP 503"),
        (REENGAGEMENT_REQUIRED, False, WINDOW_CLOSED_REASON),
        (ACCESS_TOKEN_EXPIRED, False, "access token invalid"),
        (GraphError(400, 190, "Invalid OAuth access token"), False, "access token invalid"),
        (INVALID_PARAMETER, False, "Invalid parameter - Parameter value is not valid"),
        (UNDELIVERABLE, False, "recipient's phone number is not on WhatsApp"),
    ],
)
def test_graph_api_errors_are_retried_or_final_as_meta_means_them(
    whatsapp_channel, operator, graph_api, error, is_retried, error_text
):
    graph_api.fail_next(error, endpoint="messages")
    message = reply(whatsapp_channel, operator)

    delay = message_deliver(message_id=message.pk, attempt=1, max_attempts=5)

    message.refresh_from_db()
    if is_retried:
        assert delay is not None and delay > 0
        assert message.status == MessageStatus.QUEUED
        assert "retrying" in message.error
    else:
        assert delay is None
        assert message.status == MessageStatus.FAILED
    assert error_text in message.error
    assert ACCESS_TOKEN not in message.error


def test_a_rate_limited_reply_goes_out_on_the_retry(whatsapp_channel, operator, graph_api):
    graph_api.fail_next(
        GraphError(429, 130429, "(#130429) Rate limit hit", retry_after=7), endpoint="messages"
    )
    message = reply(whatsapp_channel, operator)

    delay = message_deliver(message_id=message.pk, attempt=1, max_attempts=5)
    assert delay is not None and delay >= 7
    message_deliver(message_id=message.pk, attempt=2, max_attempts=5)

    assert len(graph_api.requests_to("messages")) == 2
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.external_id == graph_api.sent_message_ids[0]
    assert message.delivery_attempts == 2


def test_the_pair_rate_limit_waits_at_least_six_seconds(whatsapp_channel, operator, graph_api):
    graph_api.fail_next(PAIR_RATE_LIMITED, endpoint="messages")
    message = reply(whatsapp_channel, operator)

    delay = message_deliver(message_id=message.pk, attempt=1, max_attempts=5)

    assert delay is not None and delay >= 6


def test_a_server_error_on_every_try_fails_the_reply_at_the_last_attempt(
    whatsapp_channel, operator, graph_api
):
    graph_api.fail_next(SERVER_ERROR, endpoint="messages", times=2)
    message = reply(whatsapp_channel, operator)

    assert message_deliver(message_id=message.pk, attempt=1, max_attempts=2) is not None
    assert message_deliver(message_id=message.pk, attempt=2, max_attempts=2) is None

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "HTTP 500" in message.error


def test_a_retry_sends_only_the_parts_that_did_not_go_out(
    whatsapp_channel, operator, graph_api, settings
):
    settings.PUBLIC_BASE_URL = "https://support.example.com"
    conversation = conversation_on(whatsapp_channel, hours_since_customer=1)
    # Too long for a caption: the text and the file go as two WhatsApp messages.
    text = "Here is your invoice. " + "Details follow. " * 80
    message = message_reply(
        conversation=conversation,
        author=operator,
        body=text,
        files=[SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 invoice", "application/pdf")],
    )
    graph_api.fail_next(SERVER_ERROR, endpoint="messages", after=1)

    assert message_deliver(message_id=message.pk, attempt=1, max_attempts=3) is not None
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert "sent 1 of 2 parts" in message.error

    assert message_deliver(message_id=message.pk, attempt=2, max_attempts=3) is None

    sent = graph_api.sent_messages
    assert [payload["type"] for payload in sent] == ["text", "document", "document"]
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.external_id == graph_api.sent_message_ids[0]
    assert len(graph_api.sent_message_ids) == 2


def test_an_unreachable_graph_api_is_retried(whatsapp_channel, operator):
    whatsapp_channel.config["api_base_url"] = "http://127.0.0.1:9/v26.0"
    whatsapp_channel.save()
    message = reply(whatsapp_channel, operator)

    assert message_deliver(message_id=message.pk, attempt=1, max_attempts=3) is not None

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert "unreachable" in message.error


def test_the_access_token_never_reaches_errors_or_logs(
    whatsapp_channel, operator, graph_api, caplog
):
    graph_api.fail_next(
        GraphError(400, 100, f"(#100) Invalid parameter near {ACCESS_TOKEN}"), endpoint="messages"
    )
    message = reply(whatsapp_channel, operator)

    with caplog.at_level(logging.DEBUG):
        message_deliver(message_id=message.pk, attempt=1, max_attempts=1)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert ACCESS_TOKEN not in message.error
    assert "[access token]" in message.error
    assert ACCESS_TOKEN not in caplog.text


def test_a_reply_longer_than_whatsapp_allows_fails_without_a_call(
    whatsapp_channel, operator, graph_api
):
    message = reply(whatsapp_channel, operator, text="x" * 4097)

    message_deliver(message_id=message.pk, attempt=1, max_attempts=3)

    assert graph_api.requests == []
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "4096" in message.error


def test_a_reply_with_a_file_sends_it_by_link_with_the_text_as_caption(whatsapp_channel, graph_api):
    conversation = conversation_on(whatsapp_channel, hours_since_customer=2)
    message = MessageFactory(
        conversation=conversation,
        direction="out",
        status=MessageStatus.QUEUED,
        body="Here is your label",
        external_id=None,
    )
    Attachment.objects.create(
        message=message,
        remote_url="https://files.example.com/labels/10482.pdf",
        filename="label-10482.pdf",
        content_type="application/pdf",
        size=20480,
    )

    message_deliver(message_id=message.pk, attempt=1, max_attempts=3)

    assert graph_api.sent_messages == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": WA_ID,
            "type": "document",
            "document": {
                "link": "https://files.example.com/labels/10482.pdf",
                "filename": "label-10482.pdf",
                "caption": "Here is your label",
            },
        }
    ]
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


# Fetching the files customers send


JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40 + b"\xff\xd9"


def received_attachment(client, channel, fixture: str = "image") -> Attachment:
    post_fixture(client, channel, fixture)
    return Attachment.objects.get()


def test_a_received_image_is_fetched_into_storage_with_the_bearer_token(
    client, whatsapp_channel, graph_api, media_root
):
    attachment = received_attachment(client, whatsapp_channel)
    graph_api.add_media("1003383421387256", JPEG_BYTES, "image/jpeg")

    delay = attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=3)

    assert delay is None
    attachment.refresh_from_db()
    assert attachment.file
    assert attachment.size == len(JPEG_BYTES)
    assert attachment.file.read() == JPEG_BYTES
    assert (attachment.filename, attachment.content_type) == ("image.jpg", "image/jpeg")
    assert attachment.fetch_error == ""
    lookup, download = graph_api.requests
    assert lookup.path == "/v26.0/1003383421387256"
    assert download.path == "/media-download/1003383421387256"
    for request in (lookup, download):
        assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"


def test_a_fetched_document_keeps_the_name_the_customer_gave_it(
    client, whatsapp_channel, graph_api, media_root
):
    attachment = received_attachment(client, whatsapp_channel, "document")
    graph_api.add_media("1577962479617013", b"%PDF-1.7 invoice", "application/pdf")

    attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=3)

    attachment.refresh_from_db()
    assert attachment.filename == "invoice-10482.pdf"
    assert attachment.file.name.endswith(".pdf")
    assert attachment.size == len(b"%PDF-1.7 invoice")


@pytest.mark.parametrize(
    ("error", "endpoint"),
    [(SERVER_ERROR, "media"), (RATE_LIMITED, "media"), (SERVER_ERROR, "download")],
)
def test_a_temporary_failure_fetching_media_is_retried(
    client, whatsapp_channel, graph_api, media_root, error, endpoint
):
    attachment = received_attachment(client, whatsapp_channel)
    graph_api.add_media("1003383421387256", JPEG_BYTES, "image/jpeg")
    graph_api.fail_next(error, endpoint=endpoint)

    assert attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=3)
    attachment.refresh_from_db()
    assert not attachment.file

    assert attachment_fetch_media(attachment_id=attachment.pk, attempt=2, max_attempts=3) is None
    attachment.refresh_from_db()
    assert attachment.size == len(JPEG_BYTES)


def test_media_whatsapp_no_longer_has_is_recorded_as_a_failure(
    client, whatsapp_channel, graph_api, media_root
):
    attachment = received_attachment(client, whatsapp_channel)

    delay = attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=3)

    assert delay is None
    attachment.refresh_from_db()
    assert not attachment.file
    assert "does not exist" in attachment.fetch_error
    assert ACCESS_TOKEN not in attachment.fetch_error


def test_a_download_that_does_not_match_metas_checksum_is_not_stored(
    client, whatsapp_channel, graph_api, media_root
):
    attachment = received_attachment(client, whatsapp_channel)
    graph_api.add_media("1003383421387256", JPEG_BYTES, "image/jpeg", sha256="0" * 64)

    assert attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=2)
    assert attachment_fetch_media(attachment_id=attachment.pk, attempt=2, max_attempts=2) is None

    attachment.refresh_from_db()
    assert not attachment.file
    assert "checksum" in attachment.fetch_error


def test_media_with_an_expired_token_fails_for_good(
    client, whatsapp_channel, graph_api, media_root
):
    attachment = received_attachment(client, whatsapp_channel)
    graph_api.add_media("1003383421387256", JPEG_BYTES, "image/jpeg")
    graph_api.fail_next(ACCESS_TOKEN_EXPIRED, endpoint="media")

    assert attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=5) is None

    attachment.refresh_from_db()
    assert "access token invalid" in attachment.fetch_error
    assert len(graph_api.requests) == 1


# CSAT


def test_a_csat_survey_goes_out_as_a_list_and_the_chosen_row_answers_it(
    client, whatsapp_channel, graph_api, operator
):
    from inbox import csat
    from inbox.models import CsatSurvey, SurveyStatus
    from inbox.services import conversation_resolve

    post_fixture(client, whatsapp_channel, "text")
    conversation = Conversation.objects.get()
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=timezone.now())
    conversation.refresh_from_db()
    message_reply(conversation=conversation, author=operator, body="Done!")
    conversation_resolve(conversation=conversation, resolved_by=operator)
    CsatSurvey.objects.update(due_at=timezone.now())
    from channels_app.services import csat_survey_send

    for survey_id in csat.csat_surveys_queue_due():
        csat_survey_send(survey_id=survey_id)

    survey = CsatSurvey.objects.get()
    assert survey.status == SurveyStatus.SENT
    [sent] = [m for m in graph_api.sent_messages if m.get("type") == "interactive"]
    rows = sent["interactive"]["action"]["sections"][0]["rows"]
    assert [row["title"] for row in rows] == [
        "5 - Excellent", "4 - Good", "3 - Average", "2 - Poor", "1 - Very poor",
    ]  # fmt: skip
    payload = fixture_json("interactive_list_reply")
    reply = first_message(payload)
    reply["id"] = "wamid.csat-answer"
    reply["interactive"]["list_reply"] = {"id": rows[1]["id"], "title": rows[1]["title"]}

    post_payload(client, whatsapp_channel, payload)

    survey.refresh_from_db()
    assert (survey.status, survey.rating) == (SurveyStatus.ANSWERED, 4)
    conversation.refresh_from_db()
    assert conversation.status == "resolved"
