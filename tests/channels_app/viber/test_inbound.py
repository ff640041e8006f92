"""Viber callbacks through the real webhook URL: every kind of message, subscriptions,
delivery statuses, duplicates, signatures and malformed bodies."""

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_app.services import message_deliver
from customers.models import Customer, Identity
from inbox.models import Conversation, Message, MessageStatus
from inbox.services import message_reply
from tests.channels_app.viber.helpers import (
    FIXTURES,
    MARIA_ID,
    callback,
    callback_body,
    post_callback,
    viber_signature,
)
from tests.failure_reasons import reason_text
from tests.helpers import stored_counts

pytestmark = pytest.mark.django_db


def test_viber_checking_the_address_is_answered_200_and_opens_nothing(client, viber_channel):
    response = post_callback(client, viber_channel, callback_body("webhook"))

    assert response.status_code == 200
    assert Message.objects.count() == 0


def test_a_text_message_creates_customer_conversation_and_message(client, viber_channel, team):
    response = post_callback(client, viber_channel, callback_body("message_text"))

    assert response.status_code == 200
    message = Message.objects.get()
    assert message.body == "Dzień dobry, zamówienie 4521 się spóźnia"
    assert message.external_id == "4912661846655238101"
    conversation = message.conversation
    assert (conversation.recipient_address, conversation.team) == (MARIA_ID, team)
    customer = conversation.customer
    assert customer.name == "Мария Иванова"
    assert list(customer.identities.values_list("kind", "value")) == [("viber", MARIA_ID)]
    # sender.language "pl" is the customer's language.
    assert customer.language == "pl"


AVATAR = "https://media-direct.cdn.viber.com/download_photo?dlid=abc&fltp=jpg&imsz=0000"


def test_the_senders_avatar_is_kept_on_their_identity_and_shown_in_their_profile(
    client, viber_channel, supervisor, supervisor_client, settings
):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    post_callback(client, viber_channel, callback_body("message_text"))

    customer = Customer.objects.get()
    assert customer.identities.get(kind="viber").avatar_url == AVATAR
    profile = supervisor_client.get(f"/api/v1/customers/{customer.pk}/").json()
    assert profile["identities"][0]["avatar_url"] == AVATAR
    browser = Client()
    browser.force_login(supervisor)
    pane = browser.get(f"/inbox/conversations/{Conversation.objects.get().pk}/").json()
    assert f'src="{AVATAR.replace("&", "&amp;")}"' in pane["profile_html"]


def test_a_new_avatar_replaces_the_old_and_a_message_without_one_keeps_it(client, viber_channel):
    post_callback(client, viber_channel, callback_body("message_text"))
    changed = callback("message_text")
    changed["message_token"] += 1
    changed["sender"]["avatar"] = "https://media-direct.cdn.viber.com/download_photo?dlid=new"
    post_callback(client, viber_channel, changed)
    without = callback("message_text")
    without["message_token"] += 2
    del without["sender"]["avatar"]

    post_callback(client, viber_channel, without)

    assert Message.objects.count() == 3
    assert Identity.objects.get(kind="viber").avatar_url.endswith("dlid=new")


@pytest.mark.parametrize(
    "avatar", ["javascript:alert(1)", "https://x.example/" + "a" * 3000, 42, {"url": "x"}]
)
def test_an_odd_avatar_is_left_out_and_the_message_kept(client, viber_channel, avatar):
    odd = callback("message_text")
    odd["sender"]["avatar"] = avatar

    assert post_callback(client, viber_channel, odd).status_code == 200

    assert Message.objects.count() == 1
    assert Identity.objects.get(kind="viber").avatar_url == ""


@pytest.mark.parametrize(
    ("fixture", "body", "files"),
    [
        (
            "message_picture",
            "Pudełko przyszło zgniecione",
            [
                (
                    "box.jpg",
                    "image/jpeg",
                    "https://dl-media.viber.com/10/share/2/long/vibes/icon/image/0x0/95e0/"
                    "5688fdffdaa81a0a2b10f0b2f4fd9d4c0e95e06c.jpg",
                )
            ],
        ),
        (
            "message_video",
            "",
            [("video.mp4", "video/mp4", "https://dl-media.viber.com/video/kettle.mp4")],
        ),
        (
            "message_file",
            "",
            [
                (
                    "faktura-4521.pdf",
                    "application/octet-stream",
                    "https://dl-media.viber.com/file/invoice-4521.pdf",
                )
            ],
        ),
        (
            "message_sticker",
            "",
            [("sticker.png", "image/png", "https://viber.com/sticker/46105.png")],
        ),
    ],
)
def test_files_become_attachments_at_their_viber_address(
    client, viber_channel, fixture, body, files
):
    assert post_callback(client, viber_channel, callback_body(fixture)).status_code == 200

    message = Message.objects.get()
    assert message.body == body
    assert [
        (item.filename, item.content_type, item.remote_url) for item in message.attachments.all()
    ] == files


@pytest.mark.parametrize(
    ("fixture", "body"),
    [
        (
            "message_location",
            "📍 52.2297, 21.0122\nhttps://www.openstreetmap.org/?mlat=52.2297&mlon=21.0122"
            "#map=17/52.2297/21.0122",
        ),
        ("message_url", "🔗 https://shop.example.com/czajnik-2000"),
        ("message_rich_media", "Czajnik 2000 — 199 zł"),
        ("message_contact", "👤 Jan Kowalski, +48601234567"),
    ],
)
def test_places_links_cards_and_contacts_are_shown_as_text(client, viber_channel, fixture, body):
    post_callback(client, viber_channel, callback_body(fixture))

    assert Message.objects.get().body == body


def test_a_shared_contact_is_never_taken_as_the_senders_phone(client, viber_channel):
    post_callback(client, viber_channel, callback_body("message_contact"))

    assert list(Identity.objects.values_list("kind", flat=True)) == ["viber"]


def test_a_conversation_started_opens_no_conversation(client, viber_channel):
    response = post_callback(client, viber_channel, callback_body("conversation_started"))

    assert response.status_code == 200
    assert (Conversation.objects.count(), Message.objects.count()) == (0, 0)


def test_unsubscribed_and_subscribed_set_whether_the_customer_can_be_written_to(
    client, viber_channel
):
    post_callback(client, viber_channel, callback_body("message_text"))

    post_callback(client, viber_channel, callback_body("unsubscribed"))
    assert Identity.objects.get(kind="viber").is_reachable is False

    post_callback(client, viber_channel, callback_body("subscribed"))
    assert Identity.objects.get(kind="viber").is_reachable is True


@pytest.mark.parametrize(
    ("fixture", "status", "error"),
    [
        ("delivered", MessageStatus.DELIVERED, ""),
        ("seen", MessageStatus.READ, ""),
        (
            "failed",
            MessageStatus.FAILED,
            "Viber could not deliver the message. "
            "The platform said: failed message to user because of client error",
        ),
    ],
)
def test_delivery_statuses_update_our_message_by_its_token(
    client, viber_channel, fake_viber, operator, fixture, status, error
):
    post_callback(client, viber_channel, callback_body("message_text"))
    reply = message_reply(
        conversation=Conversation.objects.get(), author=operator, body="Wysyłamy jutro."
    )
    message_deliver(message_id=reply.pk, attempt=1, max_attempts=3)

    assert post_callback(client, viber_channel, callback_body(fixture)).status_code == 200

    reply.refresh_from_db()
    assert reply.external_id == "5098034272017990001"
    assert (reply.status, reason_text(reply)) == (status, error)


def test_a_duplicate_callback_changes_nothing(client, viber_channel):
    post_callback(client, viber_channel, callback_body("message_text"))
    before = stored_counts()

    response = post_callback(client, viber_channel, callback_body("message_text"))

    assert response.status_code == 200
    assert response.json()["messages"][0]["duplicate"] is True
    assert stored_counts() == before


@pytest.mark.parametrize(
    ("signature", "status"),
    [(None, 401), ("0" * 64, 403), (viber_signature(b"another body"), 403)],
)
def test_a_missing_or_wrong_signature_is_refused_and_nothing_stored(
    client, viber_channel, signature, status
):
    response = post_callback(
        client, viber_channel, callback_body("message_text"), signature=signature
    )

    assert response.status_code == status
    assert stored_counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        callback_body("message_text")[:50],
        b"[]",
        json.dumps({**callback("message_text"), "sender": {"name": "no id"}}).encode(),
    ],
)
def test_malformed_and_truncated_bodies_are_answered_400(client, viber_channel, body):
    response = post_callback(client, viber_channel, body)

    assert response.status_code == 400
    assert Message.objects.count() == 0


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
    event=st.sampled_from(["message", "delivered", "seen", "failed", "subscribed", "unsubscribed"]),
    key=st.sampled_from(["message", "sender", "user", "message_token", "user_id", "timestamp"]),
)
def test_no_payload_answers_500(client, viber_channel, payload, event, key):
    body = {**callback("message_text"), "event": event, key: payload}

    response = post_callback(client, viber_channel, body)

    assert response.status_code in (200, 400)


def test_a_customer_who_opens_the_chat_gets_the_welcome_message_in_their_language(
    client, viber_channel
):
    viber_channel.config = {
        **viber_channel.config,
        "welcome_message": {"en": "Hi! How can we help?", "pl": "Cześć! Jak możemy pomóc?"},
    }
    viber_channel.save()

    response = post_callback(client, viber_channel, callback_body("conversation_started"))

    assert response.status_code == 200
    assert response.json() == {
        "sender": {"name": "Acme"},
        "type": "text",
        "text": "Cześć! Jak możemy pomóc?",
    }
    assert stored_counts() == (0, 0, 0, 0)


def test_the_welcome_message_comes_from_the_channels_sender_name_and_avatar(client, viber_channel):
    viber_channel.config = {
        **viber_channel.config,
        "welcome_message": "Hi!",
        "sender_avatar": "https://acme.example/logo.jpg",
    }
    viber_channel.save()

    response = post_callback(client, viber_channel, callback_body("conversation_started"))

    assert response.json()["sender"] == {"name": "Acme", "avatar": "https://acme.example/logo.jpg"}


def test_no_welcome_message_is_given_for_a_forged_conversation_started(client, viber_channel):
    viber_channel.config = {**viber_channel.config, "welcome_message": "Hi!"}
    viber_channel.save()

    response = post_callback(
        client, viber_channel, callback_body("conversation_started"), signature="0" * 64
    )

    assert response.status_code == 403
    assert "Hi!" not in response.content.decode()


def everything_stored() -> tuple:
    """What a customer or an operator could see change: the counts, each message's text and
    status, each identity's reachability and picture."""
    return (
        stored_counts(),
        sorted(Message.objects.values_list("external_id", "body", "status", "error")),
        sorted(Identity.objects.values_list("kind", "value", "is_reachable", "avatar_url")),
    )


EVERY_CALLBACK = sorted(path.stem for path in FIXTURES.glob("*.json"))


@pytest.mark.parametrize("fixture", EVERY_CALLBACK)
def test_every_callback_kind_delivered_twice_is_answered_200_and_applied_once(
    client, viber_channel, fake_viber, operator, fixture
):
    # A customer who wrote before and got a reply, for the statuses and subscriptions.
    earlier = callback("message_text")
    earlier["message_token"] = 1
    post_callback(client, viber_channel, earlier)
    reply = message_reply(conversation=Conversation.objects.get(), author=operator, body="Tak.")
    message_deliver(message_id=reply.pk, attempt=1, max_attempts=3)
    assert post_callback(client, viber_channel, callback_body(fixture)).status_code == 200
    after_first = everything_stored()

    assert post_callback(client, viber_channel, callback_body(fixture)).status_code == 200

    assert everything_stored() == after_first


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_delivery_status_shows_live_in_the_inbox(viber_channel, fake_viber, operator):
    from asgiref.sync import sync_to_async
    from django.test import AsyncClient

    from tests.inbox.test_inbox_consumer import connect, next_event_of_type

    async def post(body: bytes) -> None:
        response = await AsyncClient().post(
            f"/webhooks/viber/{viber_channel.public_id}/",
            data=body,
            content_type="application/json",
            headers={"X-Viber-Content-Signature": viber_signature(body)},
        )
        assert response.status_code == 200

    await post(callback_body("message_text"))
    conversation = await Conversation.objects.aget()
    reply = await sync_to_async(message_reply)(
        conversation=conversation, author=operator, body="Wysyłamy jutro."
    )
    await sync_to_async(message_deliver)(message_id=reply.pk, attempt=1, max_attempts=3)
    anna = await connect(operator)

    await post(callback_body("seen"))

    updated = await next_event_of_type(anna, "message.updated")
    assert (updated["message"]["id"], updated["message"]["status"]) == (reply.pk, "read")
    await anna.disconnect()
