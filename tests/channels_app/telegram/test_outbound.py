"""Replies and CSAT surveys sent to a fake Bot API server, with Telegram's failures."""

import json
import logging

import pytest
from django.utils import timezone

from channels_app.adapters.telegram import outbound as telegram_outbound
from channels_app.contracts import (
    DeliveryFailed,
    OutboundAttachment,
    OutboundMessage,
)
from channels_app.registry import adapter_for
from channels_app.services import message_deliver
from inbox.models import Attachment, Conversation, Message, MessageStatus
from inbox.services import message_reply
from tests.channels_app.telegram.helpers import (
    BOT_TOKEN,
    MARIA_ID,
    WEBHOOK_SECRET,
    post_update,
    update,
    update_body,
)
from tests.failure_reasons import reason_text
from tests.fakes.telegram import (
    BOT_BLOCKED,
    CHAT_NOT_FOUND,
    INTERNAL_SERVER_ERROR,
    TOO_MANY_REQUESTS,
    too_many_requests,
)

pytestmark = pytest.mark.django_db


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
    assert reason_text(queued_reply) == ""


def test_a_rate_limited_reply_is_retried_after_telegrams_retry_after(
    queued_reply, fake_telegram, settings
):
    settings.DELIVERY_RETRY_BASE_SECONDS = 0.1
    fake_telegram.fail_next(TOO_MANY_REQUESTS)

    delay = message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=5)

    assert delay is not None and delay >= 3
    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.QUEUED
    assert "retrying" in reason_text(queued_reply)
    assert "Too Many Requests: retry after 3" in reason_text(queued_reply)

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
    assert "Internal Server Error" in reason_text(queued_reply)
    assert queued_reply.delivery_attempts == 2


def test_a_blocked_bot_fails_at_once_with_a_clear_reason(queued_reply, fake_telegram):
    fake_telegram.fail_next(BOT_BLOCKED)

    assert message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=5) is None

    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.FAILED
    assert queued_reply.error == {
        "code": "recipient_unreachable",
        "platform": "Telegram",
        "detail": "Forbidden: bot was blocked by the user",
    }
    assert len(fake_telegram.calls) == 1


def test_another_client_error_fails_at_once_with_telegrams_description(queued_reply, fake_telegram):
    fake_telegram.fail_next(CHAT_NOT_FOUND)

    assert message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=5) is None

    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.FAILED
    assert reason_text(queued_reply) == (
        "Telegram did not accept the message (HTTP 400). "
        "The platform said: Bad Request: chat not found"
    )


def test_a_wrong_bot_token_fails_at_once(queued_reply, telegram_channel):
    telegram_channel.set_secrets({"bot_token": "999:WRONG", "webhook_secret": WEBHOOK_SECRET})
    telegram_channel.save()

    message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=5)

    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.FAILED
    assert "bot_token" in reason_text(queued_reply)
    assert "999:WRONG" not in reason_text(queued_reply)


def test_an_unreachable_bot_api_is_retried(queued_reply, telegram_channel):
    telegram_channel.config = {"api_base_url": "http://127.0.0.1:9"}
    telegram_channel.save()

    assert message_deliver(message_id=queued_reply.pk, attempt=1, max_attempts=2) is not None
    assert message_deliver(message_id=queued_reply.pk, attempt=2, max_attempts=2) is None

    queued_reply.refresh_from_db()
    assert queued_reply.status == MessageStatus.FAILED
    assert reason_text(queued_reply).startswith(
        "Telegram was unreachable. The platform said: ConnectError"
    )
    assert BOT_TOKEN not in reason_text(queued_reply)


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
    assert failure.value.failure.code == "partly_sent"
    assert (failure.value.failure.data["sent"], failure.value.failure.data["parts"]) == (1, 2)
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
    assert "Sent 1 of 2 parts" in reason_text(reply)

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
    assert BOT_TOKEN not in reason_text(queued_reply)


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


@pytest.mark.parametrize(
    ("kind", "rows"),
    [
        ("ces", [["1", "2", "3", "4", "5", "6", "7"]]),
        ("nps", [["0", "1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]),
    ],
)
def test_ces_is_one_row_of_seven_and_nps_two_rows_whose_press_answers(
    client, telegram_channel, fake_telegram, operator, kind, rows
):
    from inbox.models import CsatSurvey, SurveyStatus
    from tests.helpers import survey_sent

    post_update(client, telegram_channel, update_body("message_text"))
    survey = survey_sent(
        conversation=Message.objects.get().conversation, operator=operator, kind=kind
    )

    assert survey.status == SurveyStatus.SENT
    [question] = [
        call for call in fake_telegram.calls_to("sendMessage") if "reply_markup" in call.params
    ]
    keyboard = question.params["reply_markup"]["inline_keyboard"]
    assert [[button["text"] for button in row] for row in keyboard] == rows
    lowest, highest = rows[0][0], rows[-1][-1]
    assert f"\n{lowest} = " in question.params["text"]
    assert f", {highest} = " in question.params["text"]
    press = update("callback_query")
    press["callback_query"]["data"] = keyboard[0][0]["callback_data"]

    post_update(client, telegram_channel, json.dumps(press).encode())

    assert CsatSurvey.objects.get().rating == int(lowest)
