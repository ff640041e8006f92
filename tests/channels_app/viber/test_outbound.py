"""Replies sent to a fake Viber REST API: text, pictures and files by signed links, and
Viber's statuses."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from channels_app.services import message_deliver
from customers.models import Identity
from inbox.models import Conversation, MessageStatus
from inbox.services import message_reply
from tests.channels_app.viber.helpers import MARIA_ID, callback_body, post_callback
from tests.failure_reasons import reason_text
from tests.fakes.viber import (
    AUTH_TOKEN,
    INVALID_AUTH_TOKEN,
    RECEIVER_NOT_SUBSCRIBED,
    TOO_MANY_REQUESTS,
)
from tests.helpers import run_admin_action

pytestmark = pytest.mark.django_db


@pytest.fixture
def viber_conversation(client, viber_channel):
    post_callback(client, viber_channel, callback_body("message_text"))
    return Conversation.objects.get()


def deliver(message, *, attempt=1, max_attempts=5):
    return message_deliver(message_id=message.pk, attempt=attempt, max_attempts=max_attempts)


def test_a_reply_is_sent_with_the_channels_sender_name(viber_conversation, operator, fake_viber):
    reply = message_reply(conversation=viber_conversation, author=operator, body="Wysyłamy jutro.")

    assert deliver(reply) is None

    [call] = fake_viber.calls
    assert call.name == "send_message"
    assert call.headers["x-viber-auth-token"] == AUTH_TOKEN
    assert call.payload == {
        "receiver": MARIA_ID,
        "sender": {"name": "Acme"},
        "type": "text",
        "text": "Wysyłamy jutro.",
    }
    reply.refresh_from_db()
    assert (reply.status, reply.external_id) == (MessageStatus.SENT, "5098034272017990001")


def test_the_channels_sender_avatar_goes_with_replies(
    viber_conversation, viber_channel, operator, fake_viber
):
    viber_channel.config["sender_avatar"] = "https://acme.example/logo.jpg"
    viber_channel.save(update_fields=["config"])
    reply = message_reply(conversation=viber_conversation, author=operator, body="Wysyłamy jutro.")

    deliver(reply)

    [call] = fake_viber.calls
    assert call.payload["sender"] == {"name": "Acme", "avatar": "https://acme.example/logo.jpg"}


def test_files_go_by_signed_expiring_links_with_the_text_as_the_pictures_caption(
    viber_conversation, operator, fake_viber, settings
):
    settings.PUBLIC_BASE_URL = "https://support.example.com"
    reply = message_reply(
        conversation=viber_conversation,
        author=operator,
        body="Zdjęcie i faktura",
        files=[
            SimpleUploadedFile("box.jpg", b"\xff\xd8\xff jpeg", content_type="image/jpeg"),
            SimpleUploadedFile("faktura.pdf", b"%PDF-1.4", content_type="application/pdf"),
        ],
    )

    assert deliver(reply) is None

    picture, document = (call.payload for call in fake_viber.calls)
    assert (picture["type"], picture["text"]) == ("picture", "Zdjęcie i faktura")
    assert (document["type"], document["file_name"], document["size"]) == (
        "file",
        "faktura.pdf",
        8,
    )
    for payload in (picture, document):
        assert payload["media"].startswith("https://support.example.com/")
        assert "expires=" in payload["media"] and "signature=" in payload["media"]
    reply.refresh_from_db()
    assert (reply.status, reply.external_id) == (MessageStatus.SENT, "5098034272017990001")


def test_a_customer_not_subscribed_fails_at_once_and_is_marked_unreachable(
    viber_conversation, operator, fake_viber
):
    fake_viber.fail_next(RECEIVER_NOT_SUBSCRIBED)
    reply = message_reply(conversation=viber_conversation, author=operator, body="Halo?")

    assert deliver(reply) is None

    reply.refresh_from_db()
    assert reply.status == MessageStatus.FAILED
    assert "not subscribed" in reason_text(reply)
    assert Identity.objects.get(kind="viber").is_reachable is False


def test_too_many_requests_is_retried(viber_conversation, operator, fake_viber):
    fake_viber.fail_next(TOO_MANY_REQUESTS)
    reply = message_reply(conversation=viber_conversation, author=operator, body="Halo?")

    assert deliver(reply, attempt=1) is not None
    reply.refresh_from_db()
    assert reply.status == MessageStatus.QUEUED

    assert deliver(reply, attempt=2) is None
    reply.refresh_from_db()
    assert reply.status == MessageStatus.SENT


def test_a_refused_token_fails_at_once_and_says_what_to_do(
    viber_conversation, operator, fake_viber
):
    fake_viber.fail_next(INVALID_AUTH_TOKEN)
    reply = message_reply(conversation=viber_conversation, author=operator, body="Halo?")

    assert deliver(reply) is None

    reply.refresh_from_db()
    assert reply.status == MessageStatus.FAILED
    assert "auth_token" in reason_text(reply)


def test_a_transport_failure_is_retried(viber_conversation, operator, fake_viber, viber_channel):
    viber_channel.config = {**viber_channel.config, "api_base_url": "http://127.0.0.1:9"}
    viber_channel.save()
    reply = message_reply(conversation=viber_conversation, author=operator, body="Halo?")

    assert deliver(reply, attempt=1) is not None

    reply.refresh_from_db()
    assert reply.status == MessageStatus.QUEUED
    assert "Viber was unreachable" in reason_text(reply)


# Set-up


def test_viber_set_webhook_registers_the_channels_url_and_our_events(
    viber_channel, fake_viber, settings, capsys
):
    settings.PUBLIC_BASE_URL = "https://support.example.com"

    call_command("viber_set_webhook", str(viber_channel.pk))

    [call] = fake_viber.calls
    assert call.name == "set_webhook"
    assert (
        call.payload["url"]
        == f"https://support.example.com/webhooks/viber/{viber_channel.public_id}/"
    )
    assert set(call.payload["event_types"]) == {
        "delivered",
        "seen",
        "failed",
        "subscribed",
        "unsubscribed",
        "conversation_started",
    }
    assert "webhook url" in capsys.readouterr().out


def test_viber_set_webhook_says_why_viber_refused(viber_channel, fake_viber):
    fake_viber.fail_next(INVALID_AUTH_TOKEN)

    with pytest.raises(CommandError, match="auth_token"):
        call_command("viber_set_webhook", str(viber_channel.pk))


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"sender_name": "A" * 29}, "sender_name"),
        ({"sender_name": "Acme", "welcome_message": {"en": 42}}, "welcome_message"),
        ({"sender_name": "Acme", "sender_avatar": "javascript:alert(1)"}, "sender_avatar"),
    ],
)
def test_settings_viber_would_refuse_are_refused(admin_client_api, config, field):
    response = admin_client_api.post(
        "/api/v1/channels/",
        {"kind": "viber", "name": "Acme Viber", "config": {"auth_token": AUTH_TOKEN, **config}},
        format="json",
    )

    assert response.status_code == 400
    assert field in str(response.json())


def test_the_admin_action_says_why_viber_refused_then_registers_the_webhook(
    client, admin_user, settings, viber_channel, fake_viber
):
    fake_viber.fail_next(INVALID_AUTH_TOKEN)

    [refused] = run_admin_action(
        client, admin_user, settings, "register_viber_webhook", viber_channel
    )
    [registered] = run_admin_action(
        client, admin_user, settings, "register_viber_webhook", viber_channel
    )

    assert "auth_token" in refused
    webhook_url = fake_viber.calls_to("set_webhook")[-1].payload["url"]
    assert webhook_url.endswith(f"/webhooks/viber/{viber_channel.public_id}/")
    assert registered == f"{viber_channel}: Viber set the webhook {webhook_url}"
