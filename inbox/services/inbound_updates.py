"""What a platform tells us later about a message the customer sent: an edit, a file
fetched into our storage (or why it could not be)."""

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

logger = logging.getLogger(__name__)


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
