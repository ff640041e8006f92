"""Delivery of our replies: queued, retried with backoff, sent / delivered / read /
failed as the platform reports it, only ever forward (inbox.delivery_states); and the
customer's messages marked read (webchat). The claim before a send, the send's outcome
and the sweep of sends cut off mid-way are in inbox.services.sending."""

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from channels_app.contracts import DELIVER_MESSAGE_TASK
from channels_app.failure_reasons import FailureReason
from inbox import realtime
from inbox.delivery_failures import failure_stored
from inbox.delivery_states import (
    AWAITING_SEND,
    RESENDABLE,
    delivery_status_may_move,
)
from inbox.message_parts import message_id_of_part
from inbox.models import (
    Message,
    MessageDirection,
    MessageStatus,
)
from inbox.outgoing_webhooks.emitting import MESSAGE_UPDATED, message_event_emit
from inbox.services.conversation_actions import ConversationActionInvalid
from inbox.task_outbox import task_send_on_commit, tasks_send_on_commit

logger = logging.getLogger(__name__)


def enqueue_delivery(message: Message, *, countdown: float | None = None) -> None:
    """Queue the reply's delivery after commit, recorded with it: a broker that is away
    delays it until beat's sweep, and never fails the write (inbox.task_outbox)."""
    task_send_on_commit(DELIVER_MESSAGE_TASK, [message.pk], countdown=countdown)


def messages_requeue_stuck(*, older_than: timedelta) -> list[int]:
    """Queue again replies whose delivery task the broker took and then lost (a Redis
    restart without persistence, say). A task the broker never took is sent within a
    minute by the outbox sweep (inbox.task_outbox); this one is for what only time shows.

    Only messages untouched for longer than any retry backoff are taken, so a reply
    waiting for its next scheduled try is left alone.
    """
    cutoff = timezone.now() - older_than
    with transaction.atomic():
        stuck = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(status=MessageStatus.QUEUED, updated_at__lt=cutoff)
            .values_list("pk", flat=True)[:500]
        )
        Message.objects.filter(pk__in=stuck).update(updated_at=timezone.now())
        tasks_send_on_commit((DELIVER_MESSAGE_TASK, [message_id]) for message_id in stuck)
    return stuck


def message_retry_delivery(*, message: Message) -> Message:
    """Send a failed message again, or one whose delivery is unknown (its send was cut off
    on a platform that cannot tell): the operator's decision. Parts of a several-part
    reply recorded as sent are not sent again."""
    if message.direction != MessageDirection.OUTBOUND or message.is_private:
        raise ConversationActionInvalid(gettext("only outgoing replies are delivered"))
    if not delivery_status_may_move(
        current=message.status, new=MessageStatus.QUEUED, is_operator_resend=True
    ):
        raise ConversationActionInvalid(
            gettext(
                "only a failed message, or one that may not have been delivered, can be sent again"
            )
        )
    with transaction.atomic():
        moved = Message.objects.filter(pk=message.pk, status__in=RESENDABLE).update(
            status=MessageStatus.QUEUED, error={}, delivery_attempts=0, updated_at=timezone.now()
        )
        if not moved:
            raise ConversationActionInvalid(gettext("the message is being sent already"))
        message.refresh_from_db()
        enqueue_delivery(message)
        realtime.message_updated(message, channel_id=message.channel_id)
        message_event_emit(message, event=MESSAGE_UPDATED)
    return message


def delivery_retry_delay(*, attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter; a platform's own Retry-After wins when longer, up
    to a ceiling below the sweeps' deadlines: a retry still waiting when a sweep looks
    would be taken for a lost one and queued a second time."""
    base = settings.DELIVERY_RETRY_BASE_SECONDS * (2 ** max(attempt - 1, 0))
    delay = min(base, 600.0) * random.uniform(0.8, 1.2)
    return min(max(delay, retry_after or 0.0), delivery_retry_ceiling())


def delivery_retry_ceiling() -> float:
    deadline = min(
        settings.DELIVERY_SENDING_DEADLINE_SECONDS, settings.DELIVERY_STUCK_AFTER_SECONDS
    )
    return deadline * 0.8


def reply_of_part_locked(channel, external_id: str) -> Message | None:
    """Our reply that went out as several platform messages, named by a later one."""
    message_id = message_id_of_part(channel=channel, external_id=external_id)
    if message_id is None:
        return None
    return (
        Message.objects.select_for_update(of=("self",))
        .select_related("author")
        .filter(pk=message_id)
        .first()
    )


def message_update_status(
    *,
    channel,
    external_id: str,
    status: str,
    error: FailureReason | str = "",
    is_own_bounce: bool = False,
) -> Message | None:
    """A platform's status callback (delivered, read, failed) for a message we sent. It
    only moves the status forward (inbox.delivery_states): a replay or a late report
    changes nothing. `is_own_bounce`: a failure from a bounce of mail we provably sent."""
    with transaction.atomic():
        # Lock the message row only: its author may be empty (an outer join).
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("author")
            .filter(channel=channel, external_id=external_id, direction=MessageDirection.OUTBOUND)
            .first()
        ) or reply_of_part_locked(channel, external_id)
        if message is None:
            return None
        if message.status in AWAITING_SEND or not delivery_status_may_move(
            current=message.status, new=status, is_own_bounce=is_own_bounce
        ):
            return message
        message.status = status
        if status == MessageStatus.FAILED:
            message.error = failure_stored(error)
        message.save(update_fields=["status", "error", "updated_at"])
        realtime.message_updated(message, channel_id=message.channel_id)
        message_event_emit(message, event=MESSAGE_UPDATED)
    return message


def messages_mark_read_by_operator(*, conversation_id: int) -> int | None:
    """An operator has the conversation open: its customer's unread website-chat messages
    become read (the visitor sees the ticks). Returns the newest one marked, if any."""
    unread = Message.objects.filter(
        conversation_id=conversation_id,
        direction=MessageDirection.INBOUND,
        status=MessageStatus.RECEIVED,
        channel__kind="webchat",
    )
    newest = unread.order_by("-id").values_list("pk", flat=True).first()
    if newest is None:
        return None
    unread.filter(pk__lte=newest).update(status=MessageStatus.READ, updated_at=timezone.now())
    return newest
