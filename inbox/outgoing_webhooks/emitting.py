"""Events of the inbox recorded for the webhook subscriptions that want them.

`webhook_event_emit` is what any flow calls, inside its transaction (`webhook_events_emit`
for several events of one transaction, read and stored together): one delivery row per
subscription listing the event, and their sending queued through the outbox
(inbox.task_outbox) after commit, so an event is never lost to a broker or a receiver that
is down. Which events any active subscription wants is read at once and kept by the
process a few seconds (as inbox.sla.policies keeps the SLA policies): without a
subscription to an event, emitting it costs no query and builds no payload. A change
reaches other processes within SUBSCRIBED_EVENTS_CACHE_SECONDS; this process forgets its
copy at once.
"""

import json
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from channels_app.contracts import SEND_WEBHOOK_DELIVERIES_TASK
from inbox.kept_copies import KeptCopy
from inbox.outgoing_webhooks.models import WebhookDelivery, WebhookSubscription
from inbox.representations import (
    conversation_representation,
    customer_representation,
    message_representation,
)
from inbox.task_outbox import tasks_send_on_commit

CONVERSATION_CREATED = "conversation.created"
CONVERSATION_UPDATED = "conversation.updated"
CONVERSATION_RESOLVED = "conversation.resolved"
MESSAGE_CREATED = "message.created"
MESSAGE_UPDATED = "message.updated"
SURVEY_ANSWERED = "survey.answered"
CUSTOMER_MERGED = "customer.merged"
# Sent only by an admin's "send test event", to one subscription; never subscribed to.
TEST_EVENT = "webhook.test"

EVENTS = (
    CONVERSATION_CREATED,
    CONVERSATION_UPDATED,
    CONVERSATION_RESOLVED,
    MESSAGE_CREATED,
    MESSAGE_UPDATED,
    SURVEY_ANSWERED,
    CUSTOMER_MERGED,
)

SUBSCRIBED_EVENTS_CACHE_SECONDS = 5.0


def _events_subscribed_read() -> frozenset[str]:
    events: set[str] = set()
    for listed in WebhookSubscription.objects.filter(is_active=True).values_list(
        "events", flat=True
    ):
        events.update(listed)
    return frozenset(events)


_subscribed = KeptCopy(_events_subscribed_read, seconds=SUBSCRIBED_EVENTS_CACHE_SECONDS)


def events_subscribed() -> frozenset[str]:
    """The events some active subscription wants (one query at most every few seconds per
    process)."""
    return _subscribed.get()


def events_subscribed_cached() -> frozenset[str] | None:
    """As events_subscribed if this process read them moments ago; never queries (the
    batched receiving path, on the event loop), None otherwise."""
    return _subscribed.fresh()


def events_subscribed_forget_cached() -> None:
    """This process reads the subscriptions again on next use (it has just changed them)."""
    _subscribed.forget()


# An event and what builds its `data` object, called only when some subscription wants it.
PendingEvent = tuple[str, Callable[[], dict[str, Any]]]

# Deliveries one sending task takes at most.
DELIVERIES_PER_TASK = 20


def webhook_event_emit(*, event: str, data: Callable[[], dict[str, Any]]) -> None:
    """Record `event` for every active subscription that lists it and queue its sending
    after commit. `data` builds the event's `data` object, called only when some
    subscription wants the event, once for all of them."""
    webhook_events_emit([(event, data)])


def webhook_events_emit(events: Iterable[PendingEvent]) -> None:
    """webhook_event_emit for several events of one transaction, in order: whatever their
    number, the subscriptions are read once and the deliveries stored in one statement."""
    subscribed = events_subscribed()
    wanted = [(event, data) for event, data in events if event in subscribed]
    if not wanted:
        return
    subscriptions = list(WebhookSubscription.objects.filter(is_active=True).only("events"))
    deliveries: list[WebhookDelivery] = []
    for event, data in wanted:
        listing = [subscription for subscription in subscriptions if event in subscription.events]
        if listing:
            deliveries += _deliveries_of(event=event, data=data(), subscriptions=listing)
    _deliveries_store(deliveries)


def webhook_deliveries_record(
    *, event: str, data: dict[str, Any], subscriptions: list[WebhookSubscription]
) -> list[WebhookDelivery]:
    """One delivery of the event per subscription, sent after commit."""
    return _deliveries_store(_deliveries_of(event=event, data=data, subscriptions=subscriptions))


def _deliveries_of(
    *, event: str, data: dict[str, Any], subscriptions: list[WebhookSubscription]
) -> list[WebhookDelivery]:
    """The event's deliveries, unsaved, its body fixed now (every attempt sends, and
    signs, the same bytes)."""
    event_id = uuid.uuid4()
    body = json.dumps(
        {
            "event": event,
            "id": str(event_id),
            "created_at": timezone.now().isoformat().replace("+00:00", "Z"),
            "data": data,
        },
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
    )
    return [
        WebhookDelivery(
            subscription=subscription,
            event=event,
            event_id=event_id,
            body=body,
            next_attempt_at=timezone.now(),
        )
        for subscription in subscriptions
    ]


def _deliveries_store(deliveries: list[WebhookDelivery]) -> list[WebhookDelivery]:
    deliveries = WebhookDelivery.objects.bulk_create(deliveries)
    webhook_deliveries_send_on_commit([delivery.pk for delivery in deliveries])
    return deliveries


def webhook_deliveries_send_on_commit(delivery_ids: list[int]) -> None:
    """Queue the sending of these deliveries, DELIVERIES_PER_TASK a task, after commit."""
    tasks_send_on_commit(
        (SEND_WEBHOOK_DELIVERIES_TASK, [delivery_ids[start : start + DELIVERIES_PER_TASK]])
        for start in range(0, len(delivery_ids), DELIVERIES_PER_TASK)
    )


def conversation_event(
    conversation, *, event: str = CONVERSATION_UPDATED, labels=None
) -> PendingEvent:
    """A conversation event carrying the conversation as the API reads it."""
    return event, lambda: conversation_representation(conversation, labels=labels)


def message_event(message, *, event: str = MESSAGE_CREATED, attachments=None) -> PendingEvent:
    """A message event carrying the message as the API reads it."""
    return event, lambda: message_representation(message, attachments=attachments)


def conversation_event_emit(
    conversation, *, event: str = CONVERSATION_UPDATED, labels=None
) -> None:
    webhook_events_emit([conversation_event(conversation, event=event, labels=labels)])


def message_event_emit(message, *, event: str = MESSAGE_CREATED, attachments=None) -> None:
    webhook_events_emit([message_event(message, event=event, attachments=attachments)])


def survey_answered_emit(survey) -> None:
    webhook_event_emit(
        event=SURVEY_ANSWERED,
        data=lambda: {
            "id": survey.pk,
            "kind": survey.kind,
            "status": survey.status,
            "rating": survey.rating,
            "comment": survey.comment,
            "conversation": survey.conversation_id,
            "customer": survey.customer_id,
            "operator": survey.operator_id,
            "channel": survey.channel_id,
            "sent_at": survey.sent_at,
            "answered_at": survey.answered_at,
        },
    )


def customer_merged_emit(*, survivor, merged_id: int, conversation_ids: list[int]) -> None:
    """`data`: the surviving customer as the API reads it, the merged one's former id and
    the conversations that moved to the survivor."""
    webhook_event_emit(
        event=CUSTOMER_MERGED,
        data=lambda: {
            "customer": customer_representation(survivor),
            "merged_customer_id": merged_id,
            "conversation_ids": list(conversation_ids),
        },
    )
