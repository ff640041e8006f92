"""Files an inbound message only names (a platform's media id) fetched into our storage
by a task after the message is stored."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from channels_app.contracts import FETCH_MEDIA_TASK, DeliveryFailed
from channels_app.registry import adapter_for
from inbox import selectors as inbox_selectors
from inbox import services as inbox_services
from inbox.delivery_failures import failure_in_english


def message_media_fetch_on_commit(attachments) -> None:
    """After commit, queue a fetch for each of a stored message's `attachments` that only
    names its file (recorded with them: a broker that is away only delays it)."""
    inbox_services.tasks_send_on_commit(
        (FETCH_MEDIA_TASK, [attachment.pk])
        for attachment in attachments
        if attachment.media_id and not attachment.file and not attachment.fetch_error
    )


def attachments_fetch_lost(*, older_than: timedelta, within: timedelta = timedelta(days=1)) -> int:
    """Queue again the fetches of files still missing `older_than` after their message
    came (longer than any retry's backoff), for messages of the last `within`; returns how
    many. A fetch fetched twice stores the same file."""
    now = timezone.now()
    attachment_ids = inbox_selectors.attachment_ids_still_unfetched(
        created_after=now - within, created_before=now - older_than, limit=500
    )
    with transaction.atomic():
        inbox_services.tasks_send_on_commit(
            (FETCH_MEDIA_TASK, [attachment_id]) for attachment_id in attachment_ids
        )
    return len(attachment_ids)


def attachment_fetch_media(*, attachment_id: int, attempt: int, max_attempts: int) -> float | None:
    """Download a platform-held file into our storage; returns a retry delay or None."""
    attachment = inbox_selectors.attachment_for_fetch(attachment_id=attachment_id)
    if attachment is None:
        return None
    adapter = adapter_for(attachment.message.channel)
    try:
        media = adapter.fetch_media(attachment.media_id)
    except DeliveryFailed as failure:
        if failure.is_retryable and attempt < max_attempts:
            return inbox_services.delivery_retry_delay(
                attempt=attempt, retry_after=failure.retry_after
            )
        inbox_services.attachment_record_fetch_failure(
            attachment_id=attachment_id, error=failure_in_english(failure.failure)
        )
        return None
    inbox_services.attachment_store_media(
        attachment_id=attachment_id,
        content=media.content,
        content_type=media.content_type,
        filename=media.filename,
    )
    return None
