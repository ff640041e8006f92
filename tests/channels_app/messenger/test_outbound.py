"""Replies and CSAT surveys sent to a fake Send API: the 24-hour and 7-day windows with
frozen time, files uploaded, and Meta's errors retried or final."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from channels_app.services import channel_update, message_deliver
from customers.models import Identity
from inbox.models import Conversation, Message, MessageStatus
from inbox.services import message_reply
from tests.channels_app.messenger.helpers import PSID, fixture_json, post_payload
from tests.channels_app.meta_messaging import MESSENGER, NOW, first_item
from tests.channels_app.meta_messaging import customer_wrote as customer_wrote_on
from tests.channels_app.meta_messaging import delivered as deliver
from tests.failure_reasons import reason_text
from tests.fakes.meta_messaging import (
    ACCESS_TOKEN_EXPIRED,
    APP_RATE_LIMITED,
    CALLS_RATE_LIMITED,
    NO_MATCHING_USER,
    OUTSIDE_WINDOW,
    PAGE_ACCESS_TOKEN,
    PERMISSION_MISSING,
    SERVER_ERROR,
    USER_RATE_LIMITED,
    USER_UNAVAILABLE,
)
from tests.helpers import surveys_sent_after_resolving

pytestmark = pytest.mark.django_db


def customer_wrote(client, channel, *, at: datetime) -> Conversation:
    return customer_wrote_on(client, channel, MESSENGER, at=at)


def reply_to(conversation, operator, text: str = "It ships tomorrow.", **options) -> Message:
    return message_reply(conversation=conversation, author=operator, body=text, **options)


# The windows


def test_a_reply_within_24_hours_goes_as_a_response_with_the_page_token(
    client, messenger_channel, operator, send_api, frozen_now
):
    conversation = customer_wrote(client, messenger_channel, at=NOW - timedelta(hours=23))

    message = deliver(reply_to(conversation, operator))

    [request] = send_api.requests
    assert request.path == "/v26.0/me/messages"
    assert request.headers["authorization"] == f"Bearer {PAGE_ACCESS_TOKEN}"
    assert request.json() == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "It ships tomorrow.", "metadata": f"switchboard:{message.pk}"},
    }
    assert (message.status, message.external_id) == ("sent", send_api.sent_message_ids[0])


def test_after_24_hours_without_the_human_agent_permission_the_reply_fails_at_once(
    client, messenger_channel, operator, send_api, frozen_now
):
    conversation = customer_wrote(client, messenger_channel, at=NOW - timedelta(hours=25))

    message = deliver(reply_to(conversation, operator))

    assert message.status == MessageStatus.FAILED
    assert "Outside Messenger's messaging window" in reason_text(message)
    assert "24 hours" in reason_text(message)
    assert send_api.requests == []


def test_with_the_human_agent_permission_a_reply_up_to_7_days_is_tagged(
    client, messenger_channel, operator, send_api, frozen_now
):
    channel_update(channel=messenger_channel, config={"human_agent_tag": True})
    conversation = customer_wrote(client, messenger_channel, at=NOW - timedelta(days=6))

    deliver(reply_to(conversation, operator))

    [sent] = send_api.sent_messages
    assert (sent["messaging_type"], sent["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_after_7_days_even_the_human_agent_tag_no_longer_sends(
    client, messenger_channel, operator, send_api, frozen_now
):
    channel_update(channel=messenger_channel, config={"human_agent_tag": True})
    conversation = customer_wrote(client, messenger_channel, at=NOW - timedelta(days=7, minutes=1))

    message = deliver(reply_to(conversation, operator))

    assert message.status == MessageStatus.FAILED
    assert "7 days" in reason_text(message)
    assert send_api.requests == []


def test_the_window_counts_from_metas_timestamp_not_from_a_late_arrival(
    client, messenger_channel, operator, send_api, frozen_now
):
    # Meta stamped the message 25 hours ago; its webhook arrives only now.
    conversation = customer_wrote(client, messenger_channel, at=NOW - timedelta(hours=25))
    assert conversation.last_inbound_at >= NOW

    message = deliver(reply_to(conversation, operator))

    assert message.status == MessageStatus.FAILED


def test_a_timestamp_later_than_the_arrival_never_stretches_the_window(
    client, messenger_channel, operator, send_api, monkeypatch
):
    conversation = customer_wrote(
        client, messenger_channel, at=datetime.now(UTC) + timedelta(hours=10)
    )
    arrived = Message.objects.get()
    Message.objects.filter(pk=arrived.pk).update(
        created_at=arrived.created_at - timedelta(hours=25)
    )

    message = deliver(reply_to(conversation, operator))

    assert message.status == MessageStatus.FAILED


# Files


def test_a_file_is_uploaded_with_the_reply(
    client, messenger_channel, operator, send_api, frozen_now, media_root
):
    conversation = customer_wrote(client, messenger_channel, at=NOW - timedelta(hours=1))
    upload = SimpleUploadedFile("label-10482.pdf", b"%PDF-1.7 label", "application/pdf")

    message = deliver(reply_to(conversation, operator, "Here is your label", files=[upload]))

    text, upload_request = send_api.requests
    assert text.json()["message"]["text"] == "Here is your label"
    fields = upload_request.message_fields()
    assert fields["recipient"] == {"id": PSID}
    assert fields["messaging_type"] == "RESPONSE"
    assert fields["message"]["attachment"]["type"] == "file"
    assert fields["filedata"] == b"%PDF-1.7 label"
    assert message.status == MessageStatus.SENT


def test_a_long_reply_goes_in_pieces_of_at_most_2000_characters(
    client, messenger_channel, operator, send_api, frozen_now
):
    conversation = customer_wrote(client, messenger_channel, at=NOW - timedelta(hours=1))
    text = " ".join(["word"] * 700)

    deliver(reply_to(conversation, operator, text))

    pieces = [sent["message"]["text"] for sent in send_api.sent_messages]
    assert len(pieces) == 2
    assert all(len(piece) <= 2000 for piece in pieces)
    assert " ".join(pieces) == text


def test_a_reaction_to_a_later_piece_of_a_long_reply_shows_on_the_reply(
    client, messenger_channel, operator, send_api, frozen_now
):
    conversation = customer_wrote(client, messenger_channel, at=NOW - timedelta(hours=1))
    reply = reply_to(conversation, operator, " ".join(["word"] * 700))
    deliver(reply)
    first_mid, second_mid = send_api.sent_message_ids[-2:]

    reaction = fixture_json("reaction")
    first_item(reaction)["reaction"]["mid"] = second_mid
    post_payload(client, messenger_channel, reaction)

    reply.refresh_from_db()
    assert reply.external_id == first_mid
    assert reply.reaction == "❤️"
    assert Message.objects.filter(reaction="❤️").count() == 1


# Meta's errors


@pytest.mark.parametrize(
    "error", [APP_RATE_LIMITED, CALLS_RATE_LIMITED, USER_RATE_LIMITED, SERVER_ERROR]
)
def test_rate_limits_and_outages_are_retried_with_backoff(
    client, messenger_channel, operator, send_api, frozen_now, error
):
    conversation = customer_wrote(client, messenger_channel, at=NOW - timedelta(hours=1))
    message = reply_to(conversation, operator)
    send_api.fail_next(error, endpoint="messages")

    delay = message_deliver(message_id=message.pk, attempt=1, max_attempts=3)

    assert delay is not None and delay > 0
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert str(error.code) in reason_text(message)

    assert message_deliver(message_id=message.pk, attempt=2, max_attempts=3) is None
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


@pytest.mark.parametrize(
    ("error", "explanation"),
    [
        (OUTSIDE_WINDOW, "Outside Messenger's messaging window"),
        (PERMISSION_MISSING, "does not have permission"),
        (ACCESS_TOKEN_EXPIRED, "Messenger refused the channel's page_access_token"),
    ],
)
def test_window_permission_and_token_errors_fail_at_once_with_the_reason(
    client, messenger_channel, operator, send_api, frozen_now, error, explanation
):
    conversation = customer_wrote(client, messenger_channel, at=NOW - timedelta(hours=1))
    send_api.fail_next(error, endpoint="messages")

    message = deliver(reply_to(conversation, operator))

    assert message.status == MessageStatus.FAILED
    assert explanation in reason_text(message)
    assert PAGE_ACCESS_TOKEN not in reason_text(message)
    assert Identity.objects.get(kind="messenger").is_reachable


def test_an_expired_page_token_warns_the_channels_admins(
    client, messenger_channel, operator, send_api, frozen_now, admin_client_api
):
    conversation = customer_wrote(client, messenger_channel, at=NOW - timedelta(hours=1))
    send_api.fail_next(ACCESS_TOKEN_EXPIRED, endpoint="messages")
    channel_url = f"/api/v1/channels/{messenger_channel.pk}/"
    assert admin_client_api.get(channel_url).json()["secrets_error"] == ""

    deliver(reply_to(conversation, operator))

    shown = admin_client_api.get(channel_url).json()["secrets_error"]
    assert "Messenger refused the channel's page_access_token" in shown
    assert PAGE_ACCESS_TOKEN not in shown


@pytest.mark.parametrize("error", [USER_UNAVAILABLE, NO_MATCHING_USER])
def test_a_person_meta_says_is_unavailable_is_marked_unreachable(
    client, messenger_channel, operator, send_api, frozen_now, error
):
    conversation = customer_wrote(client, messenger_channel, at=NOW - timedelta(hours=1))
    send_api.fail_next(error, endpoint="messages")

    message = deliver(reply_to(conversation, operator))

    assert message.status == MessageStatus.FAILED
    assert "cannot be reached" in reason_text(message)
    assert not Identity.objects.get(kind="messenger", value=PSID).is_reachable


# CSAT


def test_a_survey_goes_out_as_quick_replies_and_the_tapped_one_is_recorded_for_the_operator(
    client, messenger_channel, operator, send_api, frozen_now
):
    from inbox.models import CsatSurvey, SurveyStatus

    conversation = customer_wrote(client, messenger_channel, at=NOW - timedelta(hours=1))
    Conversation.objects.filter(pk=conversation.pk).update(assignee=operator)
    conversation.refresh_from_db()
    deliver(reply_to(conversation, operator, "Done!"))

    surveys_sent_after_resolving(conversation, operator)

    survey = CsatSurvey.objects.get()
    assert survey.status == SurveyStatus.SENT
    sent = send_api.sent_messages[-1]
    quick_replies = sent["message"]["quick_replies"]
    assert [item["title"] for item in quick_replies] == [
        "5 - Excellent", "4 - Good", "3 - Average", "2 - Poor", "1 - Very poor",
    ]  # fmt: skip
    answer = fixture_json("quick_reply")
    first_item(answer)["message"]["quick_reply"]["payload"] = quick_replies[1]["payload"]
    post_payload(client, messenger_channel, answer)

    survey.refresh_from_db()
    assert (survey.status, survey.rating, survey.operator) == (SurveyStatus.ANSWERED, 4, operator)
    comment = fixture_json("text")
    first_item(comment)["message"].update(mid="m_comment", text="Quick and friendly, thanks")
    post_payload(client, messenger_channel, comment)
    survey.refresh_from_db()
    assert survey.comment == "Quick and friendly, thanks"
    conversation.refresh_from_db()
    assert conversation.status == "resolved"


def test_a_typed_number_answers_the_survey_too(
    client, messenger_channel, operator, send_api, frozen_now
):
    from inbox.models import CsatSurvey

    conversation = customer_wrote(client, messenger_channel, at=NOW - timedelta(hours=1))
    deliver(reply_to(conversation, operator, "Done!"))
    surveys_sent_after_resolving(conversation, operator)
    typed = fixture_json("text")
    first_item(typed)["message"].update(mid="m_typed", text=" 2 ")

    post_payload(client, messenger_channel, typed)

    assert CsatSurvey.objects.get().rating == 2


def test_an_nps_survey_is_eleven_quick_replies_and_a_typed_number_off_the_scale_gets_a_hint(
    client, messenger_channel, operator, send_api, frozen_now, django_capture_on_commit_callbacks
):
    from inbox.models import CsatSurvey

    conversation = customer_wrote(client, messenger_channel, at=NOW - timedelta(hours=1))
    deliver(reply_to(conversation, operator, "Done!"))

    surveys_sent_after_resolving(conversation, operator, kind="nps")

    quick_replies = send_api.sent_messages[-1]["message"]["quick_replies"]
    assert len(quick_replies) == 11 <= 13
    assert [item["title"] for item in quick_replies] == [str(value) for value in range(10, -1, -1)]
    assert (
        "0 = not at all likely, 10 = extremely likely"
        in send_api.sent_messages[-1]["message"]["text"]
    )
    typed = fixture_json("text")
    first_item(typed)["message"].update(mid="m_typed", text="12")
    with django_capture_on_commit_callbacks(execute=True):
        post_payload(client, messenger_channel, typed)

    assert CsatSurvey.objects.get().rating is None
    hint = Message.objects.filter(conversation=conversation, author=None, direction="out").get()
    assert hint.body == "Please answer with a number from 0 to 10."
    answer = fixture_json("quick_reply")
    first_item(answer)["message"]["quick_reply"]["payload"] = quick_replies[1]["payload"]
    post_payload(client, messenger_channel, answer)

    assert CsatSurvey.objects.get().rating == 9


@pytest.mark.parametrize("human_agent_tag", [False, True])
def test_a_survey_after_the_24_hour_window_is_skipped_with_the_reason_not_tagged(
    client, messenger_channel, operator, send_api, frozen_now, human_agent_tag
):
    from inbox.models import CsatSurvey, SurveyStatus

    # The HUMAN_AGENT tag is for a person's replies: it never carries a survey.
    channel_update(channel=messenger_channel, config={"human_agent_tag": human_agent_tag})
    conversation = customer_wrote(client, messenger_channel, at=NOW - timedelta(days=2))
    reply_to(conversation, operator, "Done!")

    surveys_sent_after_resolving(conversation, operator)

    survey = CsatSurvey.objects.get()
    assert (survey.status, survey.reason_code) == (SurveyStatus.SKIPPED, "window_closed")
    assert "Outside Messenger's messaging window" in survey.skip_reason
    assert send_api.requests == []
