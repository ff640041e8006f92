"""Outbound delivery: a queued message sent through its channel's adapter, with retries."""

import functools
import logging
import uuid
from datetime import timedelta

from django.conf import settings

from channels_app.contracts import (
    DeliveryFailed,
    DeliveryProgress,
    OutboundAttachment,
    OutboundMessage,
)
from channels_app.failure_reasons import FailureCode, FailureReason
from channels_app.http import request_may_have_arrived
from channels_app.registry import ADAPTERS, adapter_for
from channels_app.services.administration import (
    channel_note_secrets_accepted,
    channel_note_secrets_rejected,
)
from customers.selectors import customer_contact_email, customer_language
from customers.services import identity_set_reachable
from inbox import platform_reports
from inbox import selectors as inbox_selectors
from inbox import services as inbox_services
from inbox.attachments import attachment_public_url
from inbox.delivery_failures import failure_in_english

logger = logging.getLogger(__name__)


def message_deliver(*, message_id: int, attempt: int, max_attempts: int) -> float | None:
    """Send one queued message through its channel's adapter, once it is claimed for this
    task (two copies of the task at once: one sends, the other does nothing).

    Returns the delay before the next try when a retryable failure leaves tries over;
    otherwise the outcome (sent or failed with the reason) is stored and None returned.
    A task whose claim was taken over meanwhile (see inbox.services.sending) records
    nothing and sends no further part.
    """
    claim = inbox_services.message_claim_for_sending(message_id=message_id)
    if claim is None:
        return None
    try:
        message = inbox_selectors.message_for_delivery(message_id=message_id)
        if message is None:
            return None
        conversation = message.conversation
        adapter = adapter_for(conversation.channel)
        outbound = _outbound_for(message, adapter, claim)
    except Exception:
        # Nothing went out: back to the queue, rather than left looking like a cut-off send.
        inbox_services.message_release_claim(message_id=message_id, claim=claim)
        raise
    try:
        if conversation.channel.secrets_unreadable:
            raise DeliveryFailed(
                FailureReason.of(FailureCode.SECRETS_UNREADABLE), is_retryable=False
            )
        result = adapter.send(outbound)
    except ClaimTakenOver:
        return None
    except DeliveryFailed as failure:
        if _may_have_reached_the_customer(adapter, failure):
            # Trying again could give the customer the reply twice: the operator decides.
            logger.warning("message %s: no answer came, left unknown: %s", message.pk, failure)
            inbox_services.message_record_delivery_attempt(
                message_id=message.pk,
                claim=claim,
                error=FailureReason.of(FailureCode.OUTCOME_UNKNOWN, then=failure.failure.stored()),
                is_outcome_unknown=True,
                progress=failure.progress,
            )
            return None
        is_final = not failure.is_retryable or attempt >= max_attempts
        if failure.is_credential_rejected:
            channel_note_secrets_rejected(
                channel=conversation.channel, reason=failure_in_english(failure.failure)
            )
        if failure.is_recipient_unreachable:
            identity_set_reachable(
                kind=conversation.channel.kind,
                value=conversation.recipient_address,
                is_reachable=False,
            )
        inbox_services.message_record_delivery_attempt(
            message_id=message.pk,
            claim=claim,
            error=failure.failure,
            is_final=is_final,
            progress=failure.progress,
        )
        if is_final:
            logger.warning("message %s failed: %s", message.pk, failure.reason)
            return None
        return inbox_services.delivery_retry_delay(attempt=attempt, retry_after=failure.retry_after)
    inbox_services.message_record_delivery_attempt(
        message_id=message.pk,
        claim=claim,
        external_id=result.external_id,
        later_external_ids=result.later_external_ids,
    )
    channel_note_secrets_accepted(channel=conversation.channel)
    return None


def _outbound_for(message, adapter, claim: uuid.UUID) -> OutboundMessage:
    """What the adapter needs to send `message`, read from the database."""
    conversation = message.conversation
    return OutboundMessage(
        message_id=message.pk,
        conversation_id=conversation.pk,
        recipient_address=conversation.recipient_address,
        text=message.body,
        author_name=message.author.display_name if message.author else "",
        customer_last_message_at=(
            platform_reports.conversation_customer_last_wrote_at(conversation=conversation)
            if adapter.windows_from_platform_time
            else conversation.last_inbound_at
        ),
        attachments=tuple(
            OutboundAttachment(
                filename=attachment.filename,
                content_type=attachment.content_type,
                url=attachment_public_url(attachment),
                size=attachment.size,
                storage_name=(attachment.file.name or "") if attachment.file else "",
            )
            for attachment in message.attachments.all()
        ),
        subject=conversation.subject,
        thread_references=(
            inbox_selectors.conversation_thread_external_ids(
                conversation_id=conversation.pk, before_message_id=message.pk
            )
            if adapter.uses_thread_references
            else ()
        ),
        customer_email=(
            customer_contact_email(customer_id=conversation.customer_id)
            if adapter.uses_customer_email
            else ""
        ),
        customer_language=(
            customer_language(customer_id=conversation.customer_id)
            if adapter.uses_customer_language
            else ""
        ),
        already_sent=DeliveryProgress.from_stored(message.delivery_progress),
        created_at=message.created_at,
        record_progress=functools.partial(_record_progress, message.pk, claim),
    )


def _may_have_reached_the_customer(adapter, failure: DeliveryFailed) -> bool:
    """A failure worth retrying that came after the platform may have had the whole
    request (a timeout waiting for its answer, a connection dropped meanwhile), on a
    platform that does not drop a repeated send."""
    return (
        failure.is_retryable
        and not adapter.deduplicates_resends
        and request_may_have_arrived(failure)
    )


class ClaimTakenOver(Exception):
    """Raised through the adapter's send when the message's send is no longer this task's:
    no further part goes out."""


def _record_progress(message_id: int, claim: uuid.UUID, progress: DeliveryProgress) -> None:
    if not inbox_services.message_record_progress(
        message_id=message_id, claim=claim, progress=progress
    ):
        raise ClaimTakenOver(message_id)


def messages_settle_stale_sending() -> int:
    """Beat's sweep of sends cut off mid-way (see inbox.services.sending): retried with the
    same key where the channel's platform drops repeats, else left `unknown`."""
    resend_kinds = frozenset(
        kind for kind, adapter in ADAPTERS.items() if adapter.deduplicates_resends
    )
    requeued, unknown = inbox_services.messages_settle_stale_sending(
        older_than=timedelta(seconds=settings.DELIVERY_SENDING_DEADLINE_SECONDS),
        resend_kinds=resend_kinds,
    )
    return len(requeued) + len(unknown)
