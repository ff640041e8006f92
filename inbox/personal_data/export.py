"""Everything kept about a customer, as one JSON document (their right of access): the
profile with its identities, claims and notes, the profiles merged into it, their
conversations with messages, attachments (with their addresses) and events, survey
answers and merges."""

from typing import Any

from django.db.models import Q
from django.utils import timezone

from customers.models import Customer, CustomerMerge
from inbox.audit.models import AuditAction
from inbox.audit.records import AuditActor, audit_record
from inbox.models import Conversation, ConversationEvent, CsatSurvey, Message
from inbox.representations import (
    conversation_event_representation,
    conversation_representation,
    customer_representation,
    message_representation,
)

EXPORT_FORMAT = 1


def _time(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def customer_export(*, customer: Customer, actor: AuditActor) -> dict[str, Any]:
    """The customer's data; the export itself goes on the audit log."""
    profiles = [customer, *_merged_profiles(customer)]
    profile_ids = [profile.pk for profile in profiles]
    conversations = list(
        Conversation.objects.filter(customer_id__in=profile_ids)
        .select_related("customer", "channel", "assignee", "team", "resolved_by", "sla_policy")
        .prefetch_related("labels")
        .order_by("id")
    )
    conversation_ids = [conversation.pk for conversation in conversations]
    messages_by_conversation: dict[int, list[dict[str, Any]]] = {}
    for message in (
        Message.objects.filter(conversation_id__in=conversation_ids)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("id")
    ):
        messages_by_conversation.setdefault(message.conversation_id, []).append(
            message_representation(message)
        )
    events_by_conversation: dict[int, list[dict[str, Any]]] = {}
    for event in (
        ConversationEvent.objects.filter(conversation_id__in=conversation_ids)
        .select_related("actor")
        .order_by("id")
    ):
        events_by_conversation.setdefault(event.conversation_id, []).append(
            conversation_event_representation(event)
        )
    document = {
        "format": EXPORT_FORMAT,
        "exported_at": _time(timezone.now()),
        "customer": _profile(customer),
        "merged_profiles": [_profile(profile) for profile in profiles[1:]],
        "conversations": [
            {
                **conversation_representation(conversation),
                "erased_at": _time(conversation.erased_at),
                "messages": messages_by_conversation.get(conversation.pk, []),
                "events": events_by_conversation.get(conversation.pk, []),
            }
            for conversation in conversations
        ],
        "surveys": [
            _survey(survey)
            for survey in CsatSurvey.objects.filter(conversation_id__in=conversation_ids)
            .select_related("channel")
            .order_by("id")
        ],
        "merges": [
            {
                "id": merge.pk,
                "survivor": merge.survivor_id,
                "merged": merge.merged_id,
                "created_at": _time(merge.created_at),
                "undone_at": _time(merge.undone_at),
            }
            for merge in CustomerMerge.objects.filter(
                Q(survivor_id__in=profile_ids) | Q(merged_id__in=profile_ids)
            ).order_by("id")
        ],
    }
    audit_record(
        action=AuditAction.CUSTOMER_EXPORTED,
        actor=actor,
        target_type="customer",
        target_id=customer.pk,
        details={"conversations": len(conversations)},
    )
    return document


def _merged_profiles(customer: Customer) -> list[Customer]:
    """The profiles merged into this one, and those merged into them, and so on."""
    found: list[Customer] = []
    pending = [customer.pk]
    while pending:
        batch = list(
            Customer.objects.filter(merged_into_id__in=pending)
            .exclude(pk__in=[customer.pk, *(p.pk for p in found)])
            .prefetch_related("identities", "claims", "notes__author")
        )
        found.extend(batch)
        pending = [profile.pk for profile in batch]
    return found


def _profile(customer: Customer) -> dict[str, Any]:
    return {
        **customer_representation(customer),
        "merged_into": customer.merged_into_id,
        "erased_at": _time(customer.erased_at),
        "notes": [
            {
                "body": note.body,
                "author": note.author.username if note.author is not None else None,
                "created_at": _time(note.created_at),
            }
            for note in customer.notes.all()
        ],
    }


def _survey(survey: CsatSurvey) -> dict[str, Any]:
    return {
        "id": survey.pk,
        "kind": survey.kind,
        "conversation": survey.conversation_id,
        "channel": {"id": survey.channel_id, "kind": survey.channel.kind},
        "status": survey.status,
        "rating": survey.rating,
        "comment": survey.comment,
        "sent_at": _time(survey.sent_at),
        "answered_at": _time(survey.answered_at),
    }
