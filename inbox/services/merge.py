"""Merging customer profiles with their conversations and surveys, and undoing it."""

import logging
from collections.abc import Sequence

from django.db import transaction

from customers.models import Customer, CustomerMerge
from customers.services import customer_merge, customer_merge_undo
from inbox import realtime
from inbox.audit.models import AuditAction
from inbox.audit.records import AuditActor, audit_record
from inbox.events import conversation_event_record
from inbox.models import (
    Conversation,
    ConversationEventKind,
    CsatSurvey,
    User,
)
from inbox.outgoing_webhooks.emitting import (
    conversation_event,
    customer_merged_emit,
    webhook_events_emit,
)

logger = logging.getLogger(__name__)


@transaction.atomic
def customer_merge_with_conversations(
    *,
    survivor: Customer,
    merged: Customer,
    merged_by: User | None,
    address: str = "",
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
    _merge_audit(AuditAction.CUSTOMER_MERGED, merge, AuditActor(user=merged_by, address=address))
    _broadcast_conversations(conversation_ids)
    customer_merged_emit(survivor=survivor, merged_id=merged.pk, conversation_ids=conversation_ids)
    return merge


@transaction.atomic
def customer_merge_undo_with_conversations(
    *, merge: CustomerMerge, undone_by: User | None, address: str = ""
) -> CustomerMerge:
    conversation_ids = merge.moved.get("conversations", [])
    Conversation.objects.filter(pk__in=conversation_ids, customer=merge.survivor_id).update(
        customer=merge.merged_id
    )
    CsatSurvey.objects.filter(
        conversation_id__in=conversation_ids, customer=merge.survivor_id
    ).update(customer=merge.merged_id)
    merge = customer_merge_undo(merge=merge, undone_by=undone_by)
    _merge_audit(
        AuditAction.CUSTOMER_MERGE_UNDONE, merge, AuditActor(user=undone_by, address=address)
    )
    _broadcast_conversations(conversation_ids)
    return merge


def _merge_audit(action: AuditAction, merge: CustomerMerge, actor: AuditActor) -> None:
    audit_record(
        action=action,
        actor=actor,
        target_type="merge",
        target_id=merge.pk,
        details={"survivor": merge.survivor_id, "merged": merge.merged_id},
    )


def _broadcast_conversations(conversation_ids: Sequence[int]) -> None:
    conversations = list(
        Conversation.objects.filter(pk__in=conversation_ids)
        .select_related("customer", "channel", "assignee", "team", "resolved_by", "sla_policy")
        .prefetch_related("labels")
    )
    for conversation in conversations:
        realtime.conversation_changed(conversation)
    webhook_events_emit(conversation_event(conversation) for conversation in conversations)
