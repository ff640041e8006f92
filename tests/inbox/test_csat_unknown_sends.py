"""A survey whose send's outcome is unknown (its worker died, or the send broke in a way
that says nothing of the platform) is never resent, yet the customer who did get it can
still answer: on the survey page, with a messenger button, or with a typed number."""

from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app.contracts import InboundIdentity, InboundMessage
from channels_app.services import csat_survey_send
from inbox import csat
from inbox.models import ConversationStatus, CsatSurvey, SurveyStatus
from inbox.services import conversation_resolve, message_receive, message_reply
from tests.channels_app.test_api_webhook import post_webhook
from tests.conftest import client_for
from tests.factories import ConversationFactory, IdentityFactory
from tests.helpers import api_payload

pytestmark = pytest.mark.django_db

SENDING_BEGAN = timedelta(minutes=5)


@pytest.fixture
def conversation(channel, operator, callback_server):
    channel.config = {"callback_url": callback_server.url}
    channel.save()
    conversation = ConversationFactory(channel=channel, assignee=operator, recipient_address="u-1")
    IdentityFactory(customer=conversation.customer, kind="api", value=f"{channel.public_id}:u-1")
    message_reply(conversation=conversation, author=operator, body="Fixed it for you.")
    return conversation


@pytest.fixture
def unknown_survey(conversation, operator, settings, callback_server):
    """A survey its worker claimed and then died with: the sweep finds it in `sending`."""
    settings.CSAT_STALE_SECONDS = 60
    conversation_resolve(conversation=conversation, resolved_by=operator)
    CsatSurvey.objects.update(due_at=timezone.now())
    [survey_id] = csat.csat_surveys_queue_due()
    CsatSurvey.objects.filter(pk=survey_id).update(
        status=SurveyStatus.SENDING, sending_started_at=timezone.now() - SENDING_BEGAN
    )

    csat.csat_surveys_queue_due()

    survey = CsatSurvey.objects.get()
    assert survey.status == SurveyStatus.UNKNOWN
    return survey


def survey_requests(server) -> list[dict]:
    return [r.json() for r in server.requests if r.json().get("event") == "csat.survey"]


def test_an_unknown_survey_is_not_resent_and_says_why(unknown_survey, callback_server):
    csat_survey_send(survey_id=unknown_survey.pk)
    assert csat.csat_surveys_queue_due() == []

    assert survey_requests(callback_server) == []
    unknown_survey.refresh_from_db()
    assert unknown_survey.status == SurveyStatus.UNKNOWN
    assert "may have reached the customer" in unknown_survey.skip_reason
    assert "not resent" in unknown_survey.skip_reason
    assert unknown_survey.sent_at is None


def test_resolving_again_does_not_schedule_an_unknown_survey_anew(
    unknown_survey, conversation, operator
):
    conversation.refresh_from_db()
    conversation.status = ConversationStatus.OPEN
    conversation.save()

    conversation_resolve(conversation=conversation, resolved_by=operator)

    unknown_survey.refresh_from_db()
    assert unknown_survey.status == SurveyStatus.UNKNOWN


def test_its_page_opens_and_takes_the_answer(client, unknown_survey):
    page = client.get(f"/survey/{unknown_survey.token}/")
    assert page.status_code == 200

    response = client.post(f"/survey/{unknown_survey.token}/", {"rating": "4", "comment": "Fine"})

    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    unknown_survey.refresh_from_db()
    assert (unknown_survey.status, unknown_survey.rating, unknown_survey.comment) == (
        SurveyStatus.ANSWERED,
        4,
        "Fine",
    )
    # The answer proves it arrived: it counts as sent when its sending began.
    assert unknown_survey.sent_at == unknown_survey.sending_started_at


def test_a_messenger_button_answers_it(unknown_survey):
    message_receive(
        channel=unknown_survey.channel,
        inbound=InboundMessage(
            external_id="cb-1",
            recipient_address="u-1",
            identities=tuple(
                InboundIdentity(i.kind, i.value) for i in unknown_survey.customer.identities.all()
            ),
            text="5",
            button_payload=csat.csat_button_payload(unknown_survey, 5),
        ),
    )

    unknown_survey.refresh_from_db()
    assert (unknown_survey.status, unknown_survey.rating) == (SurveyStatus.ANSWERED, 5)
    unknown_survey.conversation.refresh_from_db()
    assert unknown_survey.conversation.status == ConversationStatus.RESOLVED


def test_a_typed_number_answers_it_without_reopening(client, unknown_survey, channel):
    post_webhook(client, channel, api_payload(message_id="r-1", sender_id="u-1", text="2"))

    unknown_survey.refresh_from_db()
    assert (unknown_survey.status, unknown_survey.rating) == (SurveyStatus.ANSWERED, 2)
    unknown_survey.conversation.refresh_from_db()
    assert unknown_survey.conversation.status == ConversationStatus.RESOLVED


def test_it_closes_after_the_channels_expiry_counted_from_the_send(client, unknown_survey):
    assert unknown_survey.expires_at == unknown_survey.sending_started_at + timedelta(days=7)
    CsatSurvey.objects.filter(pk=unknown_survey.pk).update(
        expires_at=timezone.now() - timedelta(hours=1)
    )

    response = client.post(f"/survey/{unknown_survey.token}/", {"rating": "5"})

    assert response.status_code == 410
    unknown_survey.refresh_from_db()
    assert (unknown_survey.status, unknown_survey.rating) == (SurveyStatus.UNKNOWN, None)


def test_reports_count_it_as_sent_only_once_answered(client, unknown_survey, supervisor):
    reports = client_for(supervisor)

    def channel_row() -> dict | None:
        rows = reports.get("/api/v1/reports/csat/?group_by=channel").json()["results"]
        return rows[0] if rows else None

    # Unanswered, nobody knows it arrived: it does not lower the response rate.
    assert channel_row() is None

    client.post(f"/survey/{unknown_survey.token}/", {"rating": "5"})

    row = channel_row()
    assert (row["surveys_sent"], row["responses"], row["response_rate"]) == (1, 1, 1.0)


def test_it_counts_for_the_fatigue_window_of_the_customers_next_survey(
    unknown_survey, channel, operator, callback_server
):
    later = ConversationFactory(
        channel=channel, customer=unknown_survey.customer, assignee=operator
    )
    message_reply(conversation=later, author=operator, body="Done again.")
    conversation_resolve(conversation=later, resolved_by=operator)
    CsatSurvey.objects.filter(conversation=later).update(due_at=timezone.now())

    for survey_id in csat.csat_surveys_queue_due():
        csat_survey_send(survey_id=survey_id)

    survey = CsatSurvey.objects.get(conversation=later)
    assert survey.status == SurveyStatus.SKIPPED
    assert "surveyed in the last 14 days" in survey.skip_reason
    assert survey_requests(callback_server) == []
