"""A delivery task that outlives its sending deadline: the sweep settled its send and
another task claimed the message again. The late task writes nothing over the new claim
(no progress, no outcome, no release) and sends no further part."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from channels_app.contracts import DeliveryProgress
from channels_app.services import message_deliver, messages_settle_stale_sending
from inbox.models import Message, MessageStatus
from inbox.services import (
    message_claim_for_sending,
    message_record_delivery_attempt,
    message_record_progress,
    message_release_claim,
    message_reply,
    message_retry_delivery,
)
from tests.channels_app import test_delivery_claim as claim_tests
from tests.channels_app.telegram import conftest as telegram_fixtures
from tests.failure_reasons import reason_text
from tests.fakes.telegram import bad_request

fake_telegram = telegram_fixtures.fake_telegram
telegram_channel = telegram_fixtures.telegram_channel
enqueued_tasks = telegram_fixtures.enqueued_tasks
api_reply = claim_tests.api_reply
telegram_conversation = claim_tests.telegram_conversation

LATE_WRITES = {
    "progress": lambda message_id, claim: message_record_progress(
        message_id=message_id, claim=claim, progress=DeliveryProgress(parts_sent=1)
    ),
    "sent": lambda message_id, claim: message_record_delivery_attempt(
        message_id=message_id, claim=claim, external_id="late-id"
    ),
    "failed": lambda message_id, claim: message_record_delivery_attempt(
        message_id=message_id, claim=claim, error="HTTP 400", is_final=True
    ),
    "retry": lambda message_id, claim: message_record_delivery_attempt(
        message_id=message_id, claim=claim, error="HTTP 503"
    ),
    "unknown": lambda message_id, claim: message_record_delivery_attempt(
        message_id=message_id, claim=claim, error="no answer", is_outcome_unknown=True
    ),
    "release": lambda message_id, claim: message_release_claim(message_id=message_id, claim=claim),
}


def deadline_passes(message: Message) -> None:
    """The send began long ago as far as the database knows; beat's sweep then runs."""
    Message.objects.filter(pk=message.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    messages_settle_stale_sending()


def deliver_in_thread(message_id: int) -> threading.Thread:
    """The late task: a delivery running on its own connection, as on another worker."""

    def run() -> None:
        try:
            message_deliver(message_id=message_id, attempt=1, max_attempts=1)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.parametrize("late_write", sorted(LATE_WRITES))
@pytest.mark.django_db
def test_a_task_whose_claim_was_taken_over_writes_nothing(api_reply, late_write, caplog):
    # Given a first task's claim, settled by the sweep, and a second task's claim since
    first = message_claim_for_sending(message_id=api_reply.pk)
    deadline_passes(api_reply)
    assert Message.objects.get(pk=api_reply.pk).status == MessageStatus.QUEUED
    second = message_claim_for_sending(message_id=api_reply.pk)
    assert second is not None and second != first

    # When the first task writes late
    outcome = LATE_WRITES[late_write](api_reply.pk, first)

    # Then nothing changed: the message is the second task's to send and record
    assert not outcome
    message = Message.objects.get(pk=api_reply.pk)
    assert (message.status, message.sending_claim) == (MessageStatus.SENDING, second)
    assert (reason_text(message), message.delivery_progress, message.delivery_attempts) == (
        "",
        None,
        0,
    )
    assert "no longer this task's" in caplog.text
    recorded = message_record_delivery_attempt(
        message_id=api_reply.pk, claim=second, external_id="remote-2"
    )
    assert recorded is not None
    assert (recorded.status, recorded.external_id) == (MessageStatus.SENT, "remote-2")


@pytest.mark.django_db
def test_a_task_whose_claim_stands_records_its_progress_and_outcome(api_reply):
    claim = message_claim_for_sending(message_id=api_reply.pk)

    assert message_record_progress(
        message_id=api_reply.pk, claim=claim, progress=DeliveryProgress(parts_sent=1)
    )
    assert message_record_delivery_attempt(message_id=api_reply.pk, claim=claim, error="HTTP 503")

    assert Message.objects.get(pk=api_reply.pk).status == MessageStatus.QUEUED


@pytest.mark.django_db(transaction=True)
def test_a_late_task_sends_no_further_part_once_its_send_was_taken_over(
    telegram_conversation, operator, fake_telegram, enqueued_tasks, caplog
):
    # A reply of three Telegram messages; the platform holds the first task's second part.
    body = " ".join(f"word{number}" for number in range(1200))
    reply = message_reply(conversation=telegram_conversation, author=operator, body=body)
    fake_telegram.hold_sends(after=1)
    late_task = deliver_in_thread(reply.pk)
    try:
        assert fake_telegram.held.wait(20)
        # The deadline passes: the send becomes unknown, the operator sends it again, and
        # a second task delivers it while the platform still holds the first one's part.
        deadline_passes(reply)
        assert Message.objects.get(pk=reply.pk).status == MessageStatus.UNKNOWN
        message_retry_delivery(message=Message.objects.get(pk=reply.pk))
        fake_telegram.hold_sends(after=100)
        message_deliver(message_id=reply.pk, attempt=1, max_attempts=1)
        resent = Message.objects.get(pk=reply.pk)
        assert resent.status == MessageStatus.SENT
    finally:
        fake_telegram.release.set()
        late_task.join(30)

    texts = [call.params["text"] for call in fake_telegram.calls_to("sendMessage")]
    first, second, third = texts[0], texts[1], texts[-1]
    # The first task's held part went out; its third part never did (the second task sent
    # the rest, as the operator asked).
    assert texts == [first, second, second, third]
    message = Message.objects.get(pk=reply.pk)
    assert (message.status, message.external_id) == (MessageStatus.SENT, resent.external_id)
    assert "no longer this task's" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_late_failure_never_fails_a_message_another_task_is_sending(
    telegram_conversation, operator, fake_telegram, enqueued_tasks
):
    reply = message_reply(conversation=telegram_conversation, author=operator, body="Hello")
    fake_telegram.hold_sends(after=0)
    late_task = deliver_in_thread(reply.pk)
    try:
        assert fake_telegram.held.wait(20)
        deadline_passes(reply)
        message_retry_delivery(message=Message.objects.get(pk=reply.pk))
        second = message_claim_for_sending(message_id=reply.pk)
        # The platform refuses the first task's held request for good.
        fake_telegram.fail_next(bad_request("Bad Request: chat not found"), method="sendMessage")
    finally:
        fake_telegram.release.set()
        late_task.join(30)

    message = Message.objects.get(pk=reply.pk)
    assert (message.status, message.sending_claim, reason_text(message)) == (
        MessageStatus.SENDING,
        second,
        "",
    )
