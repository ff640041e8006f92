"""Erasing personal data for good: a customer's on their request, and old conversations'
by the retention period. What makes counts and ratings stays (the rows of customers,
conversations, messages and surveys, their times, statuses and ratings); what says who
someone is or what they wrote goes (names, addresses, identities, attributes, notes,
message text, files, survey comments). Raw webhook events are the channels' app's
(channels_app.services.erasure), which calls these."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from customers.models import Customer, CustomerMerge, CustomerNote, Identity, IdentityClaim
from inbox import realtime
from inbox.models import (
    Attachment,
    Conversation,
    ConversationEvent,
    ConversationEventKind,
    ConversationStatus,
    CsatSurvey,
    Message,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErasedCustomer:
    """What was erased, and how the customer could still be recognised in the raw events
    (in memory only, for the caller to find and delete those)."""

    profile_ids: list[int]
    conversation_ids: list[int]
    channel_ids: list[int]
    identity_values: list[str]


def customer_personal_data_erase(*, customer: Customer) -> ErasedCustomer:
    """Erase the customer, the profiles merged into them and their conversations' content
    (inside the caller's transaction)."""
    profile_ids = _profile_ids_with_merged(customer)
    profiles = Customer.objects.select_for_update().filter(pk__in=profile_ids)
    values = {
        value
        for value in [
            *Identity.objects.filter(customer_id__in=profile_ids).values_list("value", flat=True),
            *IdentityClaim.objects.filter(customer_id__in=profile_ids).values_list(
                "value", flat=True
            ),
            *(field for row in profiles.values_list("email", "phone") for field in row),
        ]
        if value
    }
    conversations = Conversation.objects.filter(customer_id__in=profile_ids)
    conversation_ids = list(conversations.values_list("pk", flat=True))
    channel_ids = sorted(set(conversations.values_list("channel_id", flat=True)))
    values.update(address for address in conversations.values_list("recipient_address", flat=True))
    conversations_content_erase(conversation_ids=conversation_ids)
    conversations.update(recipient_address="")
    Identity.objects.filter(customer_id__in=profile_ids).delete()
    IdentityClaim.objects.filter(customer_id__in=profile_ids).delete()
    CustomerNote.objects.filter(customer_id__in=profile_ids).delete()
    # What a merge kept for undoing it names the profile's old values.
    CustomerMerge.objects.filter(
        Q(survivor_id__in=profile_ids) | Q(merged_id__in=profile_ids)
    ).update(moved={}, survivor_fields_before={})
    profiles.update(
        name="",
        email="",
        phone="",
        attributes={},
        erased_at=timezone.now(),
        updated_at=timezone.now(),
    )
    # Open inboxes show the emptied profile at once (after commit, as every event).
    for conversation in Conversation.objects.filter(pk__in=conversation_ids).select_related(
        "customer", "channel", "assignee", "team", "resolved_by", "sla_policy"
    ):
        realtime.conversation_changed(conversation)
    return ErasedCustomer(
        profile_ids=profile_ids,
        conversation_ids=conversation_ids,
        channel_ids=channel_ids,
        identity_values=sorted(value for value in values if value),
    )


def conversations_content_erase(*, conversation_ids: Sequence[int]) -> int:
    """Empty the conversations' messages and survey comments and delete their files (the
    files once the transaction commits: a rollback keeps them); the rows stay."""
    if not conversation_ids:
        return 0
    attachments = Attachment.objects.filter(message__conversation_id__in=conversation_ids)
    file_names = [name for name in attachments.values_list("file", flat=True) if name]
    attachments.delete()
    Message.objects.filter(conversation_id__in=conversation_ids).update(
        body="", body_full="", body_html="", content_items=[], error={}, delivery_progress=None
    )
    CsatSurvey.objects.filter(conversation_id__in=conversation_ids).update(comment="")
    # A merge's event names both profiles.
    ConversationEvent.objects.filter(
        conversation_id__in=conversation_ids, kind=ConversationEventKind.MERGED
    ).update(data={})
    erased = Conversation.objects.filter(pk__in=conversation_ids).update(
        subject="", erased_at=timezone.now()
    )
    transaction.on_commit(lambda: stored_files_delete(file_names))
    return erased


def conversations_expired(*, older_than: datetime, limit: int) -> list[int]:
    """Resolved conversations whose last message is older than `older_than`, not yet
    erased: an open one may still be answered."""
    return list(
        Conversation.objects.filter(
            status=ConversationStatus.RESOLVED,
            erased_at__isnull=True,
        )
        .filter(Q(last_message_at__lt=older_than) | Q(last_message_at__isnull=True))
        .filter(created_at__lt=older_than)
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )


def attachments_expired_erase(*, older_than: datetime, limit: int) -> int:
    """Delete attachments (rows and files) older than `older_than`, in conversations still
    going too."""
    expired = list(
        Attachment.objects.filter(created_at__lt=older_than)
        .order_by("id")
        .values_list("pk", "file")[:limit]
    )
    Attachment.objects.filter(pk__in=[pk for pk, _ in expired]).delete()
    file_names = [name for _, name in expired if name]
    transaction.on_commit(lambda: stored_files_delete(file_names))
    return len(expired)


def _profile_ids_with_merged(customer: Customer) -> list[int]:
    found = [customer.pk]
    pending = [customer.pk]
    while pending:
        pending = list(
            Customer.objects.filter(merged_into_id__in=pending)
            .exclude(pk__in=found)
            .values_list("pk", flat=True)
        )
        found.extend(pending)
    return found


def stored_files_delete(names: Sequence[str]) -> None:
    """Delete files from our storage (their rows are gone already)."""
    for name in names:
        try:
            default_storage.delete(name)
        except OSError as error:  # the row is gone; a file left behind is logged
            logger.warning("could not delete the file %s: %s", name, error)
