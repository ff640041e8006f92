import csv
import io
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels_app.services import csat_survey_send
from inbox import csat
from inbox.models import ConversationStatus, CsatSurvey, SurveyStatus
from inbox.services import (
    conversation_assign,
    conversation_reopen,
    conversation_resolve,
    message_reply,
)
from tests.channels_app.test_api_webhook import post_webhook
from tests.conftest import client_for
from tests.factories import ConversationFactory, CustomerFactory, IdentityFactory, UserFactory
from tests.helpers import api_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(channel, operator, callback_server):
    channel.config = {"callback_url": callback_server.url}
    channel.save()
    conversation = ConversationFactory(channel=channel, assignee=operator, recipient_address="u-1")
    IdentityFactory(customer=conversation.customer, kind="api", value=f"{channel.public_id}:u-1")
    message_reply(conversation=conversation, author=operator, body="Fixed it for you.")
    return conversation


def make_due(survey: CsatSurvey) -> None:
    CsatSurvey.objects.filter(pk=survey.pk).update(due_at=timezone.now() - timedelta(seconds=1))


def send_due() -> list[int]:
    ids = csat.csat_surveys_queue_due()
    for survey_id in ids:
        csat_survey_send(survey_id=survey_id)
    return ids


def survey_requests(server) -> list[dict]:
    return [r.json() for r in server.requests if r.json().get("event") == "csat.survey"]


def test_resolving_schedules_one_survey_after_the_channel_delay(conversation, operator):
    before = timezone.now()
    conversation_resolve(conversation=conversation, resolved_by=operator)

    survey = CsatSurvey.objects.get()
    assert survey.status == SurveyStatus.SCHEDULED
    assert survey.operator == operator
    assert survey.due_at >= before + timedelta(seconds=299)
    assert csat.csat_surveys_queue_due() == []


def test_a_due_survey_is_sent_on_the_channel_with_the_page_link(
    conversation, operator, callback_server
):
    conversation_resolve(conversation=conversation, resolved_by=operator)
    survey = CsatSurvey.objects.get()
    make_due(survey)

    assert send_due() == [survey.pk]

    [sent] = survey_requests(callback_server)
    assert sent["conversation_id"] == conversation.pk
    assert sent["survey_url"].endswith(f"/survey/{survey.token}/")
    assert [r["value"] for r in sent["ratings"]] == [1, 2, 3, 4, 5]
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SENT
    assert survey.expires_at - survey.sent_at == timedelta(days=7)


def test_a_conversation_reopened_before_the_delay_gets_no_survey(
    conversation, operator, callback_server
):
    conversation_resolve(conversation=conversation, resolved_by=operator)
    conversation_reopen(conversation=conversation)
    make_due(CsatSurvey.objects.get())

    send_due()

    survey = CsatSurvey.objects.get()
    assert survey.status == SurveyStatus.SKIPPED
    assert "reopened" in survey.skip_reason
    assert survey_requests(callback_server) == []

    conversation_resolve(conversation=conversation, resolved_by=operator)
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SCHEDULED
    assert CsatSurvey.objects.count() == 1


def test_a_send_that_runs_twice_sends_one_survey(conversation, operator, callback_server):
    conversation_resolve(conversation=conversation, resolved_by=operator)
    survey = CsatSurvey.objects.get()
    make_due(survey)
    [survey_id] = csat.csat_surveys_queue_due()

    csat_survey_send(survey_id=survey_id)
    csat_survey_send(survey_id=survey_id)
    assert csat.csat_surveys_queue_due() == []

    assert len(survey_requests(callback_server)) == 1


def test_a_survey_interrupted_while_sending_is_never_resent(
    conversation, operator, callback_server, settings
):
    settings.CSAT_STALE_SECONDS = 60
    conversation_resolve(conversation=conversation, resolved_by=operator)
    survey = CsatSurvey.objects.get()
    make_due(survey)
    csat.csat_surveys_queue_due()
    CsatSurvey.objects.filter(pk=survey.pk).update(
        status=SurveyStatus.SENDING, sending_started_at=timezone.now() - timedelta(minutes=5)
    )

    send_due()
    csat_survey_send(survey_id=survey.pk)

    survey.refresh_from_db()
    assert survey.status == SurveyStatus.UNKNOWN
    assert "not resent" in survey.skip_reason
    assert survey_requests(callback_server) == []


def test_the_fatigue_window_skips_a_customer_surveyed_recently(conversation, operator, channel):
    earlier = ConversationFactory(channel=channel, customer=conversation.customer)
    CsatSurvey.objects.create(
        conversation=earlier,
        customer=conversation.customer,
        channel=channel,
        token="earlier",
        due_at=timezone.now(),
        status=SurveyStatus.SENT,
        sent_at=timezone.now() - timedelta(days=3),
    )
    conversation_resolve(conversation=conversation, resolved_by=operator)
    make_due(CsatSurvey.objects.get(conversation=conversation))

    send_due()

    survey = CsatSurvey.objects.get(conversation=conversation)
    assert survey.status == SurveyStatus.SKIPPED
    assert "last 14 days" in survey.skip_reason


def test_a_conversation_without_operator_reply_gets_no_survey(channel, operator, callback_server):
    channel.config = {"callback_url": callback_server.url}
    channel.save()
    conversation = ConversationFactory(channel=channel, assignee=operator)
    conversation_resolve(conversation=conversation, resolved_by=operator)
    make_due(CsatSurvey.objects.get())

    send_due()

    assert CsatSurvey.objects.get().skip_reason == "no operator replied in this conversation"
    assert CsatSurvey.objects.get().reason_code == "no_reply"
    assert survey_requests(callback_server) == []


def test_surveys_can_be_turned_off_per_channel(conversation, operator):
    conversation.channel.csat = {**conversation.channel.csat, "enabled": False}
    conversation.channel.save()

    conversation_resolve(conversation=conversation, resolved_by=operator)

    assert not CsatSurvey.objects.exists()


@pytest.fixture
def sent_survey(conversation, operator):
    conversation_resolve(conversation=conversation, resolved_by=operator)
    make_due(CsatSurvey.objects.get())
    send_due()
    return CsatSurvey.objects.get()


def test_opening_the_survey_page_never_records_a_rating(client, sent_survey):
    response = client.get(f"/survey/{sent_survey.token}/?rating=5")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="5" checked' in page
    sent_survey.refresh_from_db()
    assert (sent_survey.status, sent_survey.rating) == (SurveyStatus.SENT, None)


def test_submitting_the_page_records_rating_and_comment(client, sent_survey):
    response = client.post(
        f"/survey/{sent_survey.token}/", {"rating": "4", "comment": "Quick and kind"}
    )

    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    sent_survey.refresh_from_db()
    assert (sent_survey.status, sent_survey.rating, sent_survey.comment) == (
        SurveyStatus.ANSWERED,
        4,
        "Quick and kind",
    )


def test_a_reused_link_cannot_change_the_rating(client, sent_survey):
    client.post(f"/survey/{sent_survey.token}/", {"rating": "5"})

    again = client.post(f"/survey/{sent_survey.token}/", {"rating": "1"})

    assert again.status_code == 409
    sent_survey.refresh_from_db()
    assert sent_survey.rating == 5


def test_a_forged_link_is_refused(client, sent_survey):
    response = client.post(f"/survey/{sent_survey.token}x/", {"rating": "5"})

    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_an_expired_survey_is_refused_politely(client, sent_survey):
    CsatSurvey.objects.filter(pk=sent_survey.pk).update(
        expires_at=timezone.now() - timedelta(hours=1)
    )

    response = client.post(f"/survey/{sent_survey.token}/", {"rating": "5"})

    assert response.status_code == 410
    assert "closed" in response.content.decode()
    sent_survey.refresh_from_db()
    assert sent_survey.rating is None


def test_a_plain_digit_reply_answers_without_reopening_and_a_comment_follows(
    client, sent_survey, channel
):
    post_webhook(client, channel, api_payload(message_id="r-1", sender_id="u-1", text=" 2 "))
    post_webhook(
        client, channel, api_payload(message_id="r-2", sender_id="u-1", text="Took three days")
    )

    sent_survey.refresh_from_db()
    assert (sent_survey.rating, sent_survey.comment) == (2, "Took three days")
    sent_survey.conversation.refresh_from_db()
    assert sent_survey.conversation.status == ConversationStatus.RESOLVED

    post_webhook(client, channel, api_payload(message_id="r-3", sender_id="u-1", text="3"))
    sent_survey.refresh_from_db()
    assert sent_survey.rating == 2


def test_a_button_answer_is_recorded(sent_survey):
    from channels_app.contracts import InboundIdentity, InboundMessage
    from inbox.services import message_receive

    message_receive(
        channel=sent_survey.channel,
        inbound=InboundMessage(
            external_id="cb-1",
            recipient_address="u-1",
            identities=tuple(
                InboundIdentity(i.kind, i.value) for i in sent_survey.customer.identities.all()
            )
            or (InboundIdentity("api", "x"),),
            text="5",
            button_payload=csat.csat_button_payload(sent_survey, 5),
        ),
    )

    sent_survey.refresh_from_db()
    assert sent_survey.rating == 5


def test_credit_stays_with_the_operator_assigned_at_resolve(conversation, operator, team):
    colleague = UserFactory(teams=[team])
    conversation_resolve(conversation=conversation, resolved_by=operator)

    conversation_assign(conversation=conversation, operator=colleague)
    conversation_assign(conversation=conversation, operator=None)

    survey = CsatSurvey.objects.get()
    assert (survey.operator, survey.last_replier) == (operator, operator)


def seed_report(channel, operators_and_ratings, *, kind: str = "csat", sent_days_ago: int = 1):
    """Surveys of `kind` sent `sent_days_ago`; a rating of None: sent, not answered."""
    now = timezone.now()
    for operator, ratings in operators_and_ratings:
        for rating in ratings:
            conversation = ConversationFactory(channel=channel, customer=CustomerFactory())
            CsatSurvey.objects.create(
                kind=kind,
                conversation=conversation,
                customer=conversation.customer,
                channel=channel,
                operator=operator,
                token=f"t-{conversation.pk}",
                due_at=now,
                status=SurveyStatus.SENT if rating is None else SurveyStatus.ANSWERED,
                sent_at=now - timedelta(days=sent_days_ago),
                rating=rating,
                answered_at=None
                if rating is None
                else now - timedelta(hours=24 * sent_days_ago - 4),
            )


def seed_not_sent(channel, reasons, *, kind: str = "csat", due_days_ago: int = 1):
    """Surveys of `kind` due `due_days_ago` that did not go out: (status, reason code)."""
    due_at = timezone.now() - timedelta(days=due_days_ago)
    for status, code in reasons:
        conversation = ConversationFactory(channel=channel, customer=CustomerFactory())
        CsatSurvey.objects.create(
            kind=kind,
            conversation=conversation,
            customer=conversation.customer,
            channel=channel,
            token=f"t-{conversation.pk}",
            due_at=due_at,
            status=status,
            skip_reason=code,
            reason_code=code,
        )


def test_report_arithmetic_and_ranking(channel, supervisor):
    steady = UserFactory(username="steady", first_name="Steady")
    lucky = UserFactory(username="lucky", first_name="Lucky")
    seed_report(channel, [(steady, [5, 5, 4, 2, None]), (lucky, [5])])

    response = client_for(supervisor).get("/api/v1/reports/csat/?group_by=operator")

    assert response.status_code == 200
    rows = {row["group"]["name"]: row for row in response.json()["results"]}
    assert rows["Steady"]["surveys_sent"] == 5
    assert rows["Steady"]["responses"] == 4
    assert rows["Steady"]["response_rate"] == 0.8
    assert rows["Steady"]["csat_percent"] == 75.0
    assert rows["Steady"]["average_rating"] == 4.0
    assert rows["Steady"]["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 2}
    assert rows["Steady"]["wilson_lower_bound"] == pytest.approx(0.3006, abs=1e-4)
    assert rows["Lucky"]["csat_percent"] == 100.0
    assert rows["Lucky"]["wilson_lower_bound"] == pytest.approx(0.2065, abs=1e-4)
    assert rows["Lucky"]["enough_responses"] is False
    assert [row["group"]["name"] for row in response.json()["results"]] == ["Steady", "Lucky"]
    assert [s["rating"] for s in response.json()["needs_attention"]] == [2]


def test_report_query_count_is_flat(channel, supervisor):
    api = client_for(supervisor)
    seed_report(channel, [(UserFactory(), [5, 3])])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/api/v1/reports/csat/?group_by=operator").status_code == 200
        return len(captured)

    few = queries()
    seed_report(channel, [(UserFactory(), [4, 1, 5]) for _ in range(12)])
    assert queries() == few


@pytest.mark.parametrize("group_by", ["team", "channel", "day"])
def test_report_groupings(channel, supervisor, group_by):
    seed_report(channel, [(UserFactory(), [4, 5])])

    response = client_for(supervisor).get(f"/api/v1/reports/csat/?group_by={group_by}")

    assert response.status_code == 200
    assert sum(row["responses"] for row in response.json()["results"]) == 2


def test_report_csv_export(channel, supervisor):
    seed_report(channel, [(UserFactory(username="steady"), [5, 4])])

    response = client_for(supervisor).get("/api/v1/reports/csat/?format=csv")

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows[0]["responses"] == "2" and rows[0]["csat_percent"] == "100.0"


def test_reports_are_for_supervisors(operator_client):
    assert operator_client.get("/api/v1/reports/csat/").status_code == 403
    assert operator_client.get("/api/v1/reports/conversations/").status_code == 403


def test_bad_report_parameters_are_a_json_400(supervisor_client):
    response = supervisor_client.get("/api/v1/reports/csat/?group_by=planet&from=someday")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"group_by", "from"}


def test_conversation_report_timings(channel, operator, supervisor_client):
    now = timezone.now()
    for minutes in (2, 4, 10):
        conversation = ConversationFactory(channel=channel, assignee=operator)
        conversation.__class__.objects.filter(pk=conversation.pk).update(
            created_at=now - timedelta(hours=1),
            first_response_at=now - timedelta(hours=1) + timedelta(minutes=minutes),
            resolved_at=now - timedelta(hours=1) + timedelta(minutes=minutes * 3),
        )

    data = supervisor_client.get("/api/v1/reports/conversations/").json()

    [row] = [r for r in data["by_operator"] if r["group"]["id"] == operator.pk]
    assert row["conversations"] == row["volume"] == 3
    assert row["first_response"] == {"median_seconds": 240.0, "p90_seconds": 600.0}
    assert row["resolution"]["median_seconds"] == 720.0
    assert json.dumps(data)
