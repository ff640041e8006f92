"""Replies sent to a fake VK API: messages.send, files through VK's upload flow, a
random_id that makes a retry the same VK message, and VK's errors by code."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from channels_app.adapters.vk.outbound import random_id
from channels_app.services import channel_create, message_deliver
from customers.models import Identity
from inbox.delivery_failures import failure_text
from inbox.models import Conversation, MessageStatus
from inbox.services import message_reply
from tests.channels_app.vk.helpers import GROUP_ID, MARIA_ID, SECRET_KEY, event_body, post_event
from tests.failure_reasons import reason_text
from tests.fakes.vk import (
    ACCESS_TOKEN,
    AUTHORIZATION_FAILED,
    FLOOD_CONTROL,
    INTERNAL_ERROR,
    MESSAGES_NOT_ALLOWED,
    PERMISSION_DENIED,
    PRIVACY_SETTINGS,
    TOO_MANY_REQUESTS,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def vk_conversation(client, vk_channel):
    post_event(client, vk_channel, event_body("message_new_text"))
    return Conversation.objects.get()


@pytest.fixture
def queued_reply(vk_conversation, operator):
    return message_reply(conversation=vk_conversation, author=operator, body="Отправим завтра.")


def deliver(message, *, attempt=1, max_attempts=5):
    return message_deliver(message_id=message.pk, attempt=attempt, max_attempts=max_attempts)


def test_a_reply_is_sent_with_messages_send(queued_reply, fake_vk):
    assert deliver(queued_reply) is None

    [call] = fake_vk.calls
    assert call.method == "messages.send"
    assert call.params["peer_id"] == MARIA_ID
    assert call.params["message"] == "Отправим завтра."
    assert call.params["access_token"] == ACCESS_TOKEN
    assert call.params["v"] == "5.199"
    assert int(call.params["random_id"]) > 0
    queued_reply.refresh_from_db()
    assert (queued_reply.status, queued_reply.external_id, reason_text(queued_reply)) == (
        MessageStatus.SENT,
        "5001",
        "",
    )


def test_a_reply_retried_after_a_lost_answer_is_one_vk_message(queued_reply, fake_vk):
    fake_vk.lose_next_answer("messages.send")

    delay = deliver(queued_reply, attempt=1)
    assert delay is not None
    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.QUEUED

    assert deliver(queued_reply, attempt=2) is None

    first, second = fake_vk.calls_to("messages.send")
    assert first.params["random_id"] == second.params["random_id"]
    assert len(fake_vk.sent) == 1
    queued_reply.refresh_from_db()
    assert (queued_reply.status, queued_reply.external_id) == (MessageStatus.SENT, "5001")


@pytest.mark.parametrize("error", [TOO_MANY_REQUESTS, FLOOD_CONTROL, INTERNAL_ERROR])
def test_rate_limits_and_vk_failures_are_retried(queued_reply, fake_vk, error):
    fake_vk.fail_next(error, method="messages.send")

    delay = deliver(queued_reply, attempt=1)

    assert delay is not None and delay > 0
    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.QUEUED
    assert f"error {error.code}" in reason_text(queued_reply)
    assert deliver(queued_reply, attempt=2) is None
    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.SENT
    assert len(fake_vk.sent) == 1


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (MESSAGES_NOT_ALLOWED, "error 901"),
        (PRIVACY_SETTINGS, "privacy settings"),
        (PERMISSION_DENIED, "error 7"),
    ],
)
def test_a_customer_who_cannot_be_written_to_fails_at_once_and_is_marked_unreachable(
    queued_reply, fake_vk, error, reason
):
    fake_vk.fail_next(error, method="messages.send")

    assert deliver(queued_reply, attempt=1) is None

    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.FAILED
    assert reason in reason_text(queued_reply)
    assert Identity.objects.get(kind="vk", value=MARIA_ID).is_reachable is False
    assert fake_vk.sent == []


def test_a_refused_token_fails_at_once_and_says_what_to_do(queued_reply, fake_vk):
    fake_vk.fail_next(AUTHORIZATION_FAILED, method="messages.send")

    assert deliver(queued_reply, attempt=1) is None

    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.FAILED
    assert "VK refused the channel's access_token" in reason_text(queued_reply)
    assert ACCESS_TOKEN not in reason_text(queued_reply)
    assert Identity.objects.get(kind="vk", value=MARIA_ID).is_reachable is True


def test_a_refused_token_warns_the_admin_until_a_new_one_is_saved(
    queued_reply, fake_vk, vk_channel, admin_client_api, admin_client
):
    fake_vk.fail_next(AUTHORIZATION_FAILED, method="messages.send")

    deliver(queued_reply, attempt=1)

    shown = admin_client_api.get(f"/api/v1/channels/{vk_channel.pk}/").json()["secrets_error"]
    assert "VK refused the channel's access_token" in shown
    assert ACCESS_TOKEN not in shown
    admin_page = admin_client.get(f"/admin/channels_app/channel/{vk_channel.pk}/change/")
    assert "VK refused the channel&#x27;s access_token" in admin_page.content.decode()

    saved = admin_client_api.patch(
        f"/api/v1/channels/{vk_channel.pk}/",
        {"config": {"access_token": "vk1.a.new-token"}},
        format="json",
    )

    assert saved.status_code == 200
    assert saved.json()["secrets_error"] == ""


def test_changing_other_settings_keeps_the_warning(
    queued_reply, fake_vk, vk_channel, admin_client_api
):
    fake_vk.fail_next(AUTHORIZATION_FAILED, method="messages.send")
    deliver(queued_reply, attempt=1)

    saved = admin_client_api.patch(
        f"/api/v1/channels/{vk_channel.pk}/", {"name": "Acme VK support"}, format="json"
    )
    renamed = admin_client_api.patch(
        f"/api/v1/channels/{vk_channel.pk}/", {"config": {"group_id": GROUP_ID}}, format="json"
    )

    assert "error 5" in saved.json()["secrets_error"]
    assert "error 5" in renamed.json()["secrets_error"]


def test_a_send_that_goes_through_again_clears_the_warning(
    queued_reply, fake_vk, vk_conversation, operator, vk_channel, admin_client_api
):
    fake_vk.fail_next(AUTHORIZATION_FAILED, method="messages.send")
    deliver(queued_reply, attempt=1)
    later = message_reply(conversation=vk_conversation, author=operator, body="Ещё раз")

    deliver(later, attempt=1)

    later.refresh_from_db()
    assert later.status == MessageStatus.SENT
    shown = admin_client_api.get(f"/api/v1/channels/{vk_channel.pk}/").json()
    assert shown["secrets_error"] == ""


def test_files_are_uploaded_to_vk_and_sent_with_the_text(vk_conversation, operator, fake_vk):
    reply = message_reply(
        conversation=vk_conversation,
        author=operator,
        body="Фото и счёт",
        files=[
            SimpleUploadedFile("box.jpg", b"\xff\xd8\xff jpeg", content_type="image/jpeg"),
            SimpleUploadedFile("invoice.pdf", b"%PDF-1.4", content_type="application/pdf"),
        ],
    )

    assert deliver(reply) is None

    assert [call.method for call in fake_vk.calls] == [
        "photos.getMessagesUploadServer",
        "photos.saveMessagesPhoto",
        "docs.getMessagesUploadServer",
        "docs.save",
        "messages.send",
    ]
    assert [kind for kind, _ in fake_vk.uploads] == ["photo", "doc"]
    [sent] = fake_vk.sent
    assert sent["message"] == "Фото и счёт"
    assert sent["attachment"] == "photo-1_457239017_ak1,doc42_6612"
    reply.refresh_from_db()
    assert reply.status == MessageStatus.SENT


def reply_with_a_file(conversation, operator):
    return message_reply(
        conversation=conversation,
        author=operator,
        body="Счёт",
        files=[SimpleUploadedFile("invoice.pdf", b"%PDF-1.4", content_type="application/pdf")],
    )


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("ru", "Платформа VK не приняла файл invoice.pdf."),
        ("pl", "Platforma VK nie przyjęła pliku invoice.pdf."),
        ("en", "VK did not accept the file invoice.pdf."),
    ],
)
def test_a_file_vk_refuses_fails_the_reply_in_the_operators_language(
    vk_conversation, operator, fake_vk, language, sentence
):
    fake_vk.upload_refusal = "file type not allowed"
    reply = reply_with_a_file(vk_conversation, operator)

    assert deliver(reply) is None

    reply.refresh_from_db()
    assert reply.status == MessageStatus.FAILED
    assert reply.error["code"] == "file_refused"
    with translation.override(language):
        shown = failure_text(reply.error)
    assert shown.startswith(sentence)
    # VK's own words follow ours, as it gave them.
    assert shown.endswith("file type not allowed")
    assert fake_vk.sent == []


def test_an_upload_server_failure_is_retried_and_names_the_file(vk_conversation, operator, fake_vk):
    fake_vk.upload_status = 502
    reply = reply_with_a_file(vk_conversation, operator)

    assert deliver(reply, attempt=1) is not None

    reply.refresh_from_db()
    assert reply.status == MessageStatus.QUEUED
    assert "VK did not accept the file invoice.pdf (HTTP 502)." in reason_text(reply)
    fake_vk.upload_status = 200
    assert deliver(reply, attempt=2) is None
    reply.refresh_from_db()
    assert reply.status == MessageStatus.SENT


def test_a_long_reply_goes_as_several_messages_each_with_its_own_random_id(
    vk_conversation, operator, fake_vk
):
    reply = message_reply(
        conversation=vk_conversation, author=operator, body=("слово " * 1000).strip()
    )

    assert deliver(reply) is None

    assert len(fake_vk.sent) == 2
    assert len({sent["random_id"] for sent in fake_vk.sent}) == 2
    assert "".join(sent["message"] for sent in fake_vk.sent).count("слово") == 1000


def test_random_ids_differ_between_messages_parts_and_installations(vk_channel, fake_vk):
    other_installation = channel_create(
        kind="vk",
        name="Acme VK elsewhere",
        config={"group_id": GROUP_ID, "access_token": ACCESS_TOKEN, "secret_key": SECRET_KEY},
    )
    key = vk_channel.secrets["random_id_key"]
    other_key = other_installation.secrets["random_id_key"]
    written = "2026-12-07T04:00:00+00:00"

    one = random_id(key=key, message_id=7, written_at=written, part=0)

    assert one == random_id(key=key, message_id=7, written_at=written, part=0)
    assert one != random_id(key=key, message_id=8, written_at=written, part=0)
    assert one != random_id(key=key, message_id=7, written_at=written, part=1)
    assert one != random_id(key=other_key, message_id=7, written_at=written, part=0)
    # The same id given again after a backup was restored names another message.
    assert one != random_id(key=key, message_id=7, written_at="2026-12-07T05:00:00+00:00", part=0)
    assert 0 < one < 2**63
