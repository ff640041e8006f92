"""A reply's send, claimed by one delivery task at a time, and sends that were cut off.

A delivery task first claims its message (`queued → sending` in one conditional UPDATE:
of two tasks for the same message, one wins and the other does nothing), then sends,
then records the outcome. The claim has an identity (`Message.sending_claim`), and every
later write of the task (progress, outcome, release) names it: a task that outlived the
deadline below, whose send the sweep settled and perhaps another task claimed again,
writes nothing and stops.

A worker killed mid-send leaves the message `sending`; once that is older than the
deadline, beat's sweep settles it: where the platform drops a repeat of the same key
(email's Message-ID, the API channel's message id, VK's random_id) it is queued again with
that key; elsewhere nobody can tell whether the customer got it, so it becomes `unknown`
and the operator decides.
"""

import logging
import uuid
from dataclasses import asdict
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from channels_app.contracts import DeliveryProgress
from channels_app.failure_reasons import FailureCode, FailureReason
from inbox import realtime
from inbox.delivery_failures import failure_stored
from inbox.delivery_states import statuses_that_may_become
from inbox.message_parts import message_parts_record
from inbox.models import Message, MessageStatus
from inbox.outgoing_webhooks.emitting import MESSAGE_UPDATED, message_event_emit
from inbox.services.delivery import enqueue_delivery

logger = logging.getLogger(__name__)

STALE_BATCH_SIZE = 500


def message_claim_for_sending(*, message_id: int) -> uuid.UUID | None:
    """Take a queued message for this task to send: the claim, which every later write of
    the task names; None when another task has it, or it is no longer waiting (sent,
    failed, deleted)."""
    claim = uuid.uuid4()
    claimed = Message.objects.filter(pk=message_id, status=MessageStatus.QUEUED).update(
        status=MessageStatus.SENDING, sending_claim=claim, updated_at=timezone.now()
    )
    return claim if claimed == 1 else None


def message_release_claim(*, message_id: int, claim: uuid.UUID) -> bool:
    """Put a claimed message back in the queue when its send never started; False (and
    nothing written) when the claim is no longer this task's."""
    released = Message.objects.filter(
        pk=message_id, status=MessageStatus.SENDING, sending_claim=claim
    ).update(status=MessageStatus.QUEUED, updated_at=timezone.now())
    if not released:
        log_claim_lost(message_id=message_id, claim=claim, write="its release")
    return released == 1


def message_record_progress(
    *, message_id: int, claim: uuid.UUID, progress: DeliveryProgress
) -> bool:
    """Keep how much of a several-part reply went out before its next part is sent, so
    a later try (or the operator's resend) never repeats a part; it also shows the send
    is alive, which keeps the stale sweep away. False (nothing written) when the send is
    no longer this task's: the sweep settled it, or another task claimed it since; the
    task must then send no further part."""
    recorded = Message.objects.filter(
        pk=message_id, status=MessageStatus.SENDING, sending_claim=claim
    ).update(delivery_progress=asdict(progress), updated_at=timezone.now())
    if not recorded:
        log_claim_lost(message_id=message_id, claim=claim, write="its progress")
    return recorded == 1


def message_record_delivery_attempt(
    *,
    message_id: int,
    claim: uuid.UUID,
    external_id: str | None = None,
    later_external_ids: tuple[str, ...] = (),
    error: FailureReason | str = "",
    is_final: bool = False,
    is_outcome_unknown: bool = False,
    progress: DeliveryProgress | None = None,
) -> Message | None:
    """Store the outcome of one send of a message this task claimed (`sending`, under
    `claim`): sent (with the platform's id), failed, unknown (no answer came, though the
    platform may have it), or queued again for a retry, with what went out of a
    several-part reply before it failed. A success also settles a message the stale sweep
    took meanwhile (queued again, or unknown) while no other task claimed it; a failure
    then changes nothing. None, with nothing written, when the send is no longer this
    task's."""
    if not error:
        new_status = MessageStatus.SENT
    elif is_outcome_unknown:
        new_status = MessageStatus.UNKNOWN
    elif is_final:
        new_status = MessageStatus.FAILED
    else:
        new_status = MessageStatus.QUEUED
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .filter(pk=message_id, sending_claim=claim, status__in=_recordable_from(new_status))
            .first()
        )
        if message is None:
            log_claim_lost(message_id=message_id, claim=claim, write=f"its outcome ({new_status})")
            return None
        message.delivery_attempts += 1
        if progress is not None:
            message.delivery_progress = asdict(progress)
        external_id_before = message.external_id
        message.status = new_status
        if new_status == MessageStatus.SENT:
            message.external_id = external_id or message.external_id
            message.sent_at = timezone.now()
            message.error = {}
        elif new_status in (MessageStatus.FAILED, MessageStatus.UNKNOWN):
            message.error = failure_stored(error)
        else:
            message.error = FailureReason(
                FailureCode.RETRYING,
                {"attempt": message.delivery_attempts, "then": failure_stored(error)},
            ).stored()
        try:
            with transaction.atomic():
                message.save()
        except IntegrityError:
            # The receiver gave an id one of our earlier messages already has (an API
            # channel's callback answering the same id each time). The message did go
            # out: it is recorded as sent, without that id.
            logger.warning(
                "message %s: the id %r given on delivery is another message's; not kept",
                message.pk,
                external_id,
            )
            message.external_id = external_id_before
            message.save()
        if progress is not None or later_external_ids:
            message_parts_record(
                message=message,
                external_ids=(
                    *(progress.later_external_ids if progress else ()),
                    *later_external_ids,
                ),
            )
        message_with_relations = (
            Message.objects.select_related("author")
            .prefetch_related("attachments")
            .get(pk=message.pk)
        )
        if message.status != MessageStatus.QUEUED:
            realtime.message_updated(message_with_relations, channel_id=message.channel_id)
            message_event_emit(message_with_relations, event=MESSAGE_UPDATED)
    return message_with_relations


def _recordable_from(new_status: str) -> list[str]:
    if new_status == MessageStatus.SENT:
        return statuses_that_may_become(MessageStatus.SENT)
    # A failure or a retry only for the send this task claimed.
    return [MessageStatus.SENDING]


def log_claim_lost(*, message_id: int, claim: uuid.UUID, write: str) -> None:
    """A delivery task outlived its claim (past the sending deadline the sweep settled the
    send, and another task may have claimed it since): it stops, and says so."""
    logger.warning(
        "message %s: the send claimed as %s is no longer this task's (settled by the sweep "
        "or claimed again); %s is not recorded",
        message_id,
        claim,
        write,
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
                message_event_emit(message, event=MESSAGE_UPDATED)
    return [message.pk for message in requeued], [message.pk for message in unknown]


def _move_all(messages: list[Message], status: str, now) -> None:
    Message.objects.filter(
        pk__in=[message.pk for message in messages],
        status__in=statuses_that_may_become(status),
    ).update(status=status, updated_at=now)
    for message in messages:
        message.status, message.updated_at = status, now
