"""Replies and CSAT surveys sent to a fake Graph API, inside and outside the
24-hour window, with Meta's failures."""

import logging
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from channels_app.adapters.whatsapp import WINDOW_CLOSED
from channels_app.services import message_deliver
from inbox.models import Attachment, Conversation, Message, MessageStatus
from inbox.services import message_reply
from tests.channels_app.whatsapp.helpers import (
    WA_ID,
    first_message,
    fixture_json,
    post_payload,
)
from tests.factories import ConversationFactory, MessageFactory
from tests.failure_reasons import reason_text
from tests.fakes.whatsapp import (
    ACCESS_TOKEN,
    ACCESS_TOKEN_EXPIRED,
    INVALID_PARAMETER,
    PAIR_RATE_LIMITED,
    PHONE_NUMBER_ID,
    RATE_LIMITED,
    REENGAGEMENT_REQUIRED,
    SERVER_ERROR,
    SPAM_RATE_LIMITED,
    UNDELIVERABLE,
    GraphError,
)

pytestmark = pytest.mark.django_db


# Sending replies


def conversation_on(channel, *, recipient_address: str = WA_ID, hours_since_customer: float | None):
    last_inbound_at = (
        timezone.now() - timedelta(hours=hours_since_customer)
        if hours_since_customer is not None
        else None
    )
    return ConversationFactory(
        channel=channel, recipient_address=recipient_address, last_inbound_at=last_inbound_at
    )


def reply(channel, operator, text: str = "It ships tomorrow.", **conversation_options) -> Message:
    conversation_options.setdefault("hours_since_customer", 1)
    conversation = conversation_on(channel, **conversation_options)
    return message_reply(conversation=conversation, author=operator, body=text)


def test_a_reply_inside_the_window_is_sent_as_text_with_the_bearer_token(
    whatsapp_channel, operator, graph_api
):
    message = reply(whatsapp_channel, operator)

    assert message_deliver(message_id=message.pk, attempt=1, max_attempts=3) is None

    [request] = graph_api.requests
    assert request.method == "POST"
    assert request.path == f"/v26.0/{PHONE_NUMBER_ID}/messages"
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "text",
        "text": {"body": "It ships tomorrow."},
    }
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.external_id == graph_api.sent_message_ids[0]
    assert message.external_id.startswith("wamid.")


def test_a_reply_to_a_customer_known_only_by_user_id_is_addressed_by_recipient(
    whatsapp_channel, operator, graph_api
):
    message = reply(whatsapp_channel, operator, recipient_address="DE.72910384756102938")

    message_deliver(message_id=message.pk, attempt=1, max_attempts=3)

    [sent] = graph_api.sent_messages
    assert sent["recipient"] == "DE.72910384756102938"
    assert "to" not in sent
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


@pytest.mark.parametrize("hours_since_customer", [None, 24.01, 24 * 9])
def test_outside_the_window_without_a_template_the_reply_fails_and_nothing_is_sent(
    whatsapp_channel, operator, graph_api, hours_since_customer
):
    message = reply(whatsapp_channel, operator, hours_since_customer=hours_since_customer)

    assert message_deliver(message_id=message.pk, attempt=1, max_attempts=5) is None

    assert graph_api.requests == []
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.error == WINDOW_CLOSED.stored()
    assert "24 hours" in reason_text(message) and "template" in reason_text(message)


def test_outside_the_window_the_fallback_template_is_sent(whatsapp_channel, operator, graph_api):
    whatsapp_channel.config["fallback_template"] = {"name": "reopen_chat", "language": "en_US"}
    whatsapp_channel.save()
    message = reply(whatsapp_channel, operator, hours_since_customer=30)

    message_deliver(message_id=message.pk, attempt=1, max_attempts=3)

    assert graph_api.sent_messages == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": WA_ID,
            "type": "template",
            "template": {"name": "reopen_chat", "language": {"code": "en_US"}},
        }
    ]
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.external_id == graph_api.sent_message_ids[0]


def test_a_fallback_template_with_a_text_parameter_carries_the_reply(
    whatsapp_channel, operator, graph_api
):
    whatsapp_channel.config["fallback_template"] = {
        "name": "support_update",
        "language": "de",
        "text_parameter": True,
    }
    whatsapp_channel.save()
    message = reply(
        whatsapp_channel, operator, text="Your order\nships\ttomorrow.", hours_since_customer=None
    )

    message_deliver(message_id=message.pk, attempt=1, max_attempts=3)

    [sent] = graph_api.sent_messages
    assert sent["template"] == {
        "name": "support_update",
        "language": {"code": "de"},
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Your order ships tomorrow."}]}
        ],
    }


def test_inside_the_window_the_template_is_not_used(whatsapp_channel, operator, graph_api):
    whatsapp_channel.config["fallback_template"] = {"name": "reopen_chat", "language": "en_US"}
    whatsapp_channel.save()
    message = reply(whatsapp_channel, operator, hours_since_customer=23.9)

    message_deliver(message_id=message.pk, attempt=1, max_attempts=3)

    assert [sent["type"] for sent in graph_api.sent_messages] == ["text"]


@pytest.mark.parametrize(
    ("error", "is_retried", "error_text"),
    [
        (RATE_LIMITED, True, "130429"),
        (GraphError(400, 130429, "(#130429) Rate limit hit"), True, "130429"),
        (PAIR_RATE_LIMITED, True, "131056"),
        (SPAM_RATE_LIMITED, True, "80007"),
        (SERVER_ERROR, True, "HTTP 500"),
        (GraphError(503, 2, "Service temporarily unavailable"), True, "HTTP 503"),
        (REENGAGEMENT_REQUIRED, False, "Send an approved template instead."),
        (ACCESS_TOKEN_EXPIRED, False, "WhatsApp refused the channel's access_token"),
        (
            GraphError(400, 190, "Invalid OAuth access token"),
            False,
            "WhatsApp refused the channel's access_token",
        ),
        (INVALID_PARAMETER, False, "Invalid parameter - Parameter value is not valid"),
        (UNDELIVERABLE, False, "recipient's phone number is not on WhatsApp"),
    ],
)
def test_graph_api_errors_are_retried_or_final_as_meta_means_them(
    whatsapp_channel, operator, graph_api, error, is_retried, error_text
):
    graph_api.fail_next(error, endpoint="messages")
    message = reply(whatsapp_channel, operator)

    delay = message_deliver(message_id=message.pk, attempt=1, max_attempts=5)

    message.refresh_from_db()
    if is_retried:
        assert delay is not None and delay > 0
        assert message.status == MessageStatus.QUEUED
        assert "retrying" in reason_text(message)
    else:
        assert delay is None
        assert message.status == MessageStatus.FAILED
    assert error_text in reason_text(message)
    assert ACCESS_TOKEN not in reason_text(message)


def test_a_rate_limited_reply_goes_out_on_the_retry(whatsapp_channel, operator, graph_api):
    graph_api.fail_next(
        GraphError(429, 130429, "(#130429) Rate limit hit", retry_after=7), endpoint="messages"
    )
    message = reply(whatsapp_channel, operator)

    delay = message_deliver(message_id=message.pk, attempt=1, max_attempts=5)
    assert delay is not None and delay >= 7
    message_deliver(message_id=message.pk, attempt=2, max_attempts=5)

    assert len(graph_api.requests_to("messages")) == 2
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.external_id == graph_api.sent_message_ids[0]
    assert message.delivery_attempts == 2


def test_the_pair_rate_limit_waits_at_least_six_seconds(whatsapp_channel, operator, graph_api):
    graph_api.fail_next(PAIR_RATE_LIMITED, endpoint="messages")
    message = reply(whatsapp_channel, operator)

    delay = message_deliver(message_id=message.pk, attempt=1, max_attempts=5)

    assert delay is not None and delay >= 6


def test_a_server_error_on_every_try_fails_the_reply_at_the_last_attempt(
    whatsapp_channel, operator, graph_api
):
    graph_api.fail_next(SERVER_ERROR, endpoint="messages", times=2)
    message = reply(whatsapp_channel, operator)

    assert message_deliver(message_id=message.pk, attempt=1, max_attempts=2) is not None
    assert message_deliver(message_id=message.pk, attempt=2, max_attempts=2) is None

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "HTTP 500" in reason_text(message)


def test_a_retry_sends_only_the_parts_that_did_not_go_out(
    whatsapp_channel, operator, graph_api, settings
):
    settings.PUBLIC_BASE_URL = "https://support.example.com"
    conversation = conversation_on(whatsapp_channel, hours_since_customer=1)
    # Too long for a caption: the text and the file go as two WhatsApp messages.
    text = "Here is your invoice. " + "Details follow. " * 80
    message = message_reply(
        conversation=conversation,
        author=operator,
        body=text,
        files=[SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 invoice", "application/pdf")],
    )
    graph_api.fail_next(SERVER_ERROR, endpoint="messages", after=1)

    assert message_deliver(message_id=message.pk, attempt=1, max_attempts=3) is not None
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert "Sent 1 of 2 parts" in reason_text(message)

    assert message_deliver(message_id=message.pk, attempt=2, max_attempts=3) is None

    sent = graph_api.sent_messages
    assert [payload["type"] for payload in sent] == ["text", "document", "document"]
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.external_id == graph_api.sent_message_ids[0]
    assert len(graph_api.sent_message_ids) == 2


def test_an_unreachable_graph_api_is_retried(whatsapp_channel, operator):
    whatsapp_channel.config["api_base_url"] = "http://127.0.0.1:9/v26.0"
    whatsapp_channel.save()
    message = reply(whatsapp_channel, operator)

    assert message_deliver(message_id=message.pk, attempt=1, max_attempts=3) is not None

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert "unreachable" in reason_text(message)


def test_the_access_token_never_reaches_errors_or_logs(
    whatsapp_channel, operator, graph_api, caplog
):
    graph_api.fail_next(
        GraphError(400, 100, f"(#100) Invalid parameter near {ACCESS_TOKEN}"), endpoint="messages"
    )
    message = reply(whatsapp_channel, operator)

    with caplog.at_level(logging.DEBUG):
        message_deliver(message_id=message.pk, attempt=1, max_attempts=1)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert ACCESS_TOKEN not in reason_text(message)
    assert "[access token]" in reason_text(message)
    assert ACCESS_TOKEN not in caplog.text


def test_a_reply_longer_than_whatsapp_allows_fails_without_a_call(
    whatsapp_channel, operator, graph_api
):
    message = reply(whatsapp_channel, operator, text="x" * 4097)

    message_deliver(message_id=message.pk, attempt=1, max_attempts=3)

    assert graph_api.requests == []
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "4096" in reason_text(message)


def test_a_reply_with_a_file_sends_it_by_link_with_the_text_as_caption(whatsapp_channel, graph_api):
    conversation = conversation_on(whatsapp_channel, hours_since_customer=2)
    message = MessageFactory(
        conversation=conversation,
        direction="out",
        status=MessageStatus.QUEUED,
        body="Here is your label",
        external_id=None,
    )
    Attachment.objects.create(
        message=message,
        remote_url="https://files.example.com/labels/10482.pdf",
        filename="label-10482.pdf",
        content_type="application/pdf",
        size=20480,
    )

    message_deliver(message_id=message.pk, attempt=1, max_attempts=3)

    assert graph_api.sent_messages == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": WA_ID,
            "type": "document",
            "document": {
                "link": "https://files.example.com/labels/10482.pdf",
                "filename": "label-10482.pdf",
                "caption": "Here is your label",
            },
        }
    ]
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


# CSAT


def test_a_csat_survey_goes_out_as_a_list_and_the_chosen_row_answers_it(
    client, whatsapp_channel, graph_api, operator
):
    from inbox import csat
    from inbox.models import CsatSurvey, SurveyStatus
    from inbox.services import conversation_resolve

    question = fixture_json("text")
    first_message(question)["timestamp"] = str(int(timezone.now().timestamp()))
    post_payload(client, whatsapp_channel, question)
    conversation = Conversation.objects.get()
    message_reply(conversation=conversation, author=operator, body="Done!")
    conversation_resolve(conversation=conversation, resolved_by=operator)
    CsatSurvey.objects.update(due_at=timezone.now())
    from channels_app.services import csat_survey_send

    for survey_id in csat.csat_surveys_queue_due():
        csat_survey_send(survey_id=survey_id)

    survey = CsatSurvey.objects.get()
    assert survey.status == SurveyStatus.SENT
    [sent] = [m for m in graph_api.sent_messages if m.get("type") == "interactive"]
    rows = sent["interactive"]["action"]["sections"][0]["rows"]
    assert [row["title"] for row in rows] == [
        "5 - Excellent", "4 - Good", "3 - Average", "2 - Poor", "1 - Very poor",
    ]  # fmt: skip
    payload = fixture_json("interactive_list_reply")
    reply = first_message(payload)
    reply["id"] = "wamid.csat-answer"
    reply["interactive"]["list_reply"] = {"id": rows[1]["id"], "title": rows[1]["title"]}

    post_payload(client, whatsapp_channel, payload)

    survey.refresh_from_db()
    assert (survey.status, survey.rating) == (SurveyStatus.ANSWERED, 4)
    conversation.refresh_from_db()
    assert conversation.status == "resolved"


def customer_wrote_and_was_helped(client, whatsapp_channel, operator) -> Conversation:
    question = fixture_json("text")
    first_message(question)["timestamp"] = str(int(timezone.now().timestamp()))
    post_payload(client, whatsapp_channel, question)
    return Conversation.objects.get()


def test_a_ces_survey_is_a_list_of_seven_rows(client, whatsapp_channel, graph_api, operator):
    from tests.helpers import survey_sent

    conversation = customer_wrote_and_was_helped(client, whatsapp_channel, operator)
    survey = survey_sent(conversation=conversation, operator=operator, kind="ces")

    [sent] = [m for m in graph_api.sent_messages if m.get("type") == "interactive"]
    assert sent["interactive"]["body"]["text"] == "How easy was it to get your issue solved?"
    rows = sent["interactive"]["action"]["sections"][0]["rows"]
    assert [row["title"] for row in rows][::6] == ["7 - Very easy", "1 - Very difficult"]
    assert len(rows) == 7
    payload = fixture_json("interactive_list_reply")
    reply = first_message(payload)
    reply["id"] = "wamid.ces-answer"
    reply["interactive"]["list_reply"] = {"id": rows[0]["id"], "title": rows[0]["title"]}

    post_payload(client, whatsapp_channel, payload)

    survey.refresh_from_db()
    assert (survey.kind, survey.rating) == ("ces", 7)


def test_an_nps_survey_too_long_for_a_list_is_a_button_to_the_page_and_a_typed_answer(
    client, whatsapp_channel, graph_api, operator
):
    from inbox import csat
    from tests.helpers import survey_sent

    conversation = customer_wrote_and_was_helped(client, whatsapp_channel, operator)
    survey = survey_sent(conversation=conversation, operator=operator, kind="nps")

    [sent] = [m for m in graph_api.sent_messages if m.get("type") == "interactive"]
    interactive = sent["interactive"]
    assert interactive["type"] == "cta_url"
    assert interactive["action"]["parameters"] == {
        "display_text": "Answer",
        "url": csat.survey_url(survey),
    }
    assert interactive["body"]["text"].endswith("Reply with a number from 0 to 10.")
    typed = fixture_json("text")
    first_message(typed)["id"] = "wamid.nps-typed"
    first_message(typed)["text"]["body"] = "10"

    post_payload(client, whatsapp_channel, typed)

    survey.refresh_from_db()
    assert (survey.kind, survey.rating) == ("nps", 10)
    conversation.refresh_from_db()
    assert conversation.status == "resolved"
