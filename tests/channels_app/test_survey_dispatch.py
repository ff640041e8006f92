"""Sending a batch of due surveys: requests overlap, each survey goes once, a platform's
rate is kept, a 429 or an outage is retried later and a final refusal is shown, and a
request the platform may have had when its answer was lost is not sent again."""

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app.services.survey_dispatch import csat_surveys_send
from inbox import csat, csat_sending
from inbox.models import ConversationStatus, CsatSurvey, Message, SurveyStatus
from tests.factories import IdentityFactory
from tests.helpers import surveys_due_now

pytestmark = pytest.mark.django_db


def send_due() -> None:
    csat_surveys_send(survey_ids=csat.csat_surveys_queue_due())


def statuses() -> dict[int, str]:
    return dict(CsatSurvey.objects.values_list("conversation_id", "status"))


def test_a_batch_goes_out_with_requests_overlapping_and_each_survey_once(
    platform_api_channel, operator, fake_platform
):
    surveys = surveys_due_now(
        channel=platform_api_channel, operator=operator, recipients=[f"c-{n}" for n in range(60)]
    )
    survey_ids = csat.csat_surveys_queue_due()

    csat_surveys_send(survey_ids=survey_ids)
    csat_surveys_send(survey_ids=survey_ids)  # the task delivered a second time

    assert sorted(fake_platform.conversations()) == sorted(
        str(survey.conversation_id) for survey in surveys
    )
    assert fake_platform.peak_in_flight > 1
    sent = CsatSurvey.objects.all()
    assert {survey.status for survey in sent} == {SurveyStatus.SENT}
    assert len({survey.external_id for survey in sent}) == 60
    assert all(survey.expires_at - survey.sent_at == timedelta(days=7) for survey in sent)


def test_each_survey_of_a_batch_is_checked_again_before_it_goes(
    platform_api_channel, operator, fake_platform
):
    reopened, unanswered, first, second, blocked, fine = surveys_due_now(
        channel=platform_api_channel, operator=operator, recipients=["a", "b", "c", "d", "e", "f"]
    )
    reopened.conversation.status = ConversationStatus.OPEN
    reopened.conversation.save()
    Message.objects.filter(conversation=unanswered.conversation).delete()
    # The same customer resolved two conversations at once: asked once.
    CsatSurvey.objects.filter(pk=second.pk).update(customer=first.customer)
    IdentityFactory(customer=blocked.customer, kind="api", value="e", is_reachable=False)

    send_due()

    reasons = dict(CsatSurvey.objects.values_list("pk", "skip_reason"))
    assert reasons[reopened.pk] == "the conversation was reopened before the survey was due"
    assert reasons[unanswered.pk] == "no operator replied in this conversation"
    assert reasons[second.pk] == "the customer was surveyed in the last 14 days"
    assert reasons[blocked.pk] == "the customer cannot be reached on this channel"
    assert sorted(fake_platform.conversations()) == sorted(
        [str(first.conversation_id), str(fine.conversation_id)]
    )
    assert statuses()[first.conversation_id] == SurveyStatus.SENT
    codes = dict(CsatSurvey.objects.values_list("pk", "reason_code"))
    assert [codes[survey.pk] for survey in (reopened, unanswered, second, blocked)] == [
        "reopened",
        "no_reply",
        "fatigue",
        "unreachable",
    ]
    assert codes[first.pk] == codes[fine.pk] == ""


def test_checking_a_batch_costs_the_same_queries_however_large(
    platform_api_channel, operator, django_assert_num_queries
):
    surveys_due_now(channel=platform_api_channel, operator=operator, recipients=["a", "b"])
    survey_ids = csat.csat_surveys_queue_due()
    with django_assert_num_queries(5):
        csat_sending.csat_surveys_prepare(survey_ids=survey_ids)

    surveys_due_now(
        channel=platform_api_channel, operator=operator, recipients=[f"c-{n}" for n in range(40)]
    )
    survey_ids = csat.csat_surveys_queue_due()
    with django_assert_num_queries(5):
        to_send = csat_sending.csat_surveys_prepare(survey_ids=survey_ids)
    # What sending reads afterwards was loaded with the batch, not row by row.
    with django_assert_num_queries(0):
        for item in to_send:
            assert item.survey.conversation.channel.kind == "api"
            assert item.survey.conversation.recipient_address


def test_a_survey_another_run_claimed_is_not_sent_again(
    platform_api_channel, operator, fake_platform
):
    [survey] = surveys_due_now(channel=platform_api_channel, operator=operator, recipients=["a"])
    survey_ids = csat.csat_surveys_queue_due()

    assert csat_sending.csat_surveys_claim(survey_ids=survey_ids) == {survey.pk}
    assert csat_sending.csat_surveys_claim(survey_ids=survey_ids) == set()
    csat_surveys_send(survey_ids=survey_ids)

    assert fake_platform.received == []
    assert CsatSurvey.objects.get().status == SurveyStatus.SENDING


def test_a_bot_keeps_below_telegrams_rate(platform_bot, operator, fake_platform):
    surveys_due_now(
        channel=platform_bot, operator=operator, recipients=[str(1000 + n) for n in range(40)]
    )

    send_due()

    assert len(fake_platform.conversations("telegram")) == 40
    assert fake_platform.throttled == []
    # Telegram refuses a bot more than ~30 a second (the fake too, with a 429).
    assert fake_platform.peak_per_second("123:ABC") < 30
    [sent] = [r for r in fake_platform.received if r.conversation == "1000"]
    keyboard = sent.body["reply_markup"]["inline_keyboard"][0]
    assert [button["text"] for button in keyboard] == ["1", "2", "3", "4", "5"]


def test_a_429_puts_the_survey_back_for_later_and_holds_the_bot(
    platform_bot, operator, fake_platform, settings
):
    settings.CSAT_SEND_CONCURRENCY = 1
    first, *others = surveys_due_now(
        channel=platform_bot, operator=operator, recipients=["1", "2", "3"]
    )
    fake_platform.throttle_next(1, retry_after=30)
    before = timezone.now()

    send_due()

    # Telegram said to wait 30 s: the bot's other surveys were not tried meanwhile.
    assert len(fake_platform.throttled) == 1
    assert fake_platform.received == []
    surveys = {survey.pk: survey for survey in CsatSurvey.objects.all()}
    assert {survey.status for survey in surveys.values()} == {SurveyStatus.SCHEDULED}
    assert all(survey.due_at >= before + timedelta(seconds=30) for survey in surveys.values())
    assert surveys[first.pk].skip_reason.startswith(
        "retrying after: Telegram takes no more messages for now"
    )
    assert surveys[others[0].pk].skip_reason == "waiting 30 s for the channel's send rate"

    # Another batch for the same bot meanwhile, from any worker, waits too.
    surveys_due_now(channel=platform_bot, operator=operator, recipients=["4"])
    send_due()
    assert fake_platform.received == []
    assert CsatSurvey.objects.filter(status=SurveyStatus.FAILED).count() == 0


def test_an_outage_is_retried_with_backoff_then_shown_failed(
    platform_api_channel, operator, callback_server, settings
):
    platform_api_channel.config = {"callback_url": callback_server.url}
    platform_api_channel.save()
    callback_server.status = 503
    callback_server.response_body = b"maintenance"
    [survey] = surveys_due_now(channel=platform_api_channel, operator=operator, recipients=["a"])

    send_due()

    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SCHEDULED
    assert survey.skip_reason.startswith(
        "retrying after: The callback URL did not accept the message (HTTP 503)"
    )
    assert survey.due_at > timezone.now()

    CsatSurvey.objects.filter(pk=survey.pk).update(
        due_at=timezone.now(), send_attempts=settings.DELIVERY_MAX_RETRIES
    )
    send_due()

    survey.refresh_from_db()
    assert survey.status == SurveyStatus.FAILED
    assert "HTTP 503" in survey.skip_reason and "maintenance" not in survey.skip_reason
    assert len(callback_server.requests) == 2


def test_a_survey_whose_answer_was_lost_is_not_sent_again(
    platform_api_channel, operator, callback_server
):
    platform_api_channel.config = {"callback_url": callback_server.url}
    platform_api_channel.save()
    # The platform takes each request and the connection drops before its answer: the
    # customer may well have the survey.
    callback_server.lose_answers = True
    surveys = surveys_due_now(
        channel=platform_api_channel, operator=operator, recipients=["a", "b"]
    )

    send_due()
    CsatSurvey.objects.update(due_at=timezone.now())
    send_due()

    assert sorted(r.json()["conversation_id"] for r in callback_server.requests) == sorted(
        survey.conversation_id for survey in surveys
    )
    for survey in CsatSurvey.objects.all():
        assert survey.status == SurveyStatus.UNKNOWN
        assert "may have it; not resent" in survey.skip_reason


def test_a_platform_that_cannot_be_reached_is_tried_again(platform_api_channel, operator):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    # Nothing listens there: the request never left.
    platform_api_channel.config = {"callback_url": f"http://127.0.0.1:{port}/callback"}
    platform_api_channel.save()
    [survey] = surveys_due_now(channel=platform_api_channel, operator=operator, recipients=["a"])

    send_due()

    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SCHEDULED
    assert survey.skip_reason.startswith("retrying after: The callback URL was unreachable")
