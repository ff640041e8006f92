"""Meta's webhooks in through the real URL: messages of every kind, identities,
duplicates, signatures and malformed bodies."""

import json

import pytest
from hypothesis import HealthCheck, given, settings

from channels_app.adapters.whatsapp import WhatsAppAdapter
from channels_app.contracts import InboundMessage, WebhookRequest
from channels_app.models import WebhookEvent, WebhookEventStatus
from customers.models import Customer, Identity
from inbox.models import Conversation, Message, MessageStatus
from tests.channels_app.payload_fuzzing import json_values_with, mutated_payloads
from tests.channels_app.whatsapp.helpers import (
    APP_SECRET,
    SENT_WAMID,
    USER_ID,
    WA_ID,
    first_message,
    fixture_bytes,
    fixture_json,
    identities_of,
    post_fixture,
    post_payload,
    post_whatsapp,
)
from tests.factories import ChannelFactory, ConversationFactory, MessageFactory
from tests.fakes.whatsapp import (
    ACCESS_TOKEN,
)
from tests.helpers import api_payload, message_as_read, sign, stored_counts

pytestmark = pytest.mark.django_db


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
                "📍 Philz Coffee",
                "1 Hacker Way, Menlo Park, CA 94025",
                "37.48342, -122.14851",
                "https://www.google.com/maps/search/?api=1&query=37.48342,-122.14851",
            ],
        ),
        (
            "contacts",
            [
                "👤 Pablo Morales",
                "📞 +1 (415) 555-0133 (WORK)",
                "✉️ pablo.morales@example.com (WORK)",
                "🏢 Lucky Shrub",
            ],
        ),
        ("interactive_button_reply", ["Change date"]),
        ("interactive_list_reply", ["Excellent"]),
        ("button", ["Talk to an agent"]),
        ("reaction", ["Reacted 👍"]),
        ("reaction_removed", ["Removed a reaction"]),
        ("unsupported", ["A message of a kind that cannot be shown here (poll_creation)"]),
    ],
)
def test_other_message_kinds_arrive_as_readable_text(
    client, whatsapp_channel, fixture, expected_lines
):
    post_fixture(client, whatsapp_channel, fixture)

    message = Message.objects.get()
    for line in expected_lines:
        assert line in message_as_read(message).splitlines()
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


META_KEYS = (
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


json_values = json_values_with(
    META_KEYS, ["text", "image", "document", "interactive", "16505551234"]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=json_values | mutated_payloads(fixture_json, FUZZ_FIXTURES, json_values))
def test_no_signed_payload_makes_the_webhook_answer_500(client, whatsapp_channel, payload):
    body = json.dumps(payload).encode()

    response = post_whatsapp(client, whatsapp_channel, body)

    assert response.status_code in (200, 400), response.content
    assert "error" in response.json() or response.json()["status"] in ("ok", "accepted")
