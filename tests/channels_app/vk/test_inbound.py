"""VK Callback API events through the real webhook URL: the confirmation, every kind of
message, edits, reachability, duplicates, secrets and malformed bodies."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_app.models import WebhookEvent, WebhookEventStatus
from customers.models import Identity
from inbox.models import Message
from tests.channels_app.vk.helpers import (
    CONFIRMATION_CODE,
    FIXTURES,
    MARIA_ID,
    event,
    event_body,
    post_event,
)
from tests.helpers import stored_counts

pytestmark = pytest.mark.django_db


def assert_ok(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"ok"


# The confirmation


def test_the_confirmation_is_answered_with_the_code_as_plain_text(client, vk_channel):
    response = post_event(client, vk_channel, event_body("confirmation"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == CONFIRMATION_CODE.encode()
    assert stored_counts() == (0, 0, 0, 0)


def test_a_confirmation_for_another_community_is_refused(client, vk_channel):
    response = post_event(client, vk_channel, {"type": "confirmation", "group_id": 1})

    assert response.status_code == 403
    assert CONFIRMATION_CODE not in response.content.decode()
    assert stored_counts() == (0, 0, 0, 0)


# Messages


def test_a_text_message_creates_customer_conversation_and_message(client, vk_channel, team):
    response = post_event(client, vk_channel, event_body("message_new_text"))

    assert_ok(response)
    message = Message.objects.get()
    assert message.body == "Здравствуйте! Заказ №4521 задерживается"
    assert message.direction == "in"
    assert message.external_id == "301"
    conversation = message.conversation
    assert (conversation.channel, conversation.recipient_address) == (vk_channel, MARIA_ID)
    assert conversation.team == team
    customer = conversation.customer
    assert list(customer.identities.values_list("kind", "value")) == [("vk", MARIA_ID)]
    # VK's lang_id 0 is Russian.
    assert customer.language == "ru"


def test_what_the_customers_app_can_show_is_kept_on_their_identity(client, vk_channel):
    post_event(client, vk_channel, event_body("message_new_text"))

    assert Identity.objects.get(kind="vk", value=MARIA_ID).client_info == {
        "button_actions": sorted(
            [
                "text",
                "vkpay",
                "open_app",
                "location",
                "open_link",
                "callback",
                "intent_subscribe",
                "intent_unsubscribe",
            ]
        ),
        "keyboard": True,
        "inline_keyboard": True,
        "carousel": True,
        "lang_id": 0,
    }


def test_a_message_from_another_app_updates_it_and_one_without_keeps_it(client, vk_channel):
    post_event(client, vk_channel, event_body("message_new_text"))
    older_app = event("message_new_text")
    older_app["event_id"] = "older-app"
    older_app["object"]["message"]["id"] = 302
    older_app["object"]["client_info"] = {"keyboard": True, "lang_id": 0}
    post_event(client, vk_channel, older_app)
    identity = Identity.objects.get(kind="vk")
    assert (identity.client_info["keyboard"], identity.client_info["inline_keyboard"]) == (
        True,
        False,
    )
    silent = event("message_new_text")
    silent["event_id"] = "no-client-info"
    silent["object"]["message"]["id"] = 303
    del silent["object"]["client_info"]

    post_event(client, vk_channel, silent)

    assert Message.objects.count() == 3
    identity.refresh_from_db()
    assert identity.client_info == {
        "button_actions": [],
        "keyboard": True,
        "inline_keyboard": False,
        "carousel": False,
        "lang_id": 0,
    }


@pytest.mark.parametrize(
    ("fixture", "body", "files"),
    [
        (
            "message_new_photo",
            "Коробка пришла помятой",
            [("photo.jpg", "image/jpeg", "https://sun9-1.userapi.com/impg/box-w.jpg")],
        ),
        (
            "message_new_doc",
            "Счёт во вложении",
            [
                (
                    "invoice-4521.pdf",
                    "application/octet-stream",
                    "https://vk.com/doc512345678_671234501?hash=9a8b7c&dl=GE3TE:1765094403:abc&api=1",
                )
            ],
        ),
        (
            "message_new_audio_message",
            "",
            [("voice.mp3", "audio/mpeg", "https://psv4.userapi.com/voice/a1.mp3")],
        ),
        (
            "message_new_sticker",
            "",
            [("sticker.png", "image/png", "https://vk.com/sticker/1-9014-512")],
        ),
    ],
)
def test_files_become_attachments_at_their_vk_address(client, vk_channel, fixture, body, files):
    assert_ok(post_event(client, vk_channel, event_body(fixture)))

    message = Message.objects.get()
    assert message.body == body
    assert [
        (item.filename, item.content_type, item.remote_url) for item in message.attachments.all()
    ] == files


@pytest.mark.parametrize(
    ("fixture", "body"),
    [
        (
            "message_new_geo",
            "📍 Москва, Россия\nhttps://www.openstreetmap.org/?mlat=55.751244&mlon=37.618423"
            "#map=17/55.751244/37.618423",
        ),
        (
            "message_new_link",
            "Вот этот чайник\n🔗 Чайник 2000\nhttps://shop.example.com/kettle-2000",
        ),
        (
            "message_new_wall",
            "📝 https://vk.com/wall-218000001_1290\nСкидки до 30% на все чайники до конца недели!",
        ),
        ("message_new_video", "🎬 Как гремит чайник\nhttps://vk.com/video512345678_456239017"),
        (
            "message_new_forwarded",
            "> Заказ передан в доставку\nВот что мне ответили раньше\n"
            "> Привет! Чайник так и не пришёл?",
        ),
    ],
)
def test_places_links_posts_videos_and_quotes_are_shown_as_text(client, vk_channel, fixture, body):
    assert_ok(post_event(client, vk_channel, event_body(fixture)))

    assert Message.objects.get().body == body


@pytest.mark.parametrize("fixture", ["message_new_chat", "message_reply", "group_join"])
def test_group_chats_our_own_messages_and_other_events_are_acknowledged_and_ignored(
    client, vk_channel, fixture
):
    assert_ok(post_event(client, vk_channel, event_body(fixture)))

    assert Message.objects.count() == 0


def test_a_duplicate_event_is_answered_ok_and_changes_nothing(client, vk_channel):
    assert_ok(post_event(client, vk_channel, event_body("message_new_text")))
    before = stored_counts()

    assert_ok(post_event(client, vk_channel, event_body("message_new_text")))

    assert stored_counts() == before


def test_the_same_message_in_a_new_event_is_stored_once(client, vk_channel):
    first = event("message_new_text")
    again = {**first, "event_id": "f" * 40}
    assert_ok(post_event(client, vk_channel, first))

    assert_ok(post_event(client, vk_channel, again))

    assert Message.objects.count() == 1


def test_an_edit_changes_the_stored_message(client, vk_channel):
    post_event(client, vk_channel, event_body("message_new_text"))

    assert_ok(post_event(client, vk_channel, event_body("message_edit")))

    assert Message.objects.get().body == "Здравствуйте! Заказ №4521 задерживается уже неделю"


def test_message_deny_and_allow_set_whether_the_customer_can_be_written_to(client, vk_channel):
    post_event(client, vk_channel, event_body("message_new_text"))

    assert_ok(post_event(client, vk_channel, event_body("message_deny")))
    assert Identity.objects.get(kind="vk").is_reachable is False

    assert_ok(post_event(client, vk_channel, event_body("message_allow")))
    assert Identity.objects.get(kind="vk").is_reachable is True


# Refused and malformed


@pytest.mark.parametrize("secret", ["wrong", "", None])
def test_a_wrong_or_missing_secret_is_refused_and_nothing_stored(client, vk_channel, secret):
    payload = event("message_new_text")
    if secret is None:
        del payload["secret"]
    else:
        payload["secret"] = secret

    response = post_event(client, vk_channel, payload)

    assert response.status_code == 403
    assert stored_counts() == (0, 0, 0, 0)


def test_an_event_for_another_community_is_refused(client, vk_channel):
    response = post_event(client, vk_channel, {**event("message_new_text"), "group_id": 1})

    assert response.status_code == 403
    assert stored_counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        event_body("message_new_text")[:40],
        b"[]",
        json.dumps({**event("message_new_text"), "object": {"message": {"id": "x"}}}).encode(),
    ],
)
def test_malformed_and_truncated_bodies_are_answered_400(client, vk_channel, body):
    response = post_event(client, vk_channel, body)

    # What VK (or whoever sent it) receives: a JSON error, not `ok`.
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "malformed"
    assert Message.objects.count() == 0


@pytest.mark.parametrize("body", [b"{not json", event_body("message_new_text")[:40], b"[]"])
def test_a_body_whose_secret_cannot_be_read_stores_nothing(client, vk_channel, body):
    assert post_event(client, vk_channel, body).status_code == 400

    assert stored_counts() == (0, 0, 0, 0)


def test_a_signed_event_that_cannot_be_read_is_kept_for_processing_again(client, vk_channel):
    unreadable = {**event("message_new_text"), "object": {"message": {"id": "x"}}}

    assert post_event(client, vk_channel, unreadable).status_code == 400

    [kept] = WebhookEvent.objects.all()
    assert kept.status == WebhookEventStatus.FAILED
    assert stored_counts()[:3] == (0, 0, 0)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    payload=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=10), children, max_size=4)
        ),
        max_leaves=20,
    ),
    kind=st.sampled_from(
        ["message_new", "message_edit", "message_event", "message_allow", "message_deny"]
    ),
)
def test_no_payload_answers_500(client, vk_channel, payload, kind):
    body = {**event("message_new_text"), "type": kind, "object": payload}

    response = post_event(client, vk_channel, body)

    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.content == b"ok"


def everything_stored() -> tuple:
    """What a customer or an operator could see change: the counts, each message's text and
    edit, each identity's reachability and what its app shows."""
    return (
        stored_counts(),
        sorted(Message.objects.values_list("external_id", "body", "edited_at")),
        sorted(Identity.objects.values_list("kind", "value", "is_reachable", "client_info")),
    )


EVERY_EVENT = sorted(path.stem for path in FIXTURES.glob("*.json") if path.stem != "confirmation")


@pytest.mark.parametrize("fixture", EVERY_EVENT)
def test_every_event_kind_delivered_twice_is_answered_ok_and_applied_once(
    client, vk_channel, fixture
):
    # A customer who wrote before, so that edits and reachability have someone to change.
    first = event("message_new_text")
    first.update(event_id="earlier")
    first["object"]["message"]["id"] = 300
    assert_ok(post_event(client, vk_channel, first))
    assert_ok(post_event(client, vk_channel, event_body(fixture)))
    after_first = everything_stored()

    assert_ok(post_event(client, vk_channel, event_body(fixture)))

    assert everything_stored() == after_first
