"""A reply is claimed before it is sent: two copies of its delivery task at once send it
once, a send cut off mid-way is settled by the sweep (resent with the same key, or left
`unknown` for the operator), and a several-part reply never repeats a part that went out."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from channels_app.contracts import SETTLE_STALE_SENDING_TASK
from channels_app.models import Channel
from channels_app.registry import UnknownChannelKind
from channels_app.services import message_deliver, messages_settle_stale_sending
from inbox.models import Conversation, Message, MessageStatus
from inbox.services import (
    delivery_retry_delay,
    message_claim_for_sending,
    message_record_delivery_attempt,
    message_reply,
)
from tests.channels_app.telegram import conftest as telegram_fixtures
from tests.channels_app.telegram.helpers import post_update, update_body
from tests.factories import ConversationFactory
from tests.failure_reasons import reason_text
from tests.fakes.telegram import INTERNAL_SERVER_ERROR

# The Telegram channel's fixtures: a fake Bot API, a channel calling it, tasks recorded.
fake_telegram = telegram_fixtures.fake_telegram
telegram_channel = telegram_fixtures.telegram_channel
enqueued_tasks = telegram_fixtures.enqueued_tasks


def deliver_in_threads(message_id: int, copies: int) -> None:
    """Run the delivery task `copies` times at once, each on its own database connection."""
    start = threading.Barrier(copies)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            message_deliver(message_id=message_id, attempt=1, max_attempts=3)
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures, failures


def make_stale(message: Message) -> None:
    """What a worker killed mid-send leaves: `sending`, untouched since long ago."""
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING, updated_at=timezone.now() - timedelta(hours=1)
    )


@pytest.fixture
def api_reply(channel, operator, callback_server):
    channel.config = {"callback_url": callback_server.url}
    channel.save()
    conversation = ConversationFactory(channel=channel, recipient_address="u-42")
    return message_reply(conversation=conversation, author=operator, body="It ships tomorrow.")


@pytest.fixture
def telegram_conversation(client, telegram_channel):
    post_update(client, telegram_channel, update_body("message_text"))
    return Conversation.objects.get()


# Claim before send


@pytest.mark.django_db(transaction=True)
def test_two_copies_of_the_task_at_once_send_the_reply_once(api_reply, callback_server):
    # The platform is slow, so both copies are running while the first send is held.
    callback_server.answer_delay = 1.0

    deliver_in_threads(api_reply.pk, copies=4)

    assert len(callback_server.requests) == 1
    message = Message.objects.get(pk=api_reply.pk)
    assert message.status == MessageStatus.SENT
    assert message.delivery_attempts == 1


@pytest.mark.django_db(transaction=True)
def test_two_copies_of_a_telegram_task_at_once_send_one_message(
    telegram_conversation,
    operator,
    fake_telegram,
):
    reply = message_reply(conversation=telegram_conversation, author=operator, body="Once only")
    fake_telegram.hold_sends(after=0)
    threading.Timer(0.5, fake_telegram.release.set).start()

    deliver_in_threads(reply.pk, copies=2)

    assert len(fake_telegram.calls_to("sendMessage")) == 1
    assert Message.objects.get(pk=reply.pk).status == MessageStatus.SENT


@pytest.mark.django_db
def test_a_message_another_task_is_sending_is_left_alone(api_reply, callback_server):
    Message.objects.filter(pk=api_reply.pk).update(status=MessageStatus.SENDING)

    assert message_deliver(message_id=api_reply.pk, attempt=1, max_attempts=3) is None

    assert callback_server.requests == []
    assert Message.objects.get(pk=api_reply.pk).status == MessageStatus.SENDING


@pytest.mark.django_db
def test_a_retryable_failure_puts_the_claimed_message_back_in_the_queue(api_reply, callback_server):
    callback_server.status = 503

    delay = message_deliver(message_id=api_reply.pk, attempt=1, max_attempts=3)

    assert delay is not None
    assert Message.objects.get(pk=api_reply.pk).status == MessageStatus.QUEUED


@pytest.mark.django_db
def test_a_reply_whose_answer_was_lost_is_left_to_the_operator_not_sent_again(
    telegram_conversation, operator, fake_telegram
):
    reply = message_reply(conversation=telegram_conversation, author=operator, body="Once only")
    fake_telegram.lose_send_answers_after = 0

    delay = message_deliver(message_id=reply.pk, attempt=1, max_attempts=3)

    assert delay is None
    message = Message.objects.get(pk=reply.pk)
    assert message.status == MessageStatus.UNKNOWN
    assert "may have the reply" in reason_text(message)
    # A stray copy of the task sends nothing more.
    message_deliver(message_id=reply.pk, attempt=2, max_attempts=3)
    assert len(fake_telegram.calls_to("sendMessage")) == 1


@pytest.mark.django_db
def test_a_several_part_reply_whose_second_answer_was_lost_keeps_its_first_part_sent(
    telegram_conversation, operator, fake_telegram
):
    long_text = "Step by step. " * 400  # two Telegram messages
    reply = message_reply(conversation=telegram_conversation, author=operator, body=long_text)
    fake_telegram.lose_send_answers_after = 1

    assert message_deliver(message_id=reply.pk, attempt=1, max_attempts=3) is None

    message = Message.objects.get(pk=reply.pk)
    assert message.status == MessageStatus.UNKNOWN
    assert message.delivery_progress["parts_sent"] == 1
    assert len(fake_telegram.calls_to("sendMessage")) == 2


@pytest.mark.django_db
def test_a_reply_to_a_platform_that_drops_repeats_is_tried_again_after_a_lost_answer(
    api_reply, callback_server
):
    callback_server.lose_answers = True

    delay = message_deliver(message_id=api_reply.pk, attempt=1, max_attempts=3)

    assert delay is not None
    assert Message.objects.get(pk=api_reply.pk).status == MessageStatus.QUEUED


@pytest.mark.django_db
def test_retry_countdowns_stay_below_the_sweeps_deadlines(settings):
    settings.DELIVERY_SENDING_DEADLINE_SECONDS = 300
    settings.DELIVERY_STUCK_AFTER_SECONDS = 1800

    # A platform asking to wait an hour, and backoff after many tries, alike.
    assert delivery_retry_delay(attempt=1, retry_after=3600) < 300
    assert all(delivery_retry_delay(attempt=20) < 300 for _ in range(50))


# Sends cut off mid-way


@pytest.mark.django_db
def test_a_stale_send_on_a_platform_without_a_key_becomes_unknown(
    telegram_conversation,
    operator,
    fake_telegram,
    enqueued_tasks,
):
    reply = message_reply(conversation=telegram_conversation, author=operator, body="Hello")
    make_stale(reply)
    enqueued_tasks.clear()

    assert messages_settle_stale_sending() == 1

    message = Message.objects.get(pk=reply.pk)
    assert message.status == MessageStatus.UNKNOWN
    assert enqueued_tasks == []  # nothing sent again behind the operator's back
    assert fake_telegram.calls_to("sendMessage") == []


@pytest.mark.django_db
def test_a_stale_send_on_a_platform_that_drops_repeats_is_sent_again_with_the_same_key(
    api_reply, callback_server, django_capture_on_commit_callbacks, enqueued_tasks
):
    make_stale(api_reply)
    enqueued_tasks.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert messages_settle_stale_sending() == 1

    assert Message.objects.get(pk=api_reply.pk).status == MessageStatus.QUEUED
    [(_, args)] = enqueued_tasks
    assert args == [api_reply.pk]
    message_deliver(message_id=api_reply.pk, attempt=1, max_attempts=3)
    assert json.loads(callback_server.requests[0].body)["id"] == api_reply.pk
    assert Message.objects.get(pk=api_reply.pk).status == MessageStatus.SENT


@pytest.mark.django_db
def test_a_send_still_within_its_deadline_is_left_alone(
    telegram_conversation,
    operator,
    fake_telegram,
):
    reply = message_reply(conversation=telegram_conversation, author=operator, body="Hello")
    Message.objects.filter(pk=reply.pk).update(status=MessageStatus.SENDING)

    assert messages_settle_stale_sending() == 0

    assert Message.objects.get(pk=reply.pk).status == MessageStatus.SENDING


@pytest.mark.django_db
def test_a_late_success_settles_an_unknown_send_as_sent(api_reply, callback_server):
    claim = message_claim_for_sending(message_id=api_reply.pk)
    Message.objects.filter(pk=api_reply.pk).update(status=MessageStatus.UNKNOWN)

    message_record_delivery_attempt(message_id=api_reply.pk, claim=claim, external_id="remote-9")

    message = Message.objects.get(pk=api_reply.pk)
    assert (message.status, message.external_id) == (MessageStatus.SENT, "remote-9")


@pytest.mark.django_db
def test_a_late_failure_leaves_a_send_the_sweep_settled_alone(api_reply):
    claim = message_claim_for_sending(message_id=api_reply.pk)
    Message.objects.filter(pk=api_reply.pk).update(status=MessageStatus.UNKNOWN)

    assert (
        message_record_delivery_attempt(
            message_id=api_reply.pk, claim=claim, error="timeout", is_final=True
        )
        is None
    )

    assert Message.objects.get(pk=api_reply.pk).status == MessageStatus.UNKNOWN


def test_the_sweep_is_scheduled_on_beat(settings):
    entries = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert SETTLE_STALE_SENDING_TASK in entries


# The operator's resend


@pytest.mark.django_db
def test_the_operator_sends_an_unknown_message_again(
    telegram_conversation,
    operator,
    operator_client,
    fake_telegram,
):
    reply = message_reply(conversation=telegram_conversation, author=operator, body="Hello")
    Message.objects.filter(pk=reply.pk).update(status=MessageStatus.UNKNOWN)
    url = f"/api/v1/conversations/{reply.conversation_id}/messages/{reply.pk}/retry/"

    response = operator_client.post(url)

    assert response.status_code == 200
    assert response.json()["status"] == "queued"
    message_deliver(message_id=reply.pk, attempt=1, max_attempts=3)
    assert Message.objects.get(pk=reply.pk).status == MessageStatus.SENT
    assert len(fake_telegram.calls_to("sendMessage")) == 1
    # Sent now: sending it again is refused.
    assert operator_client.post(url).status_code == 400


@pytest.mark.django_db
def test_a_message_being_sent_cannot_be_sent_again_by_the_operator(
    api_reply, operator_client, callback_server
):
    Message.objects.filter(pk=api_reply.pk).update(status=MessageStatus.SENDING)
    url = f"/api/v1/conversations/{api_reply.conversation_id}/messages/{api_reply.pk}/retry/"

    response = operator_client.post(url)

    assert response.status_code == 400
    assert callback_server.requests == []


# Several-part replies


@pytest.mark.django_db(transaction=True)
def test_each_part_sent_is_recorded_before_the_next_one_goes(
    telegram_conversation,
    operator,
    fake_telegram,
):
    # Three Telegram messages: 4096 characters each at most.
    reply = message_reply(
        conversation=telegram_conversation, author=operator, body=("word " * 2000).strip()
    )
    fake_telegram.hold_sends(after=1)
    worker = threading.Thread(
        target=lambda: (
            message_deliver(message_id=reply.pk, attempt=1, max_attempts=3),
            connections.close_all(),
        )
    )
    worker.start()
    try:
        assert fake_telegram.held.wait(20)
        # While the second part is on its way, the first is on record as sent.
        held = Message.objects.get(pk=reply.pk)
        assert held.status == MessageStatus.SENDING
        assert held.delivery_progress["parts_sent"] == 1
        assert held.delivery_progress["first_external_id"]
    finally:
        fake_telegram.release.set()
        worker.join(30)
    assert Message.objects.get(pk=reply.pk).status == MessageStatus.SENT
    assert len(fake_telegram.calls_to("sendMessage")) == 3


@pytest.mark.django_db
def test_a_resend_never_repeats_a_part_that_went_out(
    telegram_conversation,
    operator,
    operator_client,
    fake_telegram,
):
    body = " ".join(f"word{number}" for number in range(1200))  # three Telegram messages
    reply = message_reply(conversation=telegram_conversation, author=operator, body=body)
    # The third part fails for good: two are on record as sent.
    fake_telegram.fail_next(INTERNAL_SERVER_ERROR, method="sendMessage", after=2, times=5)
    message_deliver(message_id=reply.pk, attempt=1, max_attempts=1)
    assert Message.objects.get(pk=reply.pk).status == MessageStatus.FAILED
    sent_before = [call.params["text"] for call in fake_telegram.calls_to("sendMessage")]
    fake_telegram.clear_errors()

    operator_client.post(
        f"/api/v1/conversations/{reply.conversation_id}/messages/{reply.pk}/retry/"
    )
    message_deliver(message_id=reply.pk, attempt=1, max_attempts=1)

    resent = [call.params["text"] for call in fake_telegram.calls_to("sendMessage")][
        len(sent_before) :
    ]
    first, second, third = sent_before[0], sent_before[1], sent_before[-1]
    assert resent == [third]
    assert " ".join([first, second, third]).split() == body.split()
    reply = Message.objects.get(pk=reply.pk)
    assert reply.status == MessageStatus.SENT
    # Every part's Telegram id is on record, those the failed try sent too: what the
    # customer does to any of them finds the reply.
    later_ids = list(reply.later_parts.values_list("external_id", flat=True))
    assert len(set([reply.external_id, *later_ids])) == 3


@pytest.mark.parametrize(
    ("kind", "drops_repeats"),
    [
        ("email", True),  # the same Message-ID
        ("api", True),  # our message id, for the receiver
        ("vk", True),  # the same random_id
        ("telegram", False),
        ("whatsapp", False),
        ("messenger", False),
        ("instagram", False),
        ("viber", False),
        ("webchat", False),
    ],
)
def test_which_platforms_get_a_cut_off_send_again_and_which_leave_it_to_the_operator(
    kind, drops_repeats
):
    from channels_app.registry import adapter_class

    assert adapter_class(kind).deduplicates_resends is drops_repeats


@pytest.mark.django_db
def test_a_send_that_never_started_goes_back_to_the_queue_not_to_unknown(api_reply):
    # A channel of a kind this installation no longer has: the send cannot even be prepared.
    Channel.objects.filter(pk=api_reply.channel_id).update(kind="retired")

    with pytest.raises(UnknownChannelKind):
        message_deliver(message_id=api_reply.pk, attempt=1, max_attempts=3)

    assert Message.objects.get(pk=api_reply.pk).status == MessageStatus.QUEUED
