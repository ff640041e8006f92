"""A conversation's state: resolved, reopened, snoozed (and woken), its priority."""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from inbox import csat, realtime
from inbox.events import conversation_event_record
from inbox.follow_ups.outcome import follow_ups_resolve_with
from inbox.models import (
    Conversation,
    ConversationEventKind,
    ConversationStatus,
    Priority,
    User,
)
from inbox.outgoing_webhooks.emitting import CONVERSATION_RESOLVED, conversation_event_emit
from inbox.rule_events import Trigger, rule_event_on_commit
from inbox.sla.clock import SLA_CLOCK_COLUMNS, sla_on_status_change, sla_reevaluate

logger = logging.getLogger(__name__)


class ConversationActionInvalid(Exception):
    """The action does not fit the conversation's state or the given values."""


def _lock_and_read_status(conversation: Conversation) -> str:
    """Lock the conversation's row for the rest of the transaction and take its current
    status (and SLA clocks): two actions at once (two operators, an operator and an
    incoming message) then happen one after the other, the second seeing what the first
    did. Answers the status."""
    current = (
        Conversation.objects.select_for_update(of=("self",))
        .filter(pk=conversation.pk)
        .values("status", *SLA_CLOCK_COLUMNS)
        .get()
    )
    for field, value in current.items():
        setattr(conversation, field, value)
    return conversation.status


def conversation_resolve(*, conversation: Conversation, resolved_by: User | None) -> Conversation:
    with transaction.atomic():
        was = _lock_and_read_status(conversation)
        if conversation.status == ConversationStatus.RESOLVED:
            raise ConversationActionInvalid(gettext("the conversation is already resolved"))
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
                *sla_on_status_change(conversation, was=was, now=conversation.resolved_at),
            ]
        )
        csat.csat_schedule_on_resolve(conversation=conversation)
        follow_ups_resolve_with(conversation=conversation, resolved_by=resolved_by)
        event = conversation_event_record(
            conversation=conversation, kind=ConversationEventKind.RESOLVED, actor=resolved_by
        )
        rule_event_on_commit(
            triggers=[Trigger.CONVERSATION_RESOLVED],
            key=f"event:{event.pk}",
            conversation_id=conversation.pk,
        )
        realtime.conversation_changed(conversation)
        conversation_event_emit(conversation, event=CONVERSATION_RESOLVED)
    return conversation


def conversation_reopen(*, conversation: Conversation, actor: User | None = None) -> Conversation:
    with transaction.atomic():
        was = _lock_and_read_status(conversation)
        if conversation.status == ConversationStatus.OPEN:
            raise ConversationActionInvalid(gettext("the conversation is already open"))
        conversation.status = ConversationStatus.OPEN
        conversation.snoozed_until = None
        conversation.resolved_at = None
        conversation.resolved_by = None
        conversation.save(
            update_fields=[
                "status",
                "snoozed_until",
                "resolved_at",
                "resolved_by",
                "updated_at",
                *sla_on_status_change(conversation, was=was, now=timezone.now()),
            ]
        )
        event = conversation_event_record(
            conversation=conversation, kind=ConversationEventKind.REOPENED, actor=actor
        )
        rule_event_on_commit(
            triggers=[Trigger.CONVERSATION_REOPENED],
            key=f"event:{event.pk}",
            conversation_id=conversation.pk,
        )
        realtime.conversation_changed(conversation)
        conversation_event_emit(conversation)
    return conversation


def conversation_snooze(
    *, conversation: Conversation, until: datetime, actor: User | None = None
) -> Conversation:
    if until <= timezone.now():
        raise ConversationActionInvalid(gettext("snooze until a time in the future"))
    with transaction.atomic():
        was = _lock_and_read_status(conversation)
        if conversation.status == ConversationStatus.RESOLVED:
            raise ConversationActionInvalid(gettext("a resolved conversation cannot be snoozed"))
        conversation.status = ConversationStatus.SNOOZED
        conversation.snoozed_until = until
        conversation.save(
            update_fields=[
                "status",
                "snoozed_until",
                "updated_at",
                *sla_on_status_change(conversation, was=was, now=timezone.now()),
            ]
        )
        conversation_event_record(
            conversation=conversation,
            kind=ConversationEventKind.SNOOZED,
            actor=actor,
            until=until.isoformat(),
        )
        realtime.conversation_changed(conversation)
        conversation_event_emit(conversation)
    return conversation


def conversation_set_priority(
    *, conversation: Conversation, priority: str, actor: User | None = None
) -> Conversation:
    if priority not in Priority.values:
        raise ConversationActionInvalid(
            gettext("priority must be one of %(choices)s") % {"choices": ", ".join(Priority.values)}
        )
    is_change = conversation.priority != priority
    conversation.priority = priority
    with transaction.atomic():
        sla_fields = sla_reevaluate(conversation, now=timezone.now()) if is_change else []
        conversation.save(update_fields=["priority", "updated_at", *sla_fields])
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
        conversation_event_emit(conversation)
    return conversation


def conversations_wake_snoozed(*, batch_size: int = 500) -> int:
    """Reopen snoozed conversations whose time has come; safe to run in several workers."""
    woken = 0
    with transaction.atomic():
        due = list(
            Conversation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=ConversationStatus.SNOOZED, snoozed_until__lte=timezone.now())
            .select_related("customer", "channel", "assignee", "team", "resolved_by", "sla_policy")
            .order_by("snoozed_until")[:batch_size]
        )
        for conversation in due:
            conversation.status = ConversationStatus.OPEN
            conversation.snoozed_until = None
            sla_fields = sla_on_status_change(
                conversation, was=ConversationStatus.SNOOZED, now=timezone.now()
            )
            conversation.save(update_fields=["status", "snoozed_until", "updated_at", *sla_fields])
            event = conversation_event_record(
                conversation=conversation,
                kind=ConversationEventKind.REOPENED,
                reason="snooze_ended",
            )
            rule_event_on_commit(
                triggers=[Trigger.SNOOZE_ENDED],
                key=f"event:{event.pk}",
                conversation_id=conversation.pk,
            )
            realtime.conversation_changed(conversation)
            conversation_event_emit(conversation)
            woken += 1
    return woken


def _source_text(text) -> str:
    with translation.override(None):
        return str(text)
