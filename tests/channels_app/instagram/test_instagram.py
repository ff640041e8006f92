"""An Instagram account's webhooks in and replies out: stories, shares, files, echoes,
reads; text and images to a fake Send API, with the windows and errors."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from customers.models import Identity
from inbox.models import Conversation, Message, MessageStatus
from inbox.services import message_reply
from tests.channels_app.meta_messaging import (
    INSTAGRAM,
    NOW,
    VERIFY_TOKEN,
    customer_wrote,
    delivered,
)
from tests.factories import MessageFactory
from tests.failure_reasons import reason_text
from tests.fakes.meta_messaging import (
    INSTAGRAM_ACCESS_TOKEN,
    INSTAGRAM_ACCOUNT_ID,
    USER_RATE_LIMITED,
    USER_UNAVAILABLE,
    GraphError,
)
from tests.helpers import message_as_read, stored_counts

pytestmark = pytest.mark.django_db

IGSID = "1254459154682919"
OUTSIDE_INSTAGRAM_WINDOW = GraphError(
    400, 10, "(#10) This message is sent outside of allowed window.", error_subcode=2534022,
    product=None,
)  # fmt: skip


# Inbound


def test_a_text_message_opens_a_conversation_with_the_igsid_as_identity(client, instagram_channel):
    INSTAGRAM.post_fixture(client, instagram_channel, "text")

    message = Message.objects.get()
    assert message.body == "Do you ship to Gdańsk?"
    assert message.conversation.recipient_address == IGSID
    assert list(message.conversation.customer.identities.values_list("kind", "value")) == [
        ("instagram", IGSID)
    ]


def test_an_image_keeps_its_cdn_link_to_fetch(client, instagram_channel):
    INSTAGRAM.post_fixture(client, instagram_channel, "image")

    [attachment] = Message.objects.get().attachments.all()
    assert attachment.media_id.startswith("https://lookaside.fbsbx.com/ig_messaging_cdn/")


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "story_reply",
            "Replied to your story (the link expires with the story): "
            "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17893498510160935"
            "&signature=Ab1",
        ),
        (
            "story_mention",
            "Mentioned you in their story (the link expires with the story): "
            "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17981246234619423"
            "&signature=Ab2",
        ),
        ("share", "Shared a post: https://www.instagram.com/p/C9kL2mNsQxE/"),
    ],
)
def test_stories_and_shares_say_what_they_are(client, instagram_channel, fixture, expected):
    INSTAGRAM.post_fixture(client, instagram_channel, fixture)

    message = Message.objects.get()
    assert expected in message_as_read(message).splitlines()
    assert not message.attachments.exists()


def test_a_button_tap_is_a_message_with_the_buttons_title(client, instagram_channel):
    INSTAGRAM.post_fixture(client, instagram_channel, "postback")

    message = Message.objects.get()
    assert (message.body, message.external_id) == ("Track my order", "aWdfpostback1")


def test_the_inbox_shows_the_channels_icon_and_name(client, instagram_channel, operator):
    INSTAGRAM.post_fixture(client, instagram_channel, "text")
    client.force_login(operator)

    page = client.get("/").content.decode()
    pane = client.get(f"/inbox/conversations/{Conversation.objects.get().pk}/").json()

    assert '"instagram": "Instagram"' in page
    assert '"messenger": "Facebook Messenger"' in page
    assert (
        '<span class="channel-tag channel-instagram"><span class="channel-icon" '
        'aria-hidden="true"></span>@lumen.home</span>'
    ) in pane["header_html"]


def test_a_story_mention_is_never_downloaded(client, instagram_channel):
    INSTAGRAM.post_fixture(client, instagram_channel, "story_mention")

    assert not Message.objects.get().attachments.exists()


def test_an_echo_from_instagrams_own_app_is_an_outgoing_message(client, instagram_channel):
    INSTAGRAM.post_fixture(client, instagram_channel, "text")

    INSTAGRAM.post_fixture(client, instagram_channel, "echo")
    INSTAGRAM.post_fixture(client, instagram_channel, "echo")

    [echo] = Message.objects.filter(direction="out")
    assert (echo.body, echo.status, echo.author, echo.sent_from) == (
        "Yes, we ship to Poland.",
        "sent",
        None,
        "Instagram",
    )


def test_read_names_the_message_read(client, instagram_channel):
    INSTAGRAM.post_fixture(client, instagram_channel, "text")
    conversation = Conversation.objects.get()
    ours = MessageFactory(conversation=conversation, direction="out", external_id="aWdfours1")
    Message.objects.filter(pk=ours.pk).update(status=MessageStatus.SENT)

    INSTAGRAM.post_fixture(client, instagram_channel, "read")

    assert Message.objects.get(pk=ours.pk).status == MessageStatus.READ


def test_a_page_envelope_is_not_instagrams(client, instagram_channel):
    payload = INSTAGRAM.fixture_json("text")
    payload["object"] = "page"

    INSTAGRAM.post_payload(client, instagram_channel, payload)

    assert Message.objects.count() == 0


def test_a_wrong_signature_is_refused_and_nothing_is_stored(client, instagram_channel):
    response = INSTAGRAM.post(
        client, instagram_channel, INSTAGRAM.fixture_bytes("text"), signature="sha256=" + "f" * 64
    )

    assert response.status_code == 401
    assert stored_counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    "body",
    [INSTAGRAM.fixture_bytes("text")[:-25], b"{not json", b'{"object": "instagram", "entry": {}}'],
)
def test_a_truncated_or_malformed_body_is_answered_400(client, instagram_channel, body):
    response = INSTAGRAM.post(client, instagram_channel, body)

    assert response.status_code == 400
    assert response.json()["error"] == "malformed"
    assert stored_counts()[:3] == (0, 0, 0)


def test_a_repeated_delivery_is_stored_once(client, instagram_channel):
    INSTAGRAM.post_fixture(client, instagram_channel, "text")
    counts = stored_counts()[:3]

    response = INSTAGRAM.post_fixture(client, instagram_channel, "text")

    assert response.json()["messages"][0]["duplicate"] is True
    assert stored_counts()[:3] == counts


def test_the_handshake_echoes_the_challenge(client, instagram_channel):
    response = client.get(
        f"/webhooks/instagram/{instagram_channel.public_id}/",
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"},
    )

    assert (response.status_code, response.content) == (200, b"42")


# Outbound


def test_a_reply_goes_to_the_accounts_messages_endpoint(
    client, instagram_channel, operator, send_api, frozen_now
):
    conversation = customer_wrote(client, instagram_channel, INSTAGRAM, at=NOW - timedelta(hours=2))

    message = delivered(message_reply(conversation=conversation, author=operator, body="Yes!"))

    [request] = send_api.requests
    assert request.path == f"/v26.0/{INSTAGRAM_ACCOUNT_ID}/messages"
    assert request.headers["authorization"] == f"Bearer {INSTAGRAM_ACCESS_TOKEN}"
    assert request.json()["messaging_type"] == "RESPONSE"
    assert message.status == MessageStatus.SENT


def test_a_long_reply_goes_in_pieces_of_at_most_1000_bytes(
    client, instagram_channel, operator, send_api, frozen_now
):
    conversation = customer_wrote(client, instagram_channel, INSTAGRAM, at=NOW - timedelta(hours=2))
    text = " ".join(["zażółć"] * 150)

    delivered(message_reply(conversation=conversation, author=operator, body=text))

    pieces = [sent["message"]["text"] for sent in send_api.sent_messages]
    assert len(pieces) == 2
    assert all(len(piece.encode()) <= 1000 for piece in pieces)
    assert " ".join(pieces) == text


def test_an_image_goes_by_its_url_and_other_files_are_refused(
    client, instagram_channel, operator, send_api, frozen_now, media_root
):
    conversation = customer_wrote(client, instagram_channel, INSTAGRAM, at=NOW - timedelta(hours=2))
    image = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")
    document = SimpleUploadedFile("terms.pdf", b"%PDF-1.7", "application/pdf")

    sent = delivered(
        message_reply(conversation=conversation, author=operator, body="", files=[image])
    )
    refused = delivered(
        message_reply(conversation=conversation, author=operator, body="", files=[document])
    )

    [request] = send_api.requests
    attachment = request.json()["message"]["attachment"]
    assert attachment["type"] == "image"
    assert attachment["payload"]["url"].startswith("http")
    assert sent.status == MessageStatus.SENT
    assert refused.status == MessageStatus.FAILED
    assert "sends only these kinds of files: image" in reason_text(refused)


def test_after_24_hours_the_reply_fails_at_once(
    client, instagram_channel, operator, send_api, frozen_now
):
    conversation = customer_wrote(
        client, instagram_channel, INSTAGRAM, at=NOW - timedelta(hours=30)
    )

    message = delivered(message_reply(conversation=conversation, author=operator, body="Sorry!"))

    assert message.status == MessageStatus.FAILED
    assert "Outside Instagram's messaging window" in reason_text(message)
    assert send_api.requests == []


@pytest.mark.parametrize(
    ("error", "status", "is_reachable"),
    [
        (USER_RATE_LIMITED, MessageStatus.QUEUED, True),
        (OUTSIDE_INSTAGRAM_WINDOW, MessageStatus.FAILED, True),
        (USER_UNAVAILABLE, MessageStatus.FAILED, False),
    ],
)
def test_instagrams_errors_are_retried_or_final(
    client, instagram_channel, operator, send_api, frozen_now, error, status, is_reachable
):
    conversation = customer_wrote(client, instagram_channel, INSTAGRAM, at=NOW - timedelta(hours=2))
    send_api.fail_next(error, endpoint="messages")

    message = delivered(message_reply(conversation=conversation, author=operator, body="Hi"))

    assert message.status == status
    assert Identity.objects.get(kind="instagram").is_reachable is is_reachable


def test_the_subscribe_command_subscribes_the_account(instagram_channel, send_api):
    call_command("instagram_subscribe", str(instagram_channel.pk))

    [request] = send_api.requests
    assert request.path == "/v26.0/me/subscribed_apps"
    assert "messaging_seen" in request.query["subscribed_fields"].split(",")
