"""Telegram Updates through the real webhook URL: messages, edits, button presses,
reachability, duplicates, secrets and malformed bodies."""

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_app.models import WebhookEvent, WebhookEventStatus
from channels_app.services import channel_create
from customers.models import Customer, Identity, IdentityClaim
from inbox.models import Attachment, Message
from tests.channels_app.payload_fuzzing import paths_in
from tests.channels_app.telegram.helpers import (
    BOT_TOKEN,
    FIXTURES,
    MARIA_ID,
    WEBHOOK_SECRET,
    post_update,
    update,
    update_body,
)
from tests.factories import ChannelFactory, IdentityFactory
from tests.fakes.telegram import (
    INTERNAL_SERVER_ERROR,
)
from tests.helpers import stored_counts

pytestmark = pytest.mark.django_db


# Inbound messages


def test_a_text_message_creates_customer_conversation_and_message(client, telegram_channel, team):
    response = post_update(client, telegram_channel, update_body("message_text"))

    assert response.status_code == 200
    message = Message.objects.get()
    assert response.json()["messages"] == [
        {"id": message.pk, "conversation_id": message.conversation_id, "duplicate": False}
    ]
    assert message.body == "Hello, my order #4521 is late"
    assert message.direction == "in"
    assert message.external_id == f"{MARIA_ID}:301"
    conversation = message.conversation
    assert conversation.channel == telegram_channel
    assert conversation.recipient_address == MARIA_ID
    assert conversation.team == team
    customer = conversation.customer
    assert customer.name == "Maria Garcia"
    assert list(customer.identities.values_list("kind", "value")) == [("telegram", MARIA_ID)]
    assert WebhookEvent.objects.get().status == WebhookEventStatus.PROCESSED


@pytest.mark.parametrize(
    ("fixture", "media_id", "filename", "content_type", "size", "text"),
    [
        (
            "message_photo",
            "AgACAgIAAxkBAAIBLmZ-photo-xl",
            "photo.jpg",
            "image/jpeg",
            148620,
            "The box arrived damaged",
        ),
        (
            "message_document",
            "BQACAgIAAxkBAAIBMWZ-document",
            "invoice-4521.pdf",
            "application/pdf",
            48213,
            "Here is the invoice",
        ),
        ("message_voice", "AwACAgIAAxkBAAIBMmZ-voice", "voice.ogg", "audio/ogg", 15236, ""),
        (
            "message_audio",
            "CQACAgIAAxkBAAIBM2Z-audio",
            "hold-music.mp3",
            "audio/mpeg",
            2945120,
            "",
        ),
        (
            "message_video",
            "BAACAgIAAxkBAAIBNGZ-video",
            "video.mp4",
            "video/mp4",
            3145728,
            "See how it rattles",
        ),
        (
            "message_video_note",
            "DQACAgIAAxkBAAIBNWZ-videonote",
            "video_note.mp4",
            "video/mp4",
            412345,
            "",
        ),
        ("message_sticker", "CAACAgIAAxkBAAIBNmZ-sticker", "sticker.webp", "image/webp", 23114, ""),
    ],
)
def test_media_become_attachments_to_fetch(
    client, telegram_channel, fixture, media_id, filename, content_type, size, text
):
    response = post_update(client, telegram_channel, update_body(fixture))

    assert response.status_code == 200
    message = Message.objects.get()
    assert message.body == text
    attachment = message.attachments.get()
    assert (
        attachment.media_id,
        attachment.filename,
        attachment.content_type,
        attachment.size,
        attachment.remote_url,
        bool(attachment.file),
    ) == (media_id, filename, content_type, size, "", False)


@pytest.mark.parametrize(
    ("sticker_fields", "filename", "content_type"),
    [
        ({"is_animated": True, "is_video": False}, "sticker.tgs", "application/x-tgsticker"),
        ({"is_animated": False, "is_video": True}, "sticker.webm", "video/webm"),
    ],
)
def test_animated_and_video_stickers_get_their_own_types(
    client, telegram_channel, sticker_fields, filename, content_type
):
    payload = update("message_sticker")
    payload["message"]["sticker"].update(sticker_fields)

    post_update(client, telegram_channel, json.dumps(payload).encode())

    attachment = Attachment.objects.get()
    assert (attachment.filename, attachment.content_type) == (filename, content_type)


def test_a_location_is_shown_as_text_with_a_map_link(client, telegram_channel):
    post_update(client, telegram_channel, update_body("message_location"))

    assert Message.objects.get().body == (
        "📍 52.520008, 13.404954\n"
        "https://www.openstreetmap.org/?mlat=52.520008&mlon=13.404954#map=17/52.520008/13.404954"
    )


def test_a_venue_is_shown_with_its_name_and_address(client, telegram_channel):
    post_update(client, telegram_channel, update_body("message_venue"))

    body = Message.objects.get().body
    assert body.startswith("📍 Eiffel Tower, Champ de Mars, 5 Av. Anatole France, 75007 Paris\n")
    assert "mlat=48.858093&mlon=2.294694" in body


def test_sharing_ones_own_contact_adds_a_verified_phone(client, telegram_channel):
    post_update(client, telegram_channel, update_body("message_contact_own"))

    message = Message.objects.get()
    assert message.body == "👤 Maria Garcia, 34612345678"
    customer = message.conversation.customer
    assert set(customer.identities.values_list("kind", "value")) == {
        ("telegram", MARIA_ID),
        ("phone", "+34612345678"),
    }
    assert customer.phone == "+34612345678"


def test_an_own_contact_links_telegram_to_the_customer_known_by_that_phone(
    client, telegram_channel
):
    # Given Maria already wrote on WhatsApp with that number
    whatsapp_identity = IdentityFactory(kind="phone", value="+34612345678")

    post_update(client, telegram_channel, update_body("message_contact_own"))

    assert Customer.objects.count() == 1
    assert Message.objects.get().conversation.customer == whatsapp_identity.customer
    assert Identity.objects.get(kind="telegram").customer == whatsapp_identity.customer


def test_someone_elses_contact_is_only_shown_never_an_identity(client, telegram_channel):
    other = IdentityFactory(kind="phone", value="+34698765432")

    post_update(client, telegram_channel, update_body("message_contact_other"))

    message = Message.objects.get()
    assert message.body == "👤 Jorge Ruiz, +34 698 765 432"
    customer = message.conversation.customer
    assert customer != other.customer
    assert list(customer.identities.values_list("kind", "value")) == [("telegram", MARIA_ID)]
    assert IdentityClaim.objects.count() == 0
    assert customer.phone == ""


def test_an_edited_message_updates_the_stored_text(client, telegram_channel):
    post_update(client, telegram_channel, update_body("message_text"))

    response = post_update(client, telegram_channel, update_body("edited_message"))

    assert response.status_code == 200
    message = Message.objects.get()
    assert message.body == "Hello, my order #4521 is late (ordered on Monday)"
    assert message.edited_at is not None
    assert message.edited_at.timestamp() == 1735725660


def test_an_edit_of_a_message_we_never_got_stores_nothing(client, telegram_channel):
    response = post_update(client, telegram_channel, update_body("edited_message"))

    assert response.status_code == 200
    assert (Customer.objects.count(), Message.objects.count()) == (0, 0)
    assert WebhookEvent.objects.get().status == WebhookEventStatus.PROCESSED


def test_a_button_press_is_a_message_carrying_the_buttons_data(client, telegram_channel):
    response = post_update(client, telegram_channel, update_body("callback_query"))

    assert response.status_code == 200
    message = Message.objects.get()
    assert message.external_id == "cb:4382bfdwdsb323b2d9"
    # Operators read the pressed button's label, not its data.
    assert message.body == "Excellent"
    assert message.conversation.recipient_address == MARIA_ID
    assert message.conversation.customer.identities.get().value == MARIA_ID


def test_a_button_press_is_answered_after_commit(
    client, telegram_channel, fake_telegram, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_update(client, telegram_channel, update_body("callback_query"))

    assert response.status_code == 200
    [answer] = fake_telegram.calls_to("answerCallbackQuery")
    assert answer.params == {"callback_query_id": "4382bfdwdsb323b2d9"}
    assert answer.path == f"/bot{BOT_TOKEN}/answerCallbackQuery"


def test_a_button_press_is_not_answered_before_commit(client, telegram_channel, fake_telegram):
    post_update(client, telegram_channel, update_body("callback_query"))

    assert fake_telegram.calls_to("answerCallbackQuery") == []


def test_a_failing_callback_answer_does_not_fail_the_webhook(
    client, telegram_channel, fake_telegram, django_capture_on_commit_callbacks
):
    fake_telegram.fail_next(INTERNAL_SERVER_ERROR, method="answerCallbackQuery")

    with django_capture_on_commit_callbacks(execute=True):
        response = post_update(client, telegram_channel, update_body("callback_query"))

    assert response.status_code == 200
    assert len(fake_telegram.calls_to("answerCallbackQuery")) == 1
    assert Message.objects.get().body == "Excellent"


def test_an_unreachable_bot_api_does_not_fail_the_webhook(
    client, telegram_channel, django_capture_on_commit_callbacks
):
    telegram_channel.config = {"api_base_url": "http://127.0.0.1:9"}
    telegram_channel.save()

    with django_capture_on_commit_callbacks(execute=True):
        response = post_update(client, telegram_channel, update_body("callback_query"))

    assert response.status_code == 200
    assert Message.objects.count() == 1


def test_blocking_the_bot_makes_the_identity_unreachable_and_unblocking_reachable(
    client, telegram_channel
):
    post_update(client, telegram_channel, update_body("message_text"))
    identity = Identity.objects.get(kind="telegram")

    post_update(client, telegram_channel, update_body("my_chat_member_kicked"))
    identity.refresh_from_db()
    assert identity.is_reachable is False

    post_update(client, telegram_channel, update_body("my_chat_member_member"))
    identity.refresh_from_db()
    assert identity.is_reachable is True


def test_being_removed_from_a_group_does_not_touch_the_admins_identity(client, telegram_channel):
    post_update(client, telegram_channel, update_body("message_text"))

    response = post_update(client, telegram_channel, update_body("my_chat_member_group_kicked"))

    assert response.status_code == 200
    assert Identity.objects.get(kind="telegram").is_reachable is True
    assert WebhookEvent.objects.latest("id").status == WebhookEventStatus.IGNORED


@pytest.mark.parametrize(
    "fixture",
    ["channel_post", "poll", "inline_query", "chat_join_request", "message_group", "message_dice"],
)
def test_updates_we_do_not_handle_are_acknowledged_and_only_kept_raw(
    client, telegram_channel, fixture
):
    response = post_update(client, telegram_channel, update_body(fixture))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "messages": []}
    assert stored_counts() == (0, 0, 0, 1)
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.IGNORED
    assert bytes(event.body) == update_body(fixture)


# Duplicates, secrets, malformed bodies


def test_the_same_update_again_changes_nothing(client, telegram_channel):
    first = post_update(client, telegram_channel, update_body("message_photo"))
    before = (*stored_counts(), Attachment.objects.count())

    again = post_update(client, telegram_channel, update_body("message_photo"))

    assert again.status_code == 200
    assert again.json()["messages"] == [{**first.json()["messages"][0], "duplicate": True}]
    assert (*stored_counts(), Attachment.objects.count()) == before


def test_the_same_message_in_another_update_is_still_a_duplicate(client, telegram_channel):
    post_update(client, telegram_channel, update_body("message_text"))
    redelivered = update("message_text")
    redelivered["update_id"] += 1000
    redelivered["message"]["text"] = "changed copy"

    response = post_update(client, telegram_channel, json.dumps(redelivered).encode())

    assert response.json()["messages"][0]["duplicate"] is True
    assert list(Message.objects.values_list("body", flat=True)) == ["Hello, my order #4521 is late"]


def test_the_same_message_id_in_another_chat_is_another_message(client, telegram_channel):
    post_update(client, telegram_channel, update_body("message_text"))
    other_chat = update("message_text")
    other_chat["update_id"] += 1
    other_chat["message"]["from"]["id"] = other_chat["message"]["chat"]["id"] = 987654321

    post_update(client, telegram_channel, json.dumps(other_chat).encode())

    assert sorted(Message.objects.values_list("external_id", flat=True)) == [
        f"{MARIA_ID}:301",
        "987654321:301",
    ]
    assert Customer.objects.count() == 2


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", WEBHOOK_SECRET + "x", "wh-secret"])
def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_stored(
    client, telegram_channel, secret
):
    response = post_update(client, telegram_channel, update_body("message_text"), secret=secret)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_signature"
    assert stored_counts() == (0, 0, 0, 0)


def test_another_channels_secret_is_refused(client, telegram_channel, fake_telegram):
    other = channel_create(
        kind="telegram",
        name="Other bot",
        config={"bot_token": "456:DEF", "webhook_secret": "other-secret"},
    )

    response = post_update(
        client, telegram_channel, update_body("message_text"), secret="other-secret"
    )

    assert response.status_code == 401
    assert post_update(client, other, update_body("message_text")).status_code == 401
    assert stored_counts() == (0, 0, 0, 0)


def test_a_telegram_update_on_an_api_channel_url_is_not_found(client, telegram_channel):
    api_channel = ChannelFactory()

    response = client.post(
        f"/webhooks/telegram/{api_channel.public_id}/",
        data=update_body("message_text"),
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=WEBHOOK_SECRET,
    )

    assert response.status_code == 404
    assert stored_counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (update_body("message_text")[:-40], "not valid JSON"),
        (b"", "not valid JSON"),
        (b"\xff\xfe garbage", "not valid JSON"),
        (b"[1, 2, 3]", "JSON object"),
        (b'"update"', "JSON object"),
        (b'{"message": {"message_id": 1}}', "update.update_id is missing"),
        (b'{"update_id": "873000001"}', "update.update_id must be"),
        (b'{"update_id": true}', "update.update_id must be"),
        (b'{"update_id": 1, "message": "hi"}', "update.message must be an object"),
        (b'{"update_id": 1, "message": {"message_id": 1, "text": "hi"}}', "message.chat"),
        (
            b'{"update_id": 1, "message": {"message_id": 1, "chat": {"id": "x", "type": "private"}'
            b', "from": {"id": 5}, "text": "hi"}}',
            "update.message.chat.id",
        ),
        (
            b'{"update_id": 1, "message": {"message_id": 1, "chat": {"id": 5, "type": "private"}'
            b', "from": {"id": 5}, "text": 42}}',
            "update.message.text",
        ),
        (
            b'{"update_id": 1, "message": {"message_id": 1, "chat": {"id": 5, "type": "private"}'
            b', "from": {"id": 5}, "photo": [{"width": 1, "height": 1}]}}',
            "file_id",
        ),
        (
            b'{"update_id": 1, "callback_query": {"from": {"id": 5}, "data": "x"}}',
            "callback_query.id",
        ),
    ],
)
def test_a_malformed_update_gets_400_with_a_json_error(client, telegram_channel, body, complaint):
    response = post_update(client, telegram_channel, body)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "malformed"
    assert complaint in response.json()["detail"]
    assert (Customer.objects.count(), Message.objects.count()) == (0, 0)


TELEGRAM_KEYS = [
    "update_id",
    "message",
    "edited_message",
    "callback_query",
    "my_chat_member",
    "channel_post",
    "message_id",
    "from",
    "chat",
    "id",
    "type",
    "first_name",
    "last_name",
    "date",
    "edit_date",
    "text",
    "caption",
    "photo",
    "document",
    "voice",
    "sticker",
    "file_id",
    "file_size",
    "file_name",
    "mime_type",
    "width",
    "height",
    "location",
    "venue",
    "latitude",
    "longitude",
    "contact",
    "phone_number",
    "user_id",
    "data",
    "new_chat_member",
    "status",
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["private", "group", "kicked", "member", MARIA_ID]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(TELEGRAM_KEYS), children, max_size=6)
    ),
    max_leaves=16,
)
FIXTURE_NAMES = sorted(path.stem for path in FIXTURES.glob("*.json"))


@st.composite
def mangled_updates(draw) -> Any:
    """A real Update with one part anywhere in it replaced by any JSON value."""
    payload = update(draw(st.sampled_from(FIXTURE_NAMES)))
    path = draw(st.sampled_from(paths_in(payload)))
    replacement = draw(json_values)
    if not path:
        return replacement
    mangled = copy.deepcopy(payload)
    target = mangled
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = replacement
    return mangled


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    payload=json_values
    | st.fixed_dictionaries({"update_id": st.integers()}, optional={"message": json_values})
    | mangled_updates()
)
def test_no_json_with_the_right_secret_makes_the_webhook_answer_500(
    client, telegram_channel, payload
):
    response = post_update(client, telegram_channel, json.dumps(payload).encode())

    assert response.status_code in (200, 400)
    assert "error" in response.json() or response.json()["status"] == "ok"
