"""The Telegram channel: Updates through the real webhook URL, replies and media against a
fake Bot API server, and registering the webhook."""

import copy
import json
import logging
import uuid
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_app import services
from channels_app.adapters.telegram import outbound as telegram_outbound
from channels_app.contracts import (
    FETCH_MEDIA_TASK,
    DeliveryFailed,
    OutboundAttachment,
    OutboundMessage,
)
from channels_app.models import Channel, WebhookEvent, WebhookEventStatus
from channels_app.registry import adapter_for
from channels_app.services import channel_create, message_deliver
from config.celery import app as celery_app
from customers.models import Customer, Identity, IdentityClaim
from inbox.models import Attachment, Conversation, Message, MessageStatus
from inbox.services import message_reply
from tests.factories import ChannelFactory, IdentityFactory
from tests.fakes.telegram import (
    BOT_BLOCKED,
    CHAT_NOT_FOUND,
    INTERNAL_SERVER_ERROR,
    TOO_MANY_REQUESTS,
    FakeTelegram,
    too_many_requests,
)

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "telegram"
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


def stored_counts() -> tuple[int, int, int, int]:
    return (
        Customer.objects.count(),
        Conversation.objects.count(),
        Message.objects.count(),
        WebhookEvent.objects.count(),
    )


@pytest.fixture
def fake_telegram():
    fake = FakeTelegram(token=BOT_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def telegram_channel(team, fake_telegram):
    channel = channel_create(
        kind="telegram",
        name="Acme bot",
        config={
            "bot_token": BOT_TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
            "api_base_url": fake_telegram.url,
        },
    )
    channel.teams.add(team)
    return channel


@pytest.fixture
def admin_pages(settings):
    # Production settings serve static files from a manifest that tests do not build.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def enqueued_tasks(monkeypatch):
    """Celery tasks sent after commit, recorded instead of reaching a broker."""
    sent: list[tuple[str, list[Any]]] = []
    monkeypatch.setattr(
        celery_app, "send_task", lambda name, args=None, **options: sent.append((name, args))
    )
    return sent


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
        "📍 Location: 52.520008, 13.404954\n"
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
    assert message.body == "👤 Contact: Maria Garcia, 34612345678"
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
    assert message.body == "👤 Contact: Jorge Ruiz, +34 698 765 432"
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


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    paths = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            paths += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            paths += _paths(child, (*prefix, index))
    return paths


@st.composite
def mangled_updates(draw) -> Any:
    """A real Update with one part anywhere in it replaced by any JSON value."""
    payload = update(draw(st.sampled_from(FIXTURE_NAMES)))
    path = draw(st.sampled_from(_paths(payload)))
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


# Replies


@pytest.fixture
def telegram_conversation(client, telegram_channel):
    post_update(client, telegram_channel, update_body("message_text"))
    return Conversation.objects.get()


@pytest.fixture
def queued_reply(telegram_conversation, operator):
    return message_reply(
        conversation=telegram_conversation, author=operator, body="It ships tomorrow."
    )


def test_a_reply_is_sent_with_sendMessage(queued_reply, fake_telegram):
    assert message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=3) is None

    [call] = fake_telegram.calls
    assert call.path == f"/bot{BOT_TOKEN}/sendMessage"
    assert call.params == {"chat_id": MARIA_ID, "text": "It ships tomorrow."}
    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.SENT
    assert queued_reply.external_id == f"{MARIA_ID}:1001"
    assert queued_reply.error == ""


def test_a_rate_limited_reply_is_retried_after_telegrams_retry_after(
    queued_reply, fake_telegram, settings
):
    settings.DELIVERY_RETRY_BASE_SECONDS = 0.1
    fake_telegram.fail_next(TOO_MANY_REQUESTS)

    delay = message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=5)

    assert delay is not None and delay >= 3
    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.QUEUED
    assert "retrying" in queued_reply.error
    assert "Too Many Requests: retry after 3" in queued_reply.error

    assert message_deliver(message_id=queued_reply.pk, attempt=2, max_attempts=5) is None
    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.SENT
    assert len(fake_telegram.calls_to("sendMessage")) == 2


def test_a_server_error_is_retried_then_fails(queued_reply, fake_telegram):
    fake_telegram.fail_next(INTERNAL_SERVER_ERROR, times=2)

    assert message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=2) is not None
    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.QUEUED

    assert message_deliver(message_id=queued_reply.pk, attempt=2, max_attempts=2) is None
    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.FAILED
    assert "Internal Server Error" in queued_reply.error
    assert queued_reply.delivery_attempts == 2


def test_a_blocked_bot_fails_at_once_with_a_clear_reason(queued_reply, fake_telegram):
    fake_telegram.fail_next(BOT_BLOCKED)

    assert message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=5) is None

    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.FAILED
    assert queued_reply.error == (
        "the customer blocked the bot (Telegram: Forbidden: bot was blocked by the user)"
    )
    assert len(fake_telegram.calls) == 1


def test_another_client_error_fails_at_once_with_telegrams_description(queued_reply, fake_telegram):
    fake_telegram.fail_next(CHAT_NOT_FOUND)

    assert message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=5) is None

    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.FAILED
    assert queued_reply.error == "Telegram refused sendMessage: Bad Request: chat not found"


def test_a_wrong_bot_token_fails_at_once(queued_reply, telegram_channel):
    telegram_channel.set_secrets({"bot_token": "999:WRONG", "webhook_secret": WEBHOOK_SECRET})
    telegram_channel.save()

    message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=5)

    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.FAILED
    assert "bot_token" in queued_reply.error
    assert "999:WRONG" not in queued_reply.error


def test_an_unreachable_bot_api_is_retried(queued_reply, telegram_channel):
    telegram_channel.config = {"api_base_url": "http://127.0.0.1:9"}
    telegram_channel.save()

    assert message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=2) is not None
    assert message_deliver(message_id=queued_reply.pk, attempt=2, max_attempts=2) is None

    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.FAILED
    assert queued_reply.error.startswith("Telegram unreachable: ConnectError")
    assert BOT_TOKEN not in queued_reply.error


def test_attachments_go_by_url_with_the_text_as_caption(queued_reply, fake_telegram):
    Attachment.objects.bulk_create(
        [
            Attachment(
                message=queued_reply,
                remote_url="https://cdn.example.com/labels/box.jpg",
                filename="box.jpg",
                content_type="image/jpeg",
                size=2048,
            ),
            Attachment(
                message=queued_reply,
                remote_url="https://cdn.example.com/labels/label.pdf",
                filename="label.pdf",
                content_type="application/pdf",
                size=4096,
            ),
        ]
    )

    assert message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=3) is None

    assert [(call.method, call.params) for call in fake_telegram.calls] == [
        (
            "sendPhoto",
            {
                "chat_id": MARIA_ID,
                "photo": "https://cdn.example.com/labels/box.jpg",
                "caption": "It ships tomorrow.",
            },
        ),
        (
            "sendDocument",
            {"chat_id": MARIA_ID, "document": "https://cdn.example.com/labels/label.pdf"},
        ),
    ]
    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.SENT
    assert queued_reply.external_id == f"{MARIA_ID}:1001"


def outbound(text: str, *attachments: OutboundAttachment) -> OutboundMessage:
    return OutboundMessage(
        message_id=1,
        conversation_id=1,
        recipient_address=MARIA_ID,
        text=text,
        attachments=attachments,
    )


def test_a_stored_file_is_sent_by_its_full_public_url(telegram_channel, fake_telegram, settings):
    settings.PUBLIC_BASE_URL = "https://support.example.com"
    attachment = OutboundAttachment(
        filename="a.gif", content_type="image/gif", url="/media/attachments/2025/01/a.gif", size=1
    )

    adapter_for(telegram_channel).send(outbound("", attachment))

    [call] = fake_telegram.calls
    assert call.method == "sendDocument"
    assert call.params["document"] == "https://support.example.com/media/attachments/2025/01/a.gif"
    assert "caption" not in call.params


def test_a_long_text_is_split_into_messages_telegram_accepts(telegram_channel, fake_telegram):
    paragraph = "Your parcel left our warehouse and is on its way. 📦 " * 40
    text = "\n".join([paragraph.strip()] * 5)

    result = adapter_for(telegram_channel).send(outbound(text))

    calls = fake_telegram.calls_to("sendMessage")
    assert len(calls) == 3
    assert all(len(call.params["text"].encode("utf-16-le")) // 2 <= 4096 for call in calls)
    sent_words = " ".join(call.params["text"] for call in calls).split()
    assert sent_words == text.split()
    assert result.external_id == f"{MARIA_ID}:1001"


def test_a_text_too_long_for_a_caption_goes_first_on_its_own(telegram_channel, fake_telegram):
    text = "Details of your return. " * 60
    attachment = OutboundAttachment(
        filename="label.pdf",
        content_type="application/pdf",
        url="https://cdn.example.com/label.pdf",
        size=10,
    )

    adapter_for(telegram_channel).send(outbound(text, attachment))

    assert [call.method for call in fake_telegram.calls] == ["sendMessage", "sendDocument"]
    assert "caption" not in fake_telegram.calls[1].params


def test_a_throttled_later_part_is_waited_for_in_place(
    telegram_channel, fake_telegram, monkeypatch
):
    waits: list[float] = []
    monkeypatch.setattr(telegram_outbound, "_sleep", waits.append)
    fake_telegram.fail_next(too_many_requests(1), method="sendDocument", after=1)
    attachments = [
        OutboundAttachment(
            filename=f"{name}.pdf",
            content_type="application/pdf",
            url=f"https://cdn.example.com/{name}.pdf",
            size=10,
        )
        for name in ("invoice", "label")
    ]

    adapter_for(telegram_channel).send(outbound("Both documents", *attachments))

    assert [call.method for call in fake_telegram.calls] == ["sendDocument"] * 3
    assert waits == [1.0]


def test_a_later_part_throttled_for_long_fails_retryably_saying_so(
    telegram_channel, fake_telegram, monkeypatch
):
    monkeypatch.setattr(telegram_outbound, "_sleep", lambda seconds: None)
    fake_telegram.fail_next(too_many_requests(30), method="sendPhoto")
    photo = OutboundAttachment(
        filename="a.jpg", content_type="image/jpeg", url="https://cdn.example.com/a.jpg", size=1
    )

    with pytest.raises(DeliveryFailed) as failure:
        adapter_for(telegram_channel).send(outbound("Text " * 300, photo))

    assert failure.value.is_retryable and failure.value.retry_after == 30
    assert failure.value.reason.endswith(
        "(the reply went out in part: 1 of its 2 Telegram messages were sent)"
    )
    assert len(fake_telegram.calls_to("sendMessage")) == 1


def test_a_retry_sends_only_the_parts_that_did_not_go_out(
    telegram_conversation, operator, fake_telegram, monkeypatch
):
    monkeypatch.setattr(telegram_outbound, "_sleep", lambda seconds: None)
    first_chunk, second_chunk = "a" * 4000, "b" * 200
    reply = message_reply(
        conversation=telegram_conversation, author=operator, body=f"{first_chunk} {second_chunk}"
    )
    # The second part fails, and again when tried in place.
    fake_telegram.fail_next(INTERNAL_SERVER_ERROR, method="sendMessage", times=2, after=1)

    assert message_deliver(message_id=reply.pk, attempt=1, max_attempts=3) is not None
    reply.refresh_from_db()
    assert reply.status == MessageStatus.QUEUED
    assert "1 of its 2 Telegram messages were sent" in reply.error

    assert message_deliver(message_id=reply.pk, attempt=2, max_attempts=3) is None

    sent_texts = [call.params["text"] for call in fake_telegram.calls_to("sendMessage")]
    assert sent_texts.count(first_chunk) == 1
    assert sent_texts[-1] == second_chunk
    reply.refresh_from_db()
    assert reply.status == MessageStatus.SENT
    # The reply is known by its first Telegram message, sent by the first try.
    assert reply.external_id == f"{MARIA_ID}:1001"


def test_the_bot_token_stays_out_of_logs_and_errors(
    queued_reply, fake_telegram, caplog, telegram_channel
):
    caplog.set_level(logging.DEBUG)
    # Settings keep httpx at WARNING; even when someone lowers it, the token is redacted.
    caplog.set_level(logging.DEBUG, logger="httpx")
    fake_telegram.fail_next(BOT_BLOCKED)

    message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=3)

    assert "HTTP Request: POST" in caplog.text
    assert "/bot<redacted>/sendMessage" in caplog.text
    assert BOT_TOKEN not in caplog.text
    queued_reply.refresh_from_db()
    assert BOT_TOKEN not in queued_reply.error


# Media


def test_a_photo_is_fetched_into_storage_after_commit(
    client,
    telegram_channel,
    fake_telegram,
    enqueued_tasks,
    django_capture_on_commit_callbacks,
    settings,
    tmp_path,
):
    settings.MEDIA_ROOT = tmp_path
    content = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40
    fake_telegram.add_file("AgACAgIAAxkBAAIBLmZ-photo-xl", content, file_path="photos/file_12.jpg")
    with django_capture_on_commit_callbacks(execute=True):
        post_update(client, telegram_channel, update_body("message_photo"))
    attachment = Attachment.objects.get()
    assert enqueued_tasks == [(FETCH_MEDIA_TASK, [attachment.pk])]

    assert (
        services.attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=3)
        is None
    )

    attachment.refresh_from_db()
    assert attachment.file
    assert attachment.file.read() == content
    assert attachment.size == len(content)
    assert (attachment.filename, attachment.content_type) == ("photo.jpg", "image/jpeg")
    assert attachment.fetch_error == ""
    assert [call.method for call in fake_telegram.calls] == ["getFile", "file"]
    assert fake_telegram.calls[0].params == {"file_id": "AgACAgIAAxkBAAIBLmZ-photo-xl"}
    assert fake_telegram.calls[1].path == f"/file/bot{BOT_TOKEN}/photos/file_12.jpg"


@pytest.mark.parametrize(
    ("error", "method"),
    [
        (TOO_MANY_REQUESTS, "getFile"),
        (INTERNAL_SERVER_ERROR, "getFile"),
        (INTERNAL_SERVER_ERROR, "file"),
    ],
)
def test_a_temporary_fetch_failure_is_retried(
    client, telegram_channel, fake_telegram, settings, tmp_path, error, method
):
    settings.MEDIA_ROOT = tmp_path
    fake_telegram.add_file("AwACAgIAAxkBAAIBMmZ-voice", b"OggS voice", file_path="voice/file_3.oga")
    post_update(client, telegram_channel, update_body("message_voice"))
    attachment = Attachment.objects.get()
    fake_telegram.fail_next(error, method=method)

    delay = services.attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=3)

    assert delay is not None
    if error is TOO_MANY_REQUESTS:
        assert delay >= 3
    attachment.refresh_from_db()
    assert not attachment.file
    assert (
        services.attachment_fetch_media(attachment_id=attachment.pk, attempt=2, max_attempts=3)
        is None
    )
    attachment.refresh_from_db()
    assert attachment.file.read() == b"OggS voice"
    assert attachment.size == len(b"OggS voice")


def test_a_file_telegram_does_not_know_fails_for_good(
    client, telegram_channel, fake_telegram, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    post_update(client, telegram_channel, update_body("message_document"))
    attachment = Attachment.objects.get()

    delay = services.attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=3)

    assert delay is None
    attachment.refresh_from_db()
    assert not attachment.file
    assert attachment.fetch_error == "Telegram refused getFile: Bad Request: invalid file_id"
    assert [call.method for call in fake_telegram.calls] == ["getFile"]


# Setting up a channel


def test_an_admin_creates_a_telegram_channel_with_write_only_secrets(admin_client_api):
    response = admin_client_api.post(
        "/api/v1/channels/",
        {
            "kind": "telegram",
            "name": "Acme bot",
            "config": {"bot_token": "7012345678:AAH-secretpart_x", "webhook_secret": "abc_DEF-1"},
        },
        format="json",
    )

    assert response.status_code == 201
    data = response.json()
    channel = Channel.objects.get(pk=data["id"])
    assert data["webhook_url"].endswith(f"/webhooks/telegram/{channel.public_id}/")
    assert data["config"] == {}
    assert data["secrets_set"] == ["bot_token", "webhook_secret"]
    assert "AAH-secretpart_x" not in response.content.decode()
    assert channel.secrets["bot_token"] == "7012345678:AAH-secretpart_x"


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"webhook_secret": "abc"}, "bot_token"),
        ({"bot_token": "123:ABC"}, "webhook_secret"),
        ({"bot_token": "not a token", "webhook_secret": "abc"}, "bot_token"),
        ({"bot_token": "123:ABC", "webhook_secret": "has spaces!"}, "webhook_secret"),
        (
            {"bot_token": "123:ABC", "webhook_secret": "a", "api_base_url": "ftp://x"},
            "api_base_url",
        ),
        ({"bot_token": "123:ABC", "webhook_secret": "a", "api_base_url": 5}, "api_base_url"),
    ],
)
def test_an_invalid_telegram_config_is_refused(admin_client_api, config, field):
    response = admin_client_api.post(
        "/api/v1/channels/", {"kind": "telegram", "name": "Bot", "config": config}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["fields"]["config"]
    assert Channel.objects.count() == 0


def test_the_set_webhook_command_registers_url_secret_and_update_kinds(
    telegram_channel, fake_telegram, settings, client
):
    settings.PUBLIC_BASE_URL = "https://support.example.com"
    out = StringIO()

    call_command("telegram_set_webhook", str(telegram_channel.pk), stdout=out)

    webhook_url = f"https://support.example.com/webhooks/telegram/{telegram_channel.public_id}/"
    assert fake_telegram.webhook == {
        "url": webhook_url,
        "secret_token": WEBHOOK_SECRET,
        "allowed_updates": ALLOWED_UPDATES,
        "drop_pending_updates": False,
    }
    output = out.getvalue()
    assert "Telegram answered: Webhook was set" in output
    assert webhook_url in output
    assert BOT_TOKEN not in output
    # Telegram will now call us with that secret, which the webhook accepts.
    secret = fake_telegram.webhook["secret_token"]
    response = post_update(client, telegram_channel, update_body("message_text"), secret=secret)
    assert response.status_code == 200


def test_the_set_webhook_command_takes_a_public_id_and_can_drop_pending_updates(
    telegram_channel, fake_telegram, settings
):
    settings.PUBLIC_BASE_URL = "https://support.example.com"

    call_command(
        "telegram_set_webhook",
        str(telegram_channel.public_id),
        "--drop-pending-updates",
        stdout=StringIO(),
    )

    assert fake_telegram.webhook["drop_pending_updates"] is True


def test_the_set_webhook_command_reports_telegrams_refusal(telegram_channel, fake_telegram):
    # PUBLIC_BASE_URL is the default http://127.0.0.1:8000: Telegram wants HTTPS.
    with pytest.raises(CommandError, match="An HTTPS URL must be provided for webhook"):
        call_command("telegram_set_webhook", str(telegram_channel.pk), stdout=StringIO())

    assert fake_telegram.webhook == {}


@pytest.mark.parametrize("reference", ["999999", str(uuid.uuid4()), "not-a-channel"])
def test_the_set_webhook_command_refuses_an_unknown_channel(
    telegram_channel, fake_telegram, reference
):
    with pytest.raises(CommandError, match="no channel"):
        call_command("telegram_set_webhook", reference, stdout=StringIO())

    assert fake_telegram.calls == []


def test_the_set_webhook_command_refuses_a_channel_of_another_kind(channel, fake_telegram):
    with pytest.raises(CommandError, match="not a Telegram one"):
        call_command("telegram_set_webhook", str(channel.pk), stdout=StringIO())

    assert fake_telegram.calls == []


def test_the_admin_action_registers_the_webhook(
    admin_pages, client, admin_user, telegram_channel, fake_telegram, settings
):
    settings.PUBLIC_BASE_URL = "https://support.example.com"
    client.force_login(admin_user)

    response = client.post(
        "/admin/channels_app/channel/",
        {"action": "register_telegram_webhook", "_selected_action": [telegram_channel.pk]},
        follow=True,
    )

    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"]]
    assert any("Webhook was set" in message for message in shown)
    assert fake_telegram.webhook["secret_token"] == WEBHOOK_SECRET


def test_the_admin_action_shows_telegrams_refusal(
    admin_pages, client, admin_user, telegram_channel, fake_telegram
):
    client.force_login(admin_user)

    response = client.post(
        "/admin/channels_app/channel/",
        {"action": "register_telegram_webhook", "_selected_action": [telegram_channel.pk]},
        follow=True,
    )

    shown = [str(message) for message in response.context["messages"]]
    assert any("An HTTPS URL must be provided" in message for message in shown)
    assert fake_telegram.webhook == {}


# CSAT


def test_a_csat_survey_is_an_inline_keyboard_whose_press_answers_it(
    client, telegram_channel, fake_telegram, operator, django_capture_on_commit_callbacks
):
    from channels_app.services import csat_survey_send
    from inbox import csat
    from inbox.models import CsatSurvey, SurveyStatus
    from inbox.services import conversation_resolve

    post_update(client, telegram_channel, update_body("message_text"))
    conversation = Message.objects.get().conversation
    message_reply(conversation=conversation, author=operator, body="Sorted!")
    conversation_resolve(conversation=conversation, resolved_by=operator)
    CsatSurvey.objects.update(due_at=timezone.now())
    for survey_id in csat.csat_surveys_queue_due():
        csat_survey_send(survey_id=survey_id)

    survey = CsatSurvey.objects.get()
    assert survey.status == SurveyStatus.SENT
    [question] = [
        call for call in fake_telegram.calls_to("sendMessage") if "reply_markup" in call.params
    ]
    [buttons] = question.params["reply_markup"]["inline_keyboard"]
    assert [button["text"] for button in buttons] == ["1", "2", "3", "4", "5"]
    assert all(len(button["callback_data"].encode()) <= 64 for button in buttons)

    press = update("callback_query")
    press["callback_query"]["id"] = "press-1"
    press["callback_query"]["message"]["message_id"] = 4242
    press["callback_query"]["message"]["reply_markup"] = {"inline_keyboard": [buttons]}
    press["callback_query"]["data"] = buttons[3]["callback_data"]
    with django_capture_on_commit_callbacks(execute=True):
        response = post_update(client, telegram_channel, json.dumps(press).encode())

    assert response.status_code == 200
    survey.refresh_from_db()
    assert (survey.status, survey.rating) == (SurveyStatus.ANSWERED, 4)
    conversation.refresh_from_db()
    assert conversation.status == "resolved"
    [thanks] = fake_telegram.calls_to("editMessageText")
    assert thanks.params["message_id"] == 4242
    assert thanks.params["text"] == "Thank you for your feedback!"
