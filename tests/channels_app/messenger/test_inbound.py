"""A page's Messenger webhooks in through the real URL: every event kind, several per
request, duplicates, signatures, the handshake and malformed bodies."""

import json
from datetime import UTC, datetime

import pytest

from customers.models import Customer
from inbox.models import Conversation, Message, MessageStatus
from tests.channels_app.messenger.helpers import (
    PSID,
    TEXT_MID,
)
from tests.channels_app.meta_messaging import MESSENGER, VERIFY_TOKEN, first_item
from tests.factories import MessageFactory, UserFactory
from tests.helpers import message_as_read, sign, stored_counts

pytestmark = pytest.mark.django_db


# Customer messages


def test_a_text_message_opens_a_conversation_with_the_psid_as_identity(client, messenger_channel):
    response = MESSENGER.post_fixture(client, messenger_channel, "text")

    message = Message.objects.get()
    assert response.json()["messages"] == [
        {"id": message.pk, "conversation_id": message.conversation_id, "duplicate": False}
    ]
    assert message.body == "Hi! Is the Aurora lamp still in stock?"
    assert (message.direction, message.external_id) == ("in", TEXT_MID)
    assert message.sent_at == datetime(2026, 12, 7, 8, 0, 0, 123000, tzinfo=UTC)
    conversation = message.conversation
    assert (conversation.channel, conversation.recipient_address) == (messenger_channel, PSID)
    assert set(conversation.customer.identities.values_list("kind", "value")) == {
        ("messenger", PSID)
    }


@pytest.mark.parametrize(
    ("fixture", "filename", "content_type"),
    [
        ("image", "image.jpg", "image/jpeg"),
        ("video", "video.mp4", "video/mp4"),
        ("audio", "audio.mp4", "audio/mp4"),
        ("file", "file", "application/octet-stream"),
    ],
)
def test_files_keep_their_cdn_url_to_be_fetched_after_commit(
    client, messenger_channel, fixture, filename, content_type
):
    MESSENGER.post_fixture(client, messenger_channel, fixture)

    [attachment] = Message.objects.get().attachments.all()
    url = first_item(MESSENGER.fixture_json(fixture))["message"]["attachments"][0]["payload"]["url"]
    assert (attachment.filename, attachment.content_type) == (filename, content_type)
    assert attachment.remote_url == url
    assert attachment.media_id == url


def test_a_like_sticker_reads_as_a_thumbs_up(client, messenger_channel):
    MESSENGER.post_fixture(client, messenger_channel, "sticker_like")

    message = Message.objects.get()
    assert message.body == "👍"
    assert not message.attachments.exists()


def test_a_shared_link_reads_as_a_card_with_its_title_and_link(client, messenger_channel):
    MESSENGER.post_fixture(client, messenger_channel, "fallback")

    assert Message.objects.get().body == (
        "Aurora table lamp - Lumen Home — "
        "https://l.facebook.com/l.php?u=https%3A%2F%2Flumen.example%2Faurora"
    )


def test_a_postback_is_a_message_with_the_buttons_title(client, messenger_channel):
    MESSENGER.post_fixture(client, messenger_channel, "postback")

    message = Message.objects.get()
    assert (message.body, message.external_id) == ("Talk to a person", "m_postback1")


def test_a_reaction_is_shown_on_the_conversation_naming_the_message(client, messenger_channel):
    MESSENGER.post_fixture(client, messenger_channel, "reaction")

    message = Message.objects.get()
    assert message.body == ""
    assert message_as_read(message) == "Reacted ❤️"


def test_an_edit_changes_the_customers_message(client, messenger_channel):
    MESSENGER.post_fixture(client, messenger_channel, "text")

    MESSENGER.post_fixture(client, messenger_channel, "message_edit")

    message = Message.objects.get()
    assert message.body == "Hi! Is the Aurora lamp in stock in green?"
    assert message.edited_at is not None


def test_several_entries_and_items_in_one_request_are_each_stored_once(client, messenger_channel):
    response = MESSENGER.post_fixture(client, messenger_channel, "batch")

    assert [item["duplicate"] for item in response.json()["messages"]] == [False] * 3
    assert list(Message.objects.order_by("id").values_list("body", flat=True)) == [
        "First",
        "Second",
        "From another person",
    ]
    assert Customer.objects.count() == 2
    assert Conversation.objects.count() == 2

    again = MESSENGER.post_fixture(client, messenger_channel, "batch")

    assert [item["duplicate"] for item in again.json()["messages"]] == [True] * 3
    assert Message.objects.count() == 3


def test_a_repeated_delivery_is_stored_once(client, messenger_channel):
    MESSENGER.post_fixture(client, messenger_channel, "text")
    counts = stored_counts()[:3]

    response = MESSENGER.post_fixture(client, messenger_channel, "text")

    assert response.json()["messages"][0]["duplicate"] is True
    assert stored_counts()[:3] == counts


def test_an_entry_for_another_page_is_not_this_channels(client, messenger_channel):
    payload = MESSENGER.fixture_json("text")
    payload["entry"][0]["id"] = "999000111222333"

    MESSENGER.post_payload(client, messenger_channel, payload)

    assert Message.objects.count() == 0


# Echoes: what the page sent from Meta's own inbox


def test_an_echo_from_meta_business_suite_is_kept_as_an_outgoing_message(client, messenger_channel):
    MESSENGER.post_fixture(client, messenger_channel, "text")

    MESSENGER.post_fixture(client, messenger_channel, "echo_business_suite")

    echo = Message.objects.get(direction="out")
    assert (echo.body, echo.status, echo.author) == ("Yes, we have it in green too.", "sent", None)
    assert echo.external_id == "m_echo_suite1"
    assert Conversation.objects.count() == 1


SENT_FROM_BUSINESS_SUITE = {
    "en": "Sent from Meta Business Suite",
    "ru": "Отправлено из Meta Business Suite",
    "pl": "Wysłano z Meta Business Suite",
}


def test_the_api_says_an_echo_was_written_in_meta_business_suite(
    client, operator_client, messenger_channel
):
    MESSENGER.post_fixture(client, messenger_channel, "text")
    MESSENGER.post_fixture(client, messenger_channel, "echo_business_suite")
    conversation = Conversation.objects.get()

    response = operator_client.get(f"/api/v1/conversations/{conversation.pk}/messages/")

    authors = [(m["direction"], m["author"], m["sent_from"]) for m in response.json()["results"]]
    assert sorted(authors) == [("in", None, ""), ("out", None, "Meta Business Suite")]


@pytest.mark.parametrize("language", ["en", "ru", "pl"])
def test_the_thread_names_meta_business_suite_as_the_echos_author(
    client, messenger_channel, language
):
    MESSENGER.post_fixture(client, messenger_channel, "text")
    MESSENGER.post_fixture(client, messenger_channel, "echo_business_suite")
    conversation = Conversation.objects.get()
    client.force_login(UserFactory(username="reader", role="supervisor", language=language))

    pane = client.get(f"/inbox/conversations/{conversation.pk}/").json()

    author = f'<span class="message-author">{SENT_FROM_BUSINESS_SUITE[language]}</span>'
    assert author in pane["thread_html"]
    assert ">Switchboard</span>" not in pane["thread_html"]


def test_an_echo_to_a_person_without_a_conversation_starts_none(client, messenger_channel):
    MESSENGER.post_fixture(client, messenger_channel, "echo_business_suite")

    assert stored_counts()[:3] == (0, 0, 0)


def test_the_echo_of_our_own_reply_is_never_a_second_copy(client, messenger_channel):
    MESSENGER.post_fixture(client, messenger_channel, "text")
    conversation = Conversation.objects.get()
    ours = MessageFactory(
        conversation=conversation, direction="out", status="sent", body="Thanks for writing!"
    )

    MESSENGER.post_fixture(client, messenger_channel, "echo_ours")
    payload = MESSENGER.fixture_json("echo_ours")
    del first_item(payload)["message"]["metadata"]
    first_item(payload)["message"]["mid"] = "m_ours_known"
    ours.external_id = "m_ours_known"
    ours.save()
    MESSENGER.post_payload(client, messenger_channel, payload)

    assert list(Message.objects.filter(direction="out")) == [ours]


@pytest.mark.parametrize("status", ["queued", "sending"])
def test_an_echo_of_a_reply_still_being_sent_is_not_a_second_copy(
    client, messenger_channel, status
):
    MESSENGER.post_fixture(client, messenger_channel, "text")
    ours = MessageFactory(
        conversation=Conversation.objects.get(),
        direction="out",
        status=status,
        body="Yes, we have it in green too.",
    )

    MESSENGER.post_fixture(client, messenger_channel, "echo_business_suite")

    assert list(Message.objects.filter(direction="out")) == [ours]


# Delivery and reading, by watermark


def _our_reply(conversation, mid: str, sent_at: datetime, status: str = "sent") -> Message:
    return MessageFactory(
        conversation=conversation, direction="out", status=status, external_id=mid, sent_at=sent_at
    )


def test_delivery_and_read_watermarks_move_our_messages_forward(client, messenger_channel):
    MESSENGER.post_fixture(client, messenger_channel, "text")
    conversation = Conversation.objects.get()
    early = _our_reply(conversation, "m_ours1", datetime(2026, 12, 7, 8, 1, tzinfo=UTC))
    named = _our_reply(conversation, "m_named", datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    late = _our_reply(conversation, "m_late", datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    delivery = MESSENGER.fixture_json("delivery")
    first_item(delivery)["delivery"]["mids"] = ["m_named"]

    MESSENGER.post_payload(client, messenger_channel, delivery)

    statuses = {m.external_id: m.status for m in Message.objects.filter(direction="out")}
    assert statuses == {"m_ours1": "delivered", "m_named": "delivered", "m_late": "sent"}

    MESSENGER.post_fixture(client, messenger_channel, "read")

    for message in (early, named, late):
        message.refresh_from_db()
    assert (early.status, named.status, late.status) == ("read", "delivered", "sent")


def test_a_watermark_never_moves_a_message_back(client, messenger_channel):
    MESSENGER.post_fixture(client, messenger_channel, "text")
    read = _our_reply(
        Conversation.objects.get(), "m_ours1", datetime(2026, 12, 7, 8, 1, tzinfo=UTC), "read"
    )

    MESSENGER.post_fixture(client, messenger_channel, "delivery")

    read.refresh_from_db()
    assert read.status == MessageStatus.READ


# Refused requests


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "sha256=" + "0" * 64,
        sign(MESSENGER.fixture_bytes("text"), "another-app-secret"),
        "sha1=" + "0" * 40,
    ],
)
def test_a_wrong_signature_is_refused_and_nothing_is_stored(client, messenger_channel, signature):
    response = MESSENGER.post(
        client, messenger_channel, MESSENGER.fixture_bytes("text"), signature=signature
    )

    assert response.status_code in (401, 403)
    assert stored_counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    "body",
    [b"{not json", MESSENGER.fixture_bytes("text")[:-40], b"[]", b'{"object": "page", "entry": 5}'],
)
def test_a_malformed_or_truncated_body_is_answered_400(client, messenger_channel, body):
    response = MESSENGER.post(client, messenger_channel, body)

    assert response.status_code == 400
    assert response.json()["error"] == "malformed"
    assert stored_counts()[:3] == (0, 0, 0)


def test_a_millisecond_time_past_the_year_2200_is_malformed(client, messenger_channel):
    payload = MESSENGER.fixture_json("text")
    first_item(payload)["timestamp"] = 10**15

    response = MESSENGER.post(client, messenger_channel, json.dumps(payload).encode())

    assert response.status_code == 400
    assert "timestamp" in response.json()["detail"]


# The handshake


def test_the_handshake_echoes_the_challenge_for_the_right_verify_token(client, messenger_channel):
    response = client.get(
        f"/webhooks/messenger/{messenger_channel.public_id}/",
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )

    assert (response.status_code, response.content) == (200, b"1158201444")


def test_the_handshake_is_refused_with_another_verify_token(client, messenger_channel):
    response = client.get(
        f"/webhooks/messenger/{messenger_channel.public_id}/",
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"},
    )

    assert response.status_code == 403
