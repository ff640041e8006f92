"""CSAT with real processes: a Celery worker on Redis sends the survey after its delay,
the customer answers on the live survey page, the report credits the operator; and a
worker killed in the middle of sending never leads to a second survey."""

import os
import time
import uuid

import httpx
import pytest

from config.celery import app as celery_app
from inbox import people
from inbox.models import CsatSurvey, SurveyStatus
from inbox.services import conversation_resolve, message_reply
from tests.factories import ConversationFactory
from tests.live.conftest import start_worker, stop, wait_until

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def surveys_received(server) -> list[dict]:
    return [r.json() for r in server.requests if r.json().get("event") == "csat.survey"]


@pytest.fixture
def resolved_conversation(channel, operator, callback_server):
    channel.config = {"callback_url": callback_server.url}
    channel.csat = {**channel.csat, "delay_seconds": 1}
    channel.save()
    conversation = ConversationFactory(channel=channel, assignee=operator, recipient_address="c-9")
    message_reply(conversation=conversation, author=operator, body="All sorted!")
    conversation_resolve(conversation=conversation, resolved_by=operator)
    return conversation


def test_survey_sent_after_the_delay_answered_and_reported(
    celery_worker, live_server_url, resolved_conversation, operator, supervisor, callback_server
):
    celery_app.send_task("inbox.tasks.csat_surveys_queue_due")
    time.sleep(0.5)
    assert surveys_received(callback_server) == []

    time.sleep(1.0)
    celery_app.send_task("inbox.tasks.csat_surveys_queue_due")
    wait_until(lambda: surveys_received(callback_server), timeout=15, what="the survey")

    [survey_event] = surveys_received(callback_server)
    assert survey_event["survey_url"].startswith(live_server_url)
    assert httpx.get(survey_event["survey_url"]).status_code == 200
    answer = httpx.post(survey_event["survey_url"], data={"rating": "5", "comment": "Great"})
    assert answer.status_code == 200
    report = httpx.get(
        f"{live_server_url}/api/v1/reports/csat/?group_by=operator",
        headers={"Authorization": f"Token {people.operator_api_token(user=supervisor)}"},
    ).json()
    [row] = report["results"]
    assert row["group"]["id"] == operator.pk
    assert (row["surveys_sent"], row["responses"], row["csat_percent"]) == (1, 1, 100.0)


def test_a_worker_killed_while_sending_never_sends_a_second_survey(
    live_environment, resolved_conversation, callback_server, tmp_path, settings
):
    queue = f"switchboard-kill-{uuid.uuid4().hex[:8]}"
    environment = {**live_environment, "BROKER_VISIBILITY_TIMEOUT": "2"}
    callback_server.answer_delay = 60
    CsatSurvey.objects.update(due_at=resolved_conversation.resolved_at)
    first = start_worker(environment, queue, tmp_path / "first.log")
    try:
        celery_app.send_task("inbox.tasks.csat_surveys_queue_due", queue=queue)
        wait_until(lambda: surveys_received(callback_server), timeout=15, what="the survey send")
        assert CsatSurvey.objects.get().status == SurveyStatus.SENDING
    finally:
        os.killpg(first.pid, 9)
        first.wait()

    second_log = tmp_path / "second.log"
    second = start_worker(environment, queue, second_log)
    try:
        # The unacknowledged task comes back once its visibility timeout has passed.
        wait_until(
            lambda: "csat_survey_send" in second_log.read_text(),
            timeout=30,
            what="the redelivered send task",
            log=second_log,
        )
        time.sleep(1)
    finally:
        stop(second)

    settings.CSAT_STALE_SECONDS = 0
    from inbox.csat import csat_surveys_queue_due

    csat_surveys_queue_due()
    survey = CsatSurvey.objects.get()
    assert len(surveys_received(callback_server)) == 1
    assert survey.status == SurveyStatus.UNKNOWN
    assert "not resent" in survey.skip_reason
