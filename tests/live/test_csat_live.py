"""CSAT with real processes: a Celery worker on Redis sends the survey after its delay,
the customer answers on the live survey page, the report credits the operator; and
neither a worker killed in the middle of sending nor a platform that never answers leads
to a second survey."""

import json
import os
import time
import uuid

import httpx
import pytest
import redis
from django.conf import settings as django_settings
from django.utils import timezone

from channels_app.contracts import SEND_SURVEY_BATCH_TASK
from config.celery import app as celery_app
from inbox import people
from inbox.csat import SWEEP_TASK
from inbox.models import CsatSurvey, SurveyStatus
from inbox.services import conversation_resolve, message_reply
from tests.factories import ConversationFactory
from tests.live.conftest import start_worker, stop, wait_until

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def surveys_received(server) -> list[dict]:
    return [r.json() for r in server.requests if r.json().get("event") == "csat.survey"]


def resolved(channel, operator, callback_server, *, delay_seconds: int):
    channel.config = {"callback_url": callback_server.url}
    channel.csat = {**channel.csat, "delay_seconds": delay_seconds}
    channel.save()
    conversation = ConversationFactory(channel=channel, assignee=operator, recipient_address="c-9")
    message_reply(conversation=conversation, author=operator, body="All sorted!")
    conversation_resolve(conversation=conversation, resolved_by=operator)
    return conversation


@pytest.fixture
def resolved_conversation(channel, operator, callback_server):
    return resolved(channel, operator, callback_server, delay_seconds=1)


@pytest.fixture
def survey_made_due(channel, operator, callback_server):
    """A resolved conversation whose survey the test makes due. Due an hour later at first,
    it asks for no sweep of its own (one would reach the session's worker, on the run's
    queue), so only the workers the test starts on a queue of its own send it."""
    conversation = resolved(channel, operator, callback_server, delay_seconds=3600)
    CsatSurvey.objects.update(due_at=timezone.now())
    return conversation


def unacknowledged_send_task(queue: str) -> tuple[str, float] | None:
    """The survey send task a worker of `queue` took and never acknowledged: its id and
    when it was handed out, from the broker's own records in Redis."""
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    for tag, record in broker.hgetall("unacked").items():
        message, _exchange, routing_key = json.loads(record)
        if routing_key == queue and message["headers"]["task"] == SEND_SURVEY_BATCH_TASK:
            handed_out_at = broker.zscore("unacked_index", tag)
            return message["headers"]["id"], float(handed_out_at or 0)
    return None


def task_finished(log, task_id: str):
    return lambda: f"[{task_id}] succeeded" in log.read_text()


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


VISIBILITY_TIMEOUT = 2


def test_a_worker_killed_while_sending_never_sends_a_second_survey(
    live_environment, survey_made_due, callback_server, tmp_path, settings
):
    queue = f"switchboard-kill-{uuid.uuid4().hex[:8]}"
    environment = {
        **live_environment,
        "BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        # The send is still waiting for its answer when the worker dies, however slow
        # the machine.
        "DELIVERY_TIMEOUT_SECONDS": "120",
    }
    callback_server.answer_delay = 60
    first = start_worker(environment, queue, tmp_path / "first.log")
    try:
        celery_app.send_task(SWEEP_TASK, queue=queue)
        wait_until(lambda: surveys_received(callback_server), timeout=15, what="the survey send")
        assert CsatSurvey.objects.get().status == SurveyStatus.SENDING
    finally:
        os.killpg(first.pid, 9)
        first.wait()

    # The send task the dead worker never acknowledged is handed out again by the next
    # worker to start once it has waited past the broker's visibility timeout.
    unacknowledged = unacknowledged_send_task(queue)
    assert unacknowledged is not None
    task_id, handed_out_at = unacknowledged
    wait_until(
        lambda: time.time() - handed_out_at > VISIBILITY_TIMEOUT,
        timeout=VISIBILITY_TIMEOUT + 5,
        what="the visibility timeout",
    )
    second_log = tmp_path / "second.log"
    second = start_worker(environment, queue, second_log)
    try:
        wait_until(
            task_finished(second_log, task_id),
            timeout=30,
            what="the redelivered send task",
            log=second_log,
        )
    finally:
        stop(second)

    settings.CSAT_STALE_SECONDS = 0
    from inbox.csat import csat_surveys_queue_due

    csat_surveys_queue_due()
    survey = CsatSurvey.objects.get()
    assert len(surveys_received(callback_server)) == 1
    assert survey.status == SurveyStatus.UNKNOWN
    assert "not resent" in survey.skip_reason


def test_a_platform_that_never_answers_gets_one_survey(
    live_environment, survey_made_due, callback_server, tmp_path
):
    queue = f"switchboard-silent-{uuid.uuid4().hex[:8]}"
    environment = {**live_environment, "DELIVERY_TIMEOUT_SECONDS": "1"}
    callback_server.answer_delay = 60
    log = tmp_path / "worker.log"
    worker = start_worker(environment, queue, log)
    try:
        celery_app.send_task(SWEEP_TASK, queue=queue)
        wait_until(
            lambda: CsatSurvey.objects.get().status == SurveyStatus.UNKNOWN,
            timeout=30,
            what="the send given up without an answer",
            log=log,
        )
        # Beat's next sweep finds nothing to send again.
        sweep = celery_app.send_task(SWEEP_TASK, queue=queue)
        wait_until(task_finished(log, sweep.id), timeout=30, what="the next sweep", log=log)
    finally:
        stop(worker)

    assert len(surveys_received(callback_server)) == 1
    survey = CsatSurvey.objects.get()
    assert survey.status == SurveyStatus.UNKNOWN
    assert "may have it; not resent" in survey.skip_reason
    assert "ReadTimeout" in survey.skip_reason
