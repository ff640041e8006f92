"""Surveys at volume with real processes: a Celery worker as production runs it (prefork,
two processes) on Redis, and a platform on 127.0.0.1 that answers in 20 ms.

Every survey that falls due reaches the platform exactly once: when sweeps race, when a
worker is killed in the middle of a batch, when the platform answers 429. And a survey
goes out when it falls due, not when beat next looks."""

import os
import time
import uuid
from collections import Counter

import pytest
from django.test import Client

from config.celery import app as celery_app
from inbox.models import CsatSurvey, MessageDirection, MessageStatus, SurveyStatus
from inbox.services import conversation_resolve
from tests.factories import ConversationFactory, MessageFactory
from tests.helpers import surveys_due_now
from tests.live.conftest import start_worker, stop, wait_until

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

UNFINISHED = (SurveyStatus.SCHEDULED, SurveyStatus.QUEUED, SurveyStatus.SENDING)
# The worker killed mid-batch: its processes, and the requests each keeps on their way.
PROCESSES = 2
SENDING_THREADS = 2


@pytest.fixture
def queue() -> str:
    return f"switchboard-surveys-{uuid.uuid4().hex[:8]}"


def sweep(queue: str) -> None:
    """What beat does every CSAT_SWEEP_SECONDS."""
    celery_app.send_task("inbox.tasks.csat_surveys_queue_due", queue=queue)


def all_finished() -> bool:
    return not CsatSurvey.objects.filter(status__in=UNFINISHED).exists()


def exactly_once(surveys) -> Counter:
    return Counter({str(survey.conversation_id): 1 for survey in surveys})


def test_surveys_due_at_once_reach_the_platform_exactly_once(
    live_environment, platform_api_channel, operator, fake_platform, queue, tmp_path
):
    surveys = surveys_due_now(
        channel=platform_api_channel, operator=operator, recipients=[f"c-{n}" for n in range(500)]
    )
    worker = start_worker(live_environment, queue, tmp_path / "worker.log", concurrency=2)
    try:
        # Two sweeps at the same moment (beat's and a wake-up, say) share the work.
        sweep(queue)
        sweep(queue)
        wait_until(all_finished, timeout=60, what="500 surveys sent")
    finally:
        stop(worker)

    assert Counter(fake_platform.conversations()) == exactly_once(surveys)
    assert set(CsatSurvey.objects.values_list("status", flat=True)) == {SurveyStatus.SENT}
    assert fake_platform.peak_in_flight > 2


def test_a_worker_killed_mid_batch_resends_nothing_and_loses_nothing(
    live_environment, platform_api_channel, operator, fake_platform, queue, tmp_path
):
    # Three batches: each of the first worker's two processes has surveys left to send
    # for as long as the platform holds its requests.
    surveys = surveys_due_now(
        channel=platform_api_channel, operator=operator, recipients=[f"c-{n}" for n in range(500)]
    )
    environment = {**live_environment, "BROKER_VISIBILITY_TIMEOUT": "2", "CSAT_STALE_SECONDS": "3"}
    # The platform takes the first 100 surveys, then accepts requests without answering.
    fake_platform.hold_after(100)
    first = start_worker(
        {**environment, "CSAT_SEND_CONCURRENCY": str(SENDING_THREADS)},
        queue,
        tmp_path / "first.log",
        concurrency=PROCESSES,
    )
    try:
        sweep(queue)
        # A process claims a survey only when one of its sends has finished: once every
        # sending thread of both waits on a held request, nothing more can be claimed.
        wait_until(
            lambda: len(fake_platform.received) >= 100 + PROCESSES * SENDING_THREADS,
            timeout=30,
            what="every sending thread held",
        )
        on_their_way = {int(c) for c in fake_platform.conversations()[100:]}
        in_sending = set(
            CsatSurvey.objects.filter(status=SurveyStatus.SENDING).values_list(
                "conversation_id", flat=True
            )
        )
        # Claimed means on its way: nothing sits in `sending` that the platform lacks.
        assert len(in_sending) == PROCESSES * SENDING_THREADS
        assert in_sending == on_their_way
        assert CsatSurvey.objects.filter(status=SurveyStatus.QUEUED).count() > 100
    finally:
        os.killpg(first.pid, 9)
        first.wait()
    fake_platform.release()

    second = start_worker(environment, queue, tmp_path / "second.log", concurrency=2)
    try:
        deadline = time.monotonic() + 60
        while not all_finished() and time.monotonic() < deadline:
            sweep(queue)  # beat, every second here
            time.sleep(1)
    finally:
        stop(second)

    assert all_finished()
    assert Counter(fake_platform.conversations()) == exactly_once(surveys)
    states = dict(CsatSurvey.objects.values_list("conversation_id", "status"))
    unknown = {conversation for conversation, state in states.items() if state == "unknown"}
    # What was on its way when the worker died is not sent again: the platform had it.
    assert unknown == in_sending
    assert all(states[c] == SurveyStatus.SENT for c in set(states) - unknown)
    interrupted = CsatSurvey.objects.filter(status=SurveyStatus.UNKNOWN).first()
    assert "not resent" in interrupted.skip_reason
    # Its customer got the survey, and their answer is taken.
    assert Client().get(f"/survey/{interrupted.token}/").status_code == 200
    assert Client().post(f"/survey/{interrupted.token}/", {"rating": "4"}).status_code == 200
    interrupted.refresh_from_db()
    assert (interrupted.status, interrupted.rating) == (SurveyStatus.ANSWERED, 4)


def test_a_429_is_retried_after_retry_after_without_waiting_for_beat(
    live_environment, platform_bot, operator, fake_platform, queue, tmp_path
):
    surveys = surveys_due_now(
        channel=platform_bot, operator=operator, recipients=[str(5000 + n) for n in range(40)]
    )
    fake_platform.throttle_next(3, retry_after=2)
    worker = start_worker(live_environment, queue, tmp_path / "worker.log", concurrency=2)
    try:
        sweep(queue)  # once: the throttled surveys come back by themselves when due
        wait_until(all_finished, timeout=30, what="every survey, the throttled ones again")
    finally:
        stop(worker)

    # Telegram knows a conversation by its chat.
    assert Counter(fake_platform.conversations()) == Counter(
        {survey.conversation.recipient_address: 1 for survey in surveys}
    )
    assert len(fake_platform.throttled) == 3
    accepted_at = {r.conversation: r.at for r in fake_platform.received}
    for throttled in fake_platform.throttled:
        assert accepted_at[throttled.conversation] - throttled.at >= 2.0
    assert set(CsatSurvey.objects.values_list("status", flat=True)) == {SurveyStatus.SENT}
    # Telegram refuses a bot more than ~30 a second (the fake too, with a 429).
    assert fake_platform.peak_per_second("123:ABC") < 30


def test_a_survey_goes_out_when_due_not_when_beat_next_looks(
    celery_worker, platform_api_channel, operator, fake_platform
):
    platform_api_channel.csat = {**platform_api_channel.csat, "delay_seconds": 2}
    platform_api_channel.save()
    conversation = ConversationFactory(
        channel=platform_api_channel, assignee=operator, recipient_address="c-1"
    )
    MessageFactory(
        conversation=conversation,
        direction=MessageDirection.OUTBOUND,
        status=MessageStatus.SENT,
        author=operator,
    )

    resolved_at = time.monotonic()
    conversation_resolve(conversation=conversation, resolved_by=operator)
    wait_until(lambda: fake_platform.received, timeout=15, what="the survey")

    [survey] = fake_platform.received
    assert survey.conversation == str(conversation.pk)
    # Beat sweeps every 15 s; the survey came at its due time, 2 s after resolving.
    assert 1.9 <= survey.at - resolved_at < 4.5
