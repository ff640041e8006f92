"""What a platform tells us later about a message: the customer's edit or deletion of
their own, their reaction to any, a file fetched into our storage (or why it could not
be)."""

import logging
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from inbox import realtime
from inbox.models import (
    Attachment,
    Message,
    MessageDirection,
)
from inbox.outgoing_webhooks.emitting import MESSAGE_UPDATED, message_event_emit
from inbox.personal_data.erasure import stored_files_delete
from inbox.services.delivery import reply_of_part_locked

logger = logging.getLogger(__name__)


def _customer_message_locked(channel, external_id: str) -> Message | None:
    return (
        Message.objects.select_for_update(of=("self",))
        .select_related("author")
        .filter(channel=channel, external_id=external_id, direction=MessageDirection.INBOUND)
        .first()
    )


def message_edit_inbound(
    *, channel, external_id: str, text: str, edited_at: datetime | None = None
) -> Message | None:
    """The customer edited a message: store the new text and show it as edited."""
    with transaction.atomic():
        message = _customer_message_locked(channel, external_id)
        if message is None or message.body == text:
            return message
        message.body = text
        message.edited_at = edited_at or timezone.now()
        message.save(update_fields=["body", "edited_at", "updated_at"])
        realtime.message_updated(message, channel_id=message.channel_id)
        message_event_emit(message, event=MESSAGE_UPDATED)
    return message


def message_delete_inbound(
    *, channel, external_id: str, deleted_at: datetime | None = None
) -> Message | None:
    """The customer deleted a message they sent: its text and files go, the message stays
    in the thread, shown as deleted."""
    with transaction.atomic():
        message = _customer_message_locked(channel, external_id)
        if message is None or message.deleted_at is not None:
            return message
        attachments = message.attachments.all()
        file_names = [name for name in attachments.values_list("file", flat=True) if name]
        attachments.delete()
        message.body = message.body_full = message.body_html = ""
        message.deleted_at = deleted_at or timezone.now()
        message.save(update_fields=["body", "body_full", "body_html", "deleted_at", "updated_at"])
        transaction.on_commit(lambda: stored_files_delete(file_names))
        realtime.message_updated(message, channel_id=message.channel_id)
        message_event_emit(message, event=MESSAGE_UPDATED)
    return message


def message_react_inbound(*, channel, external_id: str, emoji: str) -> Message | None:
    """The customer reacted to a message of the conversation, ours before theirs where the
    platform id names both; an empty emoji takes the reaction back."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("author")
            .filter(channel=channel, external_id=external_id)
            # "out" before "in": the customer reacts to our messages far more often.
            .order_by("-direction")
            .first()
        ) or reply_of_part_locked(channel, external_id)
        if message is None:
            logger.info("reaction to a message channel %s does not know", channel.pk)
            return None
        if message.reaction == emoji:
            return message
        message.reaction = emoji
        message.save(update_fields=["reaction", "updated_at"])
        realtime.message_updated(message, channel_id=message.channel_id)
        message_event_emit(message, event=MESSAGE_UPDATED)
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
        message_event_emit(message, event=MESSAGE_UPDATED)
    return attachment


def attachment_record_fetch_failure(*, attachment_id: int, error: str) -> None:
    Attachment.objects.filter(pk=attachment_id).update(fetch_error=error[:2000])
