"""What a platform tells us about a conversation beyond messages and per-message statuses:
messages the business sent from the platform's own inbox (echoes), delivery or reading
reported up to a moment (watermarks), and the customer typing."""

import logging
from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from channels_app.contracts import DeliveryWatermark, OutboundEcho
from inbox import realtime
from inbox.content_items import content_items_stored
from inbox.delivery_states import AWAITING_SEND, statuses_that_may_become
from inbox.models import Attachment, Conversation, Message, MessageDirection, MessageStatus
from inbox.outgoing_webhooks.emitting import (
    MESSAGE_UPDATED,
    conversation_event,
    message_event,
    message_event_emit,
    webhook_events_emit,
)

logger = logging.getLogger(__name__)

REPORTED_BY_WATERMARK = (MessageStatus.DELIVERED, MessageStatus.READ)
# A watermark touches the latest messages only; older ones were reported long ago.
MAX_MESSAGES_PER_WATERMARK = 200
# The customer's newest messages a reply window is read from: enough for a burst of
# redelivered old messages after a fresh one, and a bounded read of a long conversation.
MESSAGES_PER_WINDOW_LOOKUP = 50


def message_store_echo(*, channel, echo: OutboundEcho) -> Message | None:
    """Keep a message the business sent outside Switchboard as an outgoing message of the
    customer's latest conversation on the channel.

    Never a second copy of ours: a message with that id, or one of ours to the same person
    with the same text still being sent (its id not yet known), is the echo's original.
    Never a new conversation either: an echo to somebody we have no conversation with is
    dropped."""
    with transaction.atomic():
        conversation = (
            Conversation.objects.filter(channel=channel, recipient_address=echo.recipient_address)
            .order_by("-last_message_at", "-id")
            .first()
        )
        if conversation is None:
            return None
        ours = Message.objects.filter(
            channel=channel, direction=MessageDirection.OUTBOUND, conversation=conversation
        )
        if ours.filter(external_id=echo.external_id).exists() or (
            echo.text and ours.filter(status__in=AWAITING_SEND, body=echo.text).exists()
        ):
            return None
        try:
            with transaction.atomic():
                message = Message.objects.create(
                    conversation=conversation,
                    channel=channel,
                    direction=MessageDirection.OUTBOUND,
                    body=echo.text,
                    content_items=content_items_stored(echo.content_items),
                    status=MessageStatus.SENT,
                    external_id=echo.external_id,
                    sent_at=echo.sent_at or timezone.now(),
                    sent_from=echo.sent_from[:64],
                )
        except IntegrityError:
            return None  # stored meanwhile by a repeat of the same webhook
        attachments = Attachment.objects.bulk_create(
            Attachment(
                message=message,
                filename=item.filename[:255],
                content_type=item.content_type[:255],
                remote_url=item.url,
                media_id=item.media_id,
            )
            for item in echo.attachments
        )
        conversation.last_message_at = timezone.now()
        conversation.save(update_fields=["last_message_at", "updated_at"])
        realtime.message_created(message, channel_id=channel.pk, attachments=attachments)
        # Labels read once for the live event and the webhook's.
        labels = list(conversation.labels.all())
        realtime.conversation_changed(conversation, labels=labels)
        webhook_events_emit(
            [
                message_event(message, attachments=attachments),
                conversation_event(conversation, labels=labels),
            ]
        )
    return message


def customer_typing_report(*, channel, sender_address: str, is_typing: bool) -> int | None:
    """Show the customer typing on their latest conversation on the channel, if they have
    one (typing opens none); returns that conversation's id."""
    conversation = (
        Conversation.objects.filter(channel=channel, recipient_address=sender_address)
        .order_by("-last_message_at", "-id")
        .values("id", "customer_id", "customer__name")
        .first()
    )
    if conversation is None:
        return None
    realtime.customer_typing(
        channel_id=channel.pk,
        conversation_id=conversation["id"],
        customer={"id": conversation["customer_id"], "name": conversation["customer__name"]},
        is_typing=is_typing,
    )
    return conversation["id"]


def messages_mark_up_to(*, channel, report: DeliveryWatermark) -> int:
    """Everything we sent the report's recipient on the channel up to its watermark is now
    delivered or read, where that moves it forward; returns how many moved."""
    if report.status not in REPORTED_BY_WATERMARK:
        return 0
    earlier = [
        status for status in statuses_that_may_become(report.status) if status not in AWAITING_SEND
    ]
    with transaction.atomic():
        messages = list(
            Message.objects.select_for_update(of=("self",))
            .select_related("author")
            .filter(
                channel=channel,
                direction=MessageDirection.OUTBOUND,
                conversation__recipient_address=report.recipient_address,
                status__in=earlier,
                sent_at__lte=report.watermark,
            )
            .order_by("-id")[:MAX_MESSAGES_PER_WATERMARK]
        )
        for message in messages:
            message.status = report.status
            message.save(update_fields=["status", "updated_at"])
            realtime.message_updated(message, channel_id=channel.pk)
            message_event_emit(message, event=MESSAGE_UPDATED)
    return len(messages)


def conversation_customer_last_wrote_at(*, conversation: Conversation) -> datetime | None:
    """When the customer last wrote in the conversation, by the platform's own clock (the
    time it gives the message), never later than the message reached us: platforms measure
    their reply windows from their time, and a late webhook must not stretch ours."""
    return conversations_customer_last_wrote_at(conversation_ids=[conversation.pk]).get(
        conversation.pk
    )


def conversations_customer_last_wrote_at(
    *, conversation_ids: Iterable[int]
) -> dict[int, datetime | None]:
    """conversation_customer_last_wrote_at for many conversations in one query, by id.

    The latest of the customer's recent messages by that time, not the time of the message
    stored last: after an outage the platform redelivers old messages for days, and one
    of them arriving after a fresh message must not close the window the fresh one opened.
    A conversation without the customer's messages falls back to its last inbound time."""
    recent = (
        Message.objects.filter(
            conversation_id=OuterRef(OuterRef("pk")), direction=MessageDirection.INBOUND
        )
        .order_by("-id")
        .values("pk")[:MESSAGES_PER_WINDOW_LOOKUP]
    )
    latest_written = (
        Message.objects.filter(pk__in=Subquery(recent))
        .annotate(written_at=Least(Coalesce("sent_at", "created_at"), "created_at"))
        .order_by("-written_at")
        .values("written_at")[:1]
    )
    return dict(
        Conversation.objects.filter(pk__in=set(conversation_ids))
        .annotate(customer_wrote_at=Coalesce(Subquery(latest_written), "last_inbound_at"))
        .values_list("pk", "customer_wrote_at")
    )
