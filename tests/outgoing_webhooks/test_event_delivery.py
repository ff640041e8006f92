"""Events of the inbox reach the addresses subscribed to them, signed, once per event and
subscription, with every attempt in the delivery log; nothing is built or stored for an
event nobody subscribed to."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels_app.contracts import InboundIdentity, InboundMessage
from channels_app.outgoing_webhooks import webhook_deliveries_send
from inbox import services
from inbox.models import WebhookDelivery
from inbox.outgoing_webhooks.deliveries import (
    webhook_deliveries_queue_due,
    webhook_delivery_claim,
    webhook_delivery_redeliver,
)
from inbox.outgoing_webhooks.emitting import (
    CONVERSATION_CREATED,
    CONVERSATION_RESOLVED,
    CONVERSATION_UPDATED,
    MESSAGE_CREATED,
    events_subscribed,
    webhook_event_emit,
)
from inbox.outgoing_webhooks.models import WebhookDeliveryStatus
from tests.outgoing_webhooks.conftest import subscribe

pytestmark = pytest.mark.django_db


def customer_writes(channel, text: str = "Where is my order?", *, external_id: str = "m-1"):
    return services.message_receive(
        channel=channel,
        inbound=InboundMessage(
            external_id=external_id,
            recipient_address="customer-7",
            identities=(InboundIdentity(kind="api", value="customer-7"),),
            sender_name="Vera",
            text=text,
        ),
    )


def test_a_customer_message_reaches_the_receiver_signed_with_its_new_conversation(
    channel, receiver, broker, django_capture_on_commit_callbacks
):
    subscribe(receiver.url, [CONVERSATION_CREATED, MESSAGE_CREATED])

    with django_capture_on_commit_callbacks(execute=True):
        outcome = customer_writes(channel)
    broker.run_deliveries()

    assert receiver.bad_signatures == 0
    [conversation_event] = receiver.events(CONVERSATION_CREATED)
    [message_event] = receiver.events(MESSAGE_CREATED)
    assert conversation_event["data"]["id"] == outcome.conversation.pk
    assert conversation_event["data"]["customer"]["name"] == "Vera"
    assert conversation_event["data"]["channel"]["kind"] == "api"
    assert message_event["data"]["id"] == outcome.message.pk
    assert message_event["data"]["conversation_id"] == outcome.conversation.pk
    assert message_event["data"]["body"] == "Where is my order?"
    assert set(message_event) == {"event", "id", "created_at", "data"}
    assert message_event["event"] == MESSAGE_CREATED
    # Each delivery is logged as delivered, with the receiver's answer.
    for delivery in WebhookDelivery.objects.all():
        assert delivery.status == WebhookDeliveryStatus.DELIVERED
        [attempt] = delivery.attempts.all()
        assert (attempt.response_status, attempt.response_body) == (200, '{"ok": true}')
        assert str(delivery.delivery_id) in receiver.kept


def test_each_subscription_gets_its_own_delivery_id_for_one_event(
    channel, receiver, broker, django_capture_on_commit_callbacks
):
    subscribe(receiver.url, [MESSAGE_CREATED])
    subscribe(receiver.url, [MESSAGE_CREATED], description="warehouse")

    with django_capture_on_commit_callbacks(execute=True):
        customer_writes(channel)
    broker.run_deliveries()

    kept = receiver.events(MESSAGE_CREATED)
    assert len(kept) == 2
    assert kept[0]["id"] == kept[1]["id"]  # one event
    assert len(receiver.kept) == 2  # two delivery ids


def test_an_event_nobody_subscribed_to_records_nothing(
    channel, operator, receiver, broker, django_capture_on_commit_callbacks
):
    subscribe(receiver.url, [CONVERSATION_RESOLVED])

    with django_capture_on_commit_callbacks(execute=True):
        outcome = customer_writes(channel)
    assert not WebhookDelivery.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        services.conversation_resolve(conversation=outcome.conversation, resolved_by=operator)
    broker.run_deliveries()
    [resolved] = receiver.events(CONVERSATION_RESOLVED)
    assert resolved["data"]["status"] == "resolved"
    assert len(receiver.kept) == 1


def test_without_a_subscription_emitting_costs_no_query_and_builds_nothing(
    django_assert_num_queries,
):
    events_subscribed()  # this process's copy, read at most every few seconds

    def never_built():
        raise AssertionError("the payload was built for nobody")

    with django_assert_num_queries(0):
        for _ in range(100):
            webhook_event_emit(event=MESSAGE_CREATED, data=never_built)
    assert not WebhookDelivery.objects.exists()


def test_a_reopened_conversations_labels_are_read_once_for_its_live_and_webhook_events(
    channel, operator, receiver
):
    subscribe(receiver.url, [CONVERSATION_UPDATED])
    first = customer_writes(channel)
    services.conversation_resolve(conversation=first.conversation, resolved_by=operator)

    with CaptureQueriesContext(connection) as captured:
        again = customer_writes(channel, "One more thing", external_id="m-2")

    assert again.conversation.pk == first.conversation.pk
    [event] = [
        json.loads(delivery.body)
        for delivery in WebhookDelivery.objects.filter(event=CONVERSATION_UPDATED)
    ]
    assert event["data"]["status"] == "open"
    label_reads = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].startswith("SELECT") and "inbox_conversation_labels" in query["sql"]
    ]
    assert len(label_reads) == 1


def test_a_new_subscription_counts_at_once_in_the_process_that_saved_it(channel, receiver):
    assert events_subscribed() == frozenset()
    subscribe(receiver.url, [MESSAGE_CREATED])

    customer_writes(channel)

    assert WebhookDelivery.objects.filter(event=MESSAGE_CREATED).count() == 1


def test_a_receiver_that_fails_is_tried_on_schedule_then_given_up_and_redelivered_by_hand(
    channel, receiver, broker, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_DELAYS_SECONDS = [10.0, 60.0]
    subscribe(receiver.url, [MESSAGE_CREATED])
    receiver.is_down = True
    with django_capture_on_commit_callbacks(execute=True):
        customer_writes(channel)

    broker.run_deliveries()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.PENDING
    assert 9 < (delivery.next_attempt_at - timezone.now()).total_seconds() <= 10
    # Not due yet: the sweep leaves it.
    assert webhook_deliveries_queue_due() == 0

    for expected_delay in (60, None):
        WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            assert webhook_deliveries_queue_due() == 1
        broker.run_deliveries()
        delivery.refresh_from_db()
        if expected_delay:
            assert delivery.status == WebhookDeliveryStatus.PENDING
            remaining = (delivery.next_attempt_at - timezone.now()).total_seconds()
            assert expected_delay - 1 < remaining <= expected_delay
    assert delivery.status == WebhookDeliveryStatus.FAILED
    attempts = list(delivery.attempts.order_by("id"))
    assert [(a.response_status, a.response_body) for a in attempts] == [
        (503, "down for maintenance")
    ] * 3
    assert receiver.attempts[str(delivery.delivery_id)] == 3
    assert receiver.kept == {}

    receiver.is_down = False
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_redeliver(delivery=delivery)
    broker.run_deliveries()

    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    assert list(receiver.kept) == [str(delivery.delivery_id)]
    sent = json.loads(delivery.body)
    assert receiver.kept[str(delivery.delivery_id)].payload == sent


def test_a_delivery_under_way_is_not_sent_again_by_a_second_task(channel, receiver):
    subscribe(receiver.url, [MESSAGE_CREATED])
    customer_writes(channel)
    delivery = WebhookDelivery.objects.get()

    assert webhook_delivery_claim(delivery_id=delivery.pk) is not None
    webhook_deliveries_send(delivery_ids=[delivery.pk])  # the same task, run twice

    assert receiver.attempts == {}
    assert not delivery.attempts.exists()


def test_an_address_that_is_not_public_is_refused_when_connecting(
    channel, receiver, broker, settings, django_capture_on_commit_callbacks
):
    subscribe(receiver.url, [MESSAGE_CREATED])
    settings.OUTBOUND_ALLOWED_NETWORKS = []  # production's default: no private address

    with django_capture_on_commit_callbacks(execute=True):
        customer_writes(channel)
    broker.run_deliveries()

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.FAILED  # final: no retry
    [attempt] = delivery.attempts.all()
    assert attempt.response_status is None
    assert "not a public address" in attempt.error
    assert receiver.attempts == {}
