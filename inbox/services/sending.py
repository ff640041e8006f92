"""A reply's send, claimed by one delivery task at a time, and sends that were cut off.

A delivery task first claims its message (`queued → sending` in one conditional UPDATE:
of two tasks for the same message, one wins and the other does nothing), then sends,
then records the outcome (inbox.services.delivery). A worker killed mid-send leaves the
message `sending`; once that is older than the deadline, beat's sweep settles it: where
the platform drops a repeat of the same key (email's Message-ID, the API channel's
message id, VK's random_id) it is queued again with that key; elsewhere nobody can tell
whether the customer got it, so it becomes `unknown` and the operator decides.
"""

import logging
from dataclasses import asdict
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from channels_app.contracts import DeliveryProgress
from inbox import realtime
from inbox.delivery_states import statuses_that_may_become
from inbox.models import Message, MessageStatus
from inbox.services.delivery import enqueue_delivery

logger = logging.getLogger(__name__)

STALE_BATCH_SIZE = 500


def message_claim_for_sending(*, message_id: int) -> bool:
    """Take a queued message for this task to send; False when another task has it, or
    it is no longer waiting (sent, failed, deleted)."""
    claimed = Message.objects.filter(pk=message_id, status=MessageStatus.QUEUED).update(
        status=MessageStatus.SENDING, updated_at=timezone.now()
    )
    return claimed == 1


def message_release_claim(*, message_id: int) -> None:
    """Put a claimed message back in the queue when its send never started."""
    Message.objects.filter(pk=message_id, status=MessageStatus.SENDING).update(
        status=MessageStatus.QUEUED, updated_at=timezone.now()
    )


def message_record_progress(*, message_id: int, progress: DeliveryProgress) -> None:
    """Keep how much of a several-part reply went out before its next part is sent, so
    a later try (or the operator's resend) never repeats a part; it also shows the send
    is alive, which keeps the stale sweep away."""
    Message.objects.filter(pk=message_id, status=MessageStatus.SENDING).update(
        delivery_progress=asdict(progress), updated_at=timezone.now()
    )


def messages_settle_stale_sending(
    *, older_than: timedelta, resend_kinds: frozenset[str]
) -> tuple[list[int], list[int]]:
    """Settle messages `sending` for longer than `older_than` (their task died): those on
    channels of `resend_kinds`, whose platforms drop a repeat of the same key, are queued
    again; the others become `unknown`. Returns (queued again, unknown) message ids."""
    cutoff = timezone.now() - older_than
    with transaction.atomic():
        stale = list(
            Message.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("channel", "author")
            .prefetch_related("attachments")
            .filter(status=MessageStatus.SENDING, updated_at__lt=cutoff)
            .order_by("updated_at")[:STALE_BATCH_SIZE]
        )
        requeued = [message for message in stale if message.channel.kind in resend_kinds]
        unknown = [message for message in stale if message.channel.kind not in resend_kinds]
        now = timezone.now()
        if requeued:
            _move_all(requeued, MessageStatus.QUEUED, now)
            for message in requeued:
                enqueue_delivery(message)
        if unknown:
            _move_all(unknown, MessageStatus.UNKNOWN, now)
            for message in unknown:
                logger.warning(
                    "message %s: its send was cut off and %s keeps no key against repeats; "
                    "left to the operator as unknown",
                    message.pk,
                    message.channel.kind,
                )
                realtime.message_updated(message, channel_id=message.channel_id)
    return [message.pk for message in requeued], [message.pk for message in unknown]


def _move_all(messages: list[Message], status: str, now) -> None:
    Message.objects.filter(
        pk__in=[message.pk for message in messages],
        status__in=statuses_that_may_become(status),
    ).update(status=status, updated_at=now)
    for message in messages:
        message.status, message.updated_at = status, now
