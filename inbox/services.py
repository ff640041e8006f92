"""Writes on conversations and messages. Each write notifies operators after commit."""

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta

from celery import current_app as celery_app
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from channels_app.contracts import DELIVER_MESSAGE_TASK, DeliveryProgress
from customers.models import Customer, CustomerMerge
from customers.services import (
    customer_merge,
    customer_merge_undo,
)
from inbox import csat, realtime, selectors
from inbox.attachments import attachments_check, attachments_store
from inbox.events import conversation_event_record
from inbox.models import (
    Attachment,
    Conversation,
    ConversationEventKind,
    ConversationStatus,
    CsatSurvey,
    Message,
    MessageDirection,
    MessageStatus,
    Priority,
    Team,
    User,
)
from inbox.receiving.regular import ReceiveOutcome, message_receive
from inbox.receiving.stored import AUTO_ASSIGN_TASK

logger = logging.getLogger(__name__)

__all__ = ["AUTO_ASSIGN_TASK", "ReceiveOutcome", "message_receive"]


class ConversationActionInvalid(Exception):
    """The action does not fit the conversation's state or the given values."""


def message_reply(
    *,
    conversation: Conversation,
    author: User,
    body: str,
    is_private: bool = False,
    files: Sequence[UploadedFile] = (),
) -> Message:
    """An operator's reply (sent on the conversation's channel) or private note, with any
    attached files stored as its attachments (AttachmentRejected when one is not allowed)."""
    accepted = attachments_check(files=files)
    if not body.strip() and not accepted:
        raise ConversationActionInvalid("a reply needs a body or a file")
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation,
            channel_id=conversation.channel_id,
            direction=MessageDirection.OUTBOUND,
            author=author,
            body=body,
            is_private=is_private,
            status=MessageStatus.INTERNAL if is_private else MessageStatus.QUEUED,
        )
        attachments = attachments_store(message=message, files=accepted)
        if not is_private:
            conversation.last_message_at = now
            fields = ["last_message_at", "updated_at"]
            if conversation.first_response_at is None:
                conversation.first_response_at = now
                fields.append("first_response_at")
            conversation.save(update_fields=fields)
            _enqueue_delivery(message)
        realtime.message_created(
            message, channel_id=conversation.channel_id, attachments=attachments
        )
        if not is_private:
            realtime.conversation_changed(conversation)
    return message


def _enqueue_delivery(message: Message, *, countdown: float | None = None) -> None:
    message_id = message.pk
    transaction.on_commit(
        lambda: celery_app.send_task(DELIVER_MESSAGE_TASK, args=[message_id], countdown=countdown)
    )


def messages_requeue_stuck(*, older_than: timedelta) -> list[int]:
    """Queue again replies whose delivery task was lost (a broker restart, say).

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
        if stuck:
            transaction.on_commit(lambda: _send_delivery_tasks(stuck))
    return stuck


def _send_delivery_tasks(message_ids: list[int]) -> None:
    for message_id in message_ids:
        celery_app.send_task(DELIVER_MESSAGE_TASK, args=[message_id])


def message_retry_delivery(*, message: Message) -> Message:
    """Queue a failed outgoing message again."""
    if message.direction != MessageDirection.OUTBOUND or message.is_private:
        raise ConversationActionInvalid("only outgoing replies are delivered")
    if message.status != MessageStatus.FAILED:
        raise ConversationActionInvalid("only a failed message can be retried")
    with transaction.atomic():
        message.status = MessageStatus.QUEUED
        message.error = ""
        message.delivery_attempts = 0
        message.save(update_fields=["status", "error", "delivery_attempts", "updated_at"])
        _enqueue_delivery(message)
        realtime.message_updated(message, channel_id=message.channel_id)
    return message


def delivery_retry_delay(*, attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter; a platform's own Retry-After wins when longer."""
    base = settings.DELIVERY_RETRY_BASE_SECONDS * (2 ** max(attempt - 1, 0))
    delay = min(base, 600.0) * random.uniform(0.8, 1.2)
    return max(delay, retry_after or 0.0)


def message_record_delivery_attempt(
    *,
    message_id: int,
    external_id: str | None = None,
    error: str = "",
    is_final: bool = False,
    progress: DeliveryProgress | None = None,
) -> Message | None:
    """Store the outcome of one send: sent (with the platform's id), failed, or to retry,
    with what went out of a several-part reply before it failed."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .filter(pk=message_id, status=MessageStatus.QUEUED)
            .first()
        )
        if message is None:
            return None
        message.delivery_attempts += 1
        if progress is not None:
            message.delivery_progress = asdict(progress)
        external_id_before = message.external_id
        if not error:
            message.status = MessageStatus.SENT
            message.external_id = external_id or message.external_id
            message.sent_at = timezone.now()
            message.error = ""
        elif is_final:
            message.status = MessageStatus.FAILED
            message.error = error
        else:
            message.error = f"attempt {message.delivery_attempts} failed, retrying: {error}"
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
        message_with_relations = (
            Message.objects.select_related("author")
            .prefetch_related("attachments")
            .get(pk=message.pk)
        )
        if message.status != MessageStatus.QUEUED:
            realtime.message_updated(message_with_relations, channel_id=message.channel_id)
    return message_with_relations


def message_update_status(
    *, channel, external_id: str, status: str, error: str = ""
) -> Message | None:
    """A platform's status callback (delivered, read, failed) for a message we sent."""
    order: list[str] = [MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ]
    with transaction.atomic():
        # Lock the message row only: its author may be empty (an outer join).
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("author")
            .filter(channel=channel, external_id=external_id, direction=MessageDirection.OUTBOUND)
            .first()
        )
        if message is None:
            return None
        if status == MessageStatus.FAILED:
            message.status, message.error = MessageStatus.FAILED, error
        elif status in order and (
            message.status not in order or order.index(status) > order.index(message.status)
        ):
            message.status = status
        else:
            return message
        message.save(update_fields=["status", "error", "updated_at"])
        realtime.message_updated(message, channel_id=message.channel_id)
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


def message_edit_inbound(
    *, channel, external_id: str, text: str, edited_at: datetime | None = None
) -> Message | None:
    """The customer edited a message: store the new text and show it as edited."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("author")
            .filter(channel=channel, external_id=external_id, direction=MessageDirection.INBOUND)
            .first()
        )
        if message is None or message.body == text:
            return message
        message.body = text
        message.edited_at = edited_at or timezone.now()
        message.save(update_fields=["body", "edited_at", "updated_at"])
        realtime.message_updated(message, channel_id=message.channel_id)
    return message


def attachment_store_media(
    *, attachment_id: int, content: bytes, content_type: str, filename: str
) -> Attachment | None:
    """Keep a fetched platform file in our storage and tell operators."""

    with transaction.atomic():
        attachment = (
            Attachment.objects.select_for_update().filter(pk=attachment_id, file="").first()
        )
        if attachment is None:
            return None
        attachment.filename = filename or attachment.filename
        attachment.content_type = content_type or attachment.content_type
        attachment.size = len(content)
        attachment.fetch_error = ""
        attachment.file.save(attachment.filename, ContentFile(content), save=False)
        attachment.save()
        message = (
            Message.objects.select_related("author")
            .prefetch_related("attachments")
            .get(pk=attachment.message_id)
        )
        realtime.message_updated(message, channel_id=message.channel_id)
    return attachment


def attachment_record_fetch_failure(*, attachment_id: int, error: str) -> None:
    Attachment.objects.filter(pk=attachment_id).update(fetch_error=error[:2000])


UNSET = object()


def conversation_assign(
    *,
    conversation: Conversation,
    operator: User | object | None = UNSET,
    team: Team | object | None = UNSET,
    actor: User | None = None,
) -> Conversation:
    """Give the conversation to an operator and/or a team; None takes it away."""
    fields = ["updated_at"]
    events: list[tuple[str, dict]] = []
    if operator is not UNSET:
        if isinstance(operator, User) and not operator.is_active:
            raise ConversationActionInvalid("that operator is deactivated")
        if isinstance(operator, User) and not operator_can_serve(operator, conversation):
            raise ConversationActionInvalid("that operator's teams do not serve this channel")
        previous = conversation.assignee if conversation.assignee_id else None
        if isinstance(operator, User) and operator.pk != conversation.assignee_id:
            events.append((ConversationEventKind.ASSIGNED, {"operator": operator.display_name}))
        elif operator is None and previous is not None:
            events.append((ConversationEventKind.UNASSIGNED, {"operator": previous.display_name}))
        conversation.assignee = operator  # type: ignore[assignment]
        fields.append("assignee")
    if team is not UNSET:
        if isinstance(team, Team) and not team.channels.filter(pk=conversation.channel_id).exists():
            # Its members could neither open the conversation nor be given it.
            raise ConversationActionInvalid("that team does not serve this channel")
        new_team_id = team.pk if isinstance(team, Team) else None
        if new_team_id != conversation.team_id:
            events.append(
                (
                    ConversationEventKind.TEAM_CHANGED,
                    {"team": team.name if isinstance(team, Team) else ""},
                )
            )
        conversation.team = team  # type: ignore[assignment]
        fields.append("team")
    with transaction.atomic():
        conversation.save(update_fields=fields)
        for kind, data in events:
            conversation_event_record(conversation=conversation, kind=kind, actor=actor, **data)
        realtime.conversation_changed(conversation)
    return conversation


def conversation_auto_assign(*, conversation_id: int) -> Conversation | None:
    """Give a new conversation, still open and unassigned, to the next operator of its
    team when the team assigns automatically: the online member with the fewest open
    conversations (below the team's limit), taking turns among equals. None when it was
    taken meanwhile or nobody online has room; it then waits in the team's queue."""
    from django.core.cache import cache

    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("customer", "channel", "assignee", "team", "resolved_by")
            .filter(
                pk=conversation_id,
                assignee__isnull=True,
                status=ConversationStatus.OPEN,
                team__auto_assign=True,
            )
            .first()
        )
        if conversation is None or conversation.team is None:
            return None
        candidates = selectors.auto_assign_candidates(team=conversation.team)
        if not candidates:
            return None
        fewest = candidates[0].open_assigned  # type: ignore[attr-defined]
        equals = [member for member in candidates if member.open_assigned == fewest]  # type: ignore[attr-defined]
        # Among equals, turns go round in id order from the one who was given the last.
        turn_key = f"{selectors.AUTO_ASSIGN_TURN_KEY_PREFIX}{conversation.team_id}"
        last_id = cache.get(turn_key) or 0
        operator = next((member for member in equals if member.pk > last_id), equals[0])
        try:
            conversation_assign(conversation=conversation, operator=operator)
        except ConversationActionInvalid:
            return None  # the team does not serve this conversation's channel
        cache.set(turn_key, operator.pk, timeout=None)
    return conversation


def operator_can_serve(operator: User, conversation: Conversation) -> bool:
    if operator.sees_all_conversations:
        return True
    return conversation.channel.teams.filter(members=operator).exists()


def _lock_and_read_status(conversation: Conversation) -> None:
    """Lock the conversation's row for the rest of the transaction and take its current
    status: two actions at once (two operators, an operator and an incoming message)
    then happen one after the other, the second seeing what the first did."""
    conversation.status = (
        Conversation.objects.select_for_update(of=("self",))
        .filter(pk=conversation.pk)
        .values_list("status", flat=True)
        .get()
    )


def conversation_resolve(*, conversation: Conversation, resolved_by: User | None) -> Conversation:
    with transaction.atomic():
        _lock_and_read_status(conversation)
        if conversation.status == ConversationStatus.RESOLVED:
            raise ConversationActionInvalid("the conversation is already resolved")
        conversation.status = ConversationStatus.RESOLVED
        conversation.resolved_at = timezone.now()
        conversation.resolved_by = resolved_by
        conversation.assignee_at_resolve = conversation.assignee
        conversation.snoozed_until = None
        conversation.save(
            update_fields=[
                "status",
                "resolved_at",
                "resolved_by",
                "assignee_at_resolve",
                "snoozed_until",
                "updated_at",
            ]
        )
        csat.csat_schedule_on_resolve(conversation=conversation)
        conversation_event_record(
            conversation=conversation, kind=ConversationEventKind.RESOLVED, actor=resolved_by
        )
        realtime.conversation_changed(conversation)
    return conversation


def conversation_reopen(*, conversation: Conversation, actor: User | None = None) -> Conversation:
    with transaction.atomic():
        _lock_and_read_status(conversation)
        if conversation.status == ConversationStatus.OPEN:
            raise ConversationActionInvalid("the conversation is already open")
        conversation.status = ConversationStatus.OPEN
        conversation.snoozed_until = None
        conversation.resolved_at = None
        conversation.resolved_by = None
        conversation.save(
            update_fields=["status", "snoozed_until", "resolved_at", "resolved_by", "updated_at"]
        )
        conversation_event_record(
            conversation=conversation, kind=ConversationEventKind.REOPENED, actor=actor
        )
        realtime.conversation_changed(conversation)
    return conversation


def conversation_snooze(
    *, conversation: Conversation, until: datetime, actor: User | None = None
) -> Conversation:
    if until <= timezone.now():
        raise ConversationActionInvalid("snooze until a time in the future")
    with transaction.atomic():
        _lock_and_read_status(conversation)
        if conversation.status == ConversationStatus.RESOLVED:
            raise ConversationActionInvalid("a resolved conversation cannot be snoozed")
        conversation.status = ConversationStatus.SNOOZED
        conversation.snoozed_until = until
        conversation.save(update_fields=["status", "snoozed_until", "updated_at"])
        conversation_event_record(
            conversation=conversation,
            kind=ConversationEventKind.SNOOZED,
            actor=actor,
            until=until.isoformat(),
        )
        realtime.conversation_changed(conversation)
    return conversation


def conversation_set_priority(
    *, conversation: Conversation, priority: str, actor: User | None = None
) -> Conversation:
    if priority not in Priority.values:
        raise ConversationActionInvalid(f"priority must be one of {', '.join(Priority.values)}")
    is_change = conversation.priority != priority
    conversation.priority = priority
    with transaction.atomic():
        conversation.save(update_fields=["priority", "updated_at"])
        if is_change:
            conversation_event_record(
                conversation=conversation,
                kind=ConversationEventKind.PRIORITY_CHANGED,
                actor=actor,
                priority=priority,
                # Stored as data: in the source language, not the acting operator's.
                priority_label=_source_text(Priority(priority).label),
            )
        realtime.conversation_changed(conversation)
    return conversation


def conversations_wake_snoozed(*, batch_size: int = 500) -> int:
    """Reopen snoozed conversations whose time has come; safe to run in several workers."""
    woken = 0
    with transaction.atomic():
        due = list(
            Conversation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=ConversationStatus.SNOOZED, snoozed_until__lte=timezone.now())
            .select_related("customer", "channel", "assignee", "team", "resolved_by")
            .order_by("snoozed_until")[:batch_size]
        )
        for conversation in due:
            conversation.status = ConversationStatus.OPEN
            conversation.snoozed_until = None
            conversation.save(update_fields=["status", "snoozed_until", "updated_at"])
            conversation_event_record(
                conversation=conversation,
                kind=ConversationEventKind.REOPENED,
                reason="snooze_ended",
            )
            realtime.conversation_changed(conversation)
            woken += 1
    return woken


@transaction.atomic
def customer_merge_with_conversations(
    *, survivor: Customer, merged: Customer, merged_by: User | None
) -> CustomerMerge:
    """Merge two customer profiles, moving their conversations too (recorded for undo)."""
    merge = customer_merge(survivor=survivor, merged=merged, merged_by=merged_by)
    conversation_ids = list(
        Conversation.objects.filter(customer=merged).values_list("pk", flat=True)
    )
    Conversation.objects.filter(pk__in=conversation_ids).update(customer=survivor)
    # Their surveys too: "surveyed recently" counts the survivor's whole history.
    CsatSurvey.objects.filter(conversation_id__in=conversation_ids).update(customer=survivor)
    merge.moved = {**merge.moved, "conversations": conversation_ids}
    merge.save(update_fields=["moved"])
    # Shown on the conversations that moved, or on the survivor's latest if none did.
    marked = list(Conversation.objects.filter(pk__in=conversation_ids).only("pk", "channel_id"))
    if not marked:
        marked = list(
            Conversation.objects.filter(customer=survivor)
            .only("pk", "channel_id")
            .order_by("-id")[:1]
        )
    for conversation in marked:
        conversation_event_record(
            conversation=conversation,
            kind=ConversationEventKind.MERGED,
            actor=merged_by,
            merged=merged.name or f"Customer {merged.pk}",
            survivor=survivor.name or f"Customer {survivor.pk}",
        )
    _broadcast_conversations(conversation_ids)
    return merge


@transaction.atomic
def customer_merge_undo_with_conversations(
    *, merge: CustomerMerge, undone_by: User | None
) -> CustomerMerge:
    conversation_ids = merge.moved.get("conversations", [])
    Conversation.objects.filter(pk__in=conversation_ids, customer=merge.survivor_id).update(
        customer=merge.merged_id
    )
    CsatSurvey.objects.filter(
        conversation_id__in=conversation_ids, customer=merge.survivor_id
    ).update(customer=merge.merged_id)
    merge = customer_merge_undo(merge=merge, undone_by=undone_by)
    _broadcast_conversations(conversation_ids)
    return merge


def _broadcast_conversations(conversation_ids: Sequence[int]) -> None:
    for conversation in Conversation.objects.filter(pk__in=conversation_ids).select_related(
        "customer", "channel", "assignee", "team", "resolved_by"
    ):
        realtime.conversation_changed(conversation)


# Operator presence ----------------------------------------------------------------------
# Presence lives in the cache (Redis in production, process memory embedded), one key per
# operator holding each of their sockets' status and expiry: an operator with two tabs
# stays online when one closes, and a server that dies without saying "offline" leaves
# nobody shown online for long (a socket's entry lapses unless its pings renew it).


async def operator_presence_set(*, operator: dict, socket: str, status: str | None) -> None:
    """Record one socket's status (online, away, offline; None when it closes) and tell
    the other operators when the operator's overall status changes."""
    from django.core.cache import cache

    key = selectors.presence_cache_key(operator["id"])
    now = time.time()
    sockets = selectors.presence_live_sockets(await cache.aget(key), now=now)
    before = selectors.presence_status_of(sockets)
    if status is None:
        sockets.pop(socket, None)
    else:
        sockets[socket] = [status, now + selectors.PRESENCE_TTL_SECONDS]
    if sockets:
        await cache.aset(key, sockets, timeout=selectors.PRESENCE_TTL_SECONDS)
    else:
        await cache.adelete(key)
    after = selectors.presence_status_of(sockets)
    if after != before:
        await realtime.presence_changed(operator=operator, status=after)


def _source_text(text) -> str:
    with translation.override(None):
        return str(text)
