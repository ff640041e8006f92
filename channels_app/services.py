"""Channel-side flows: an accepted webhook into the inbox, an outgoing message onto a platform."""

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from celery import current_app as celery_app
from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from channels_app import survey_dispatch
from channels_app.adapters.base import ChannelAdapter, ConfigInvalid
from channels_app.adapters.email import EmailAdapter
from channels_app.contracts import (
    ENVELOPE_SENDER_HEADER,
    FETCH_MEDIA_TASK,
    DeliveryFailed,
    DeliveryProgress,
    DeliveryStatusUpdate,
    IdentityReachability,
    InboundEdit,
    InboundEvent,
    InboundMessage,
    OutboundAttachment,
    OutboundMessage,
    PayloadMalformed,
    VerificationAnswer,
    WebhookRequest,
)
from channels_app.models import Channel, WebhookEvent, WebhookEventStatus
from channels_app.registry import adapter_class, adapter_for
from customers.normalization import InvalidIdentityValue, normalize_identity_value
from customers.selectors import customer_contact_email, customer_language
from customers.services import identity_set_reachable
from customers.transactions import atomic_retrying_conflicts, is_connection_lost, is_lock_conflict
from inbox import selectors as inbox_selectors
from inbox import services as inbox_services
from inbox.attachments import attachment_public_url
from inbox.models import MessageStatus
from inbox.services import ReceiveOutcome

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookOutcome:
    status_code: int
    body: dict[str, Any] = field(default_factory=dict)


class ChannelNotFound(LookupError):
    pass


# Webhooks look their channel up on every request; a few seconds of staleness across
# processes is the price (this process forgets a channel as soon as it changes it).
_active_channels: dict[tuple[str, str], tuple[float, Channel]] = {}
CHANNEL_CACHE_SECONDS = 5.0


def channel_get_active(*, kind: str, public_id: str) -> Channel:
    key = (kind, str(public_id))
    cached = _active_channels.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    # With its teams: a new conversation is filed under the channel's only team.
    channel = (
        Channel.objects.filter(kind=kind, public_id=public_id, is_active=True)
        .prefetch_related("teams")
        .first()
    )
    if channel is None:
        _active_channels.pop(key, None)
        raise ChannelNotFound(public_id)
    _active_channels[key] = (time.monotonic() + CHANNEL_CACHE_SECONDS, channel)
    return channel


def channel_cached_active(*, kind: str, public_id: str) -> Channel | None:
    """The channel if this process looked it up moments ago; never queries (async callers)."""
    cached = _active_channels.get((kind, str(public_id)))
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    return None


def _forget_cached_channel(channel: Channel) -> None:
    _active_channels.pop((channel.kind, str(channel.public_id)), None)


def webhook_receive(*, channel: Channel, request: WebhookRequest) -> WebhookOutcome:
    """Verify, keep the raw event, and hand what it says to the inbox.

    A bad signature raises (nothing stored). A body that cannot be parsed is kept as a
    failed event and answered 400. If processing fails on our side the raw event is
    kept as failed for a later retry, and the sender still gets its 200.
    """
    adapter = adapter_for(channel)
    adapter.verify(request)
    return _inbound_receive(channel, adapter, request, lambda: adapter.parse(request))


def mail_receive(*, channel: Channel, raw: bytes, envelope_sender: str = "") -> WebhookOutcome:
    """One raw message taken in by our SMTP server or read from the channel's IMAP
    mailbox: stored and handed to the inbox like a webhook, with no signature to check
    (the SMTP server takes mail only for our channels' addresses; the mailbox is ours)."""
    adapter = adapter_for(channel)
    if not isinstance(adapter, EmailAdapter):
        raise TypeError(f"channel {channel.pk} is not an email channel")
    request = WebhookRequest(
        body=raw,
        headers={"content-type": "message/rfc822", ENVELOPE_SENDER_HEADER: envelope_sender},
    )
    return _inbound_receive(channel, adapter, request, lambda: adapter.parse(request))


def _inbound_receive(
    channel: Channel,
    adapter: ChannelAdapter,
    request: WebhookRequest,
    parse: Callable[[], list[InboundEvent]],
) -> WebhookOutcome:
    body_sha256 = hashlib.sha256(request.body).hexdigest()
    try:
        events = parse()
    except PayloadMalformed as error:
        _webhook_event_store(
            channel, request, body_sha256, status=WebhookEventStatus.FAILED, error=error.detail
        )
        raise
    except DatabaseError:
        raise
    except Exception as error:
        # Our parser tripped on this body: keep it, to be processed again once fixed.
        logger.exception("webhook for channel %s stored but not parsed", channel.pk)
        _webhook_event_store(
            channel, request, body_sha256, status=WebhookEventStatus.FAILED, error=repr(error)
        )
        return WebhookOutcome(200, {"status": "accepted", "processed": False})

    def apply_and_store() -> list[object]:
        applied: list[object] = []
        for event in events:
            if _is_reachability_known(event, applied):
                applied.append(0)
            else:
                applied.append(webhook_event_apply(channel=channel, event=event))
        _webhook_event_store(
            channel,
            request,
            body_sha256,
            status=WebhookEventStatus.PROCESSED if events else WebhookEventStatus.IGNORED,
        )
        if events:
            transaction.on_commit(lambda: adapter.on_events_stored(events))
        return applied

    try:
        outcomes = atomic_retrying_conflicts(apply_and_store, is_whole_unit=True)
    except Exception as error:
        if is_connection_lost(error):
            # The connection was lost (a database restart, say), so nothing was stored:
            # the caller tries again on a new one, or the sender sends again.
            raise
        if is_lock_conflict(error) and transaction.get_connection().in_atomic_block:
            # Stored among others in the caller's transaction, which got in another's way:
            # the caller runs it again on its own.
            raise
        logger.exception("webhook for channel %s stored but not processed", channel.pk)
        _webhook_event_store(
            channel, request, body_sha256, status=WebhookEventStatus.FAILED, error=repr(error)
        )
        return WebhookOutcome(200, {"status": "accepted", "processed": False})
    messages = [outcome for outcome in outcomes if isinstance(outcome, ReceiveOutcome)]
    return WebhookOutcome(
        200,
        {
            "status": "ok",
            "messages": [
                {
                    "id": outcome.message.pk,
                    "conversation_id": outcome.conversation.pk,
                    "duplicate": outcome.is_duplicate,
                }
                for outcome in messages
            ],
        },
    )


def _is_reachability_known(event: InboundEvent, applied: list[object]) -> bool:
    """A sender marked reachable by their own message who is known reachable already, or
    whose message was a duplicate (which changes nothing): the write can be skipped."""
    if not (
        isinstance(event, IdentityReachability)
        and event.is_reachable
        and event.reported_for is None
    ):
        return False
    try:
        identity = (event.kind, normalize_identity_value(event.kind, event.value))
    except InvalidIdentityValue:
        return False
    return any(
        isinstance(outcome, ReceiveOutcome)
        and (outcome.is_duplicate or identity in outcome.reachable_identities)
        for outcome in applied
    )


def webhook_event_apply(*, channel: Channel, event: InboundEvent) -> object:
    """Hand one normalized event to the service that owns it."""
    if isinstance(event, InboundMessage):
        outcome = inbox_services.message_receive(channel=channel, inbound=event)
        if not outcome.is_duplicate:
            _fetch_media_on_commit(outcome.message)
        return outcome
    if isinstance(event, InboundEdit):
        return inbox_services.message_edit_inbound(
            channel=channel,
            external_id=event.external_id,
            text=event.text,
            edited_at=event.edited_at,
        )
    if isinstance(event, DeliveryStatusUpdate):
        return inbox_services.message_update_status(
            channel=channel, external_id=event.external_id, status=event.status, error=event.error
        )
    if isinstance(event, IdentityReachability):
        if event.reported_for is not None:
            recipient = inbox_selectors.sent_message_recipient_address(
                channel_id=channel.pk, external_id=event.reported_for
            )
            if recipient is None or recipient.casefold() != event.value.casefold():
                return 0
        return identity_set_reachable(
            kind=event.kind, value=event.value, is_reachable=event.is_reachable
        )
    raise TypeError(f"unknown inbound event {event!r}")


def _fetch_media_on_commit(message) -> None:
    pending = [a.pk for a in message.attachments.all() if a.media_id and not a.file]
    if pending:
        transaction.on_commit(lambda: _enqueue_media_fetches(pending))


def _enqueue_media_fetches(attachment_ids: list[int]) -> None:
    for attachment_id in attachment_ids:
        celery_app.send_task(FETCH_MEDIA_TASK, args=[attachment_id])


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
            attachment_id=attachment_id, error=failure.reason
        )
        return None
    inbox_services.attachment_store_media(
        attachment_id=attachment_id,
        content=media.content,
        content_type=media.content_type,
        filename=media.filename,
    )
    return None


def _webhook_event_store(
    channel: Channel, request: WebhookRequest, body_sha256: str, *, status: str, error: str = ""
) -> None:
    # One statement whatever happened before: a redelivery of an event that failed
    # earlier updates its row instead of adding another.
    WebhookEvent.objects.bulk_create(
        [
            WebhookEvent(
                channel=channel,
                body=request.body,
                body_sha256=body_sha256,
                content_type=request.headers.get("content-type", "")[:255],
                envelope_sender=request.headers.get(ENVELOPE_SENDER_HEADER, "")[:320],
                status=status,
                error=error,
                attempts=1,
                processed_at=timezone.now() if status != WebhookEventStatus.FAILED else None,
            )
        ],
        update_conflicts=True,
        unique_fields=["channel", "body_sha256"],
        update_fields=["status", "error", "processed_at"],
    )


def webhook_events_reprocess_failed(*, limit: int = 100, now: datetime | None = None) -> int:
    """Run failed raw events through the inbox again (after a fix or an outage), oldest
    first, each less often as its failures add up: due WEBHOOK_REPROCESS_SECONDS *
    (2^(attempts-1) - 1) after it arrived, so twelve runs stretch over about a week. One
    that still fails after WEBHOOK_REPROCESS_MAX_ATTEMPTS stays failed, with its last
    error, for an admin to look at (and process again from Django admin)."""
    now = now or timezone.now()
    candidates = (
        WebhookEvent.objects.filter(
            status=WebhookEventStatus.FAILED,
            attempts__lt=settings.WEBHOOK_REPROCESS_MAX_ATTEMPTS,
        )
        .order_by("id")
        .values_list("pk", "created_at", "attempts")[: limit * 10]
    )
    due = [
        pk
        for pk, created_at, attempts in candidates
        if created_at + _reprocess_delay(attempts) <= now
    ][:limit]
    return webhook_events_reprocess(
        events=WebhookEvent.objects.filter(pk__in=due).select_related("channel").order_by("id")
    )


def _reprocess_delay(attempts: int) -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_REPROCESS_SECONDS * (2 ** max(attempts - 1, 0) - 1))


def webhook_events_reprocess(*, events: Iterable[WebhookEvent]) -> int:
    """Run these raw events through the inbox again; returns how many now went through."""
    reprocessed = 0
    for event in events:
        headers = {"content-type": event.content_type}
        if event.envelope_sender:
            headers[ENVELOPE_SENDER_HEADER] = event.envelope_sender
        request = WebhookRequest(body=bytes(event.body), headers=headers)
        try:
            inbound_events = adapter_for(event.channel).parse(request)
            with transaction.atomic():
                for inbound in inbound_events:
                    webhook_event_apply(channel=event.channel, event=inbound)
                event.status = WebhookEventStatus.PROCESSED
                event.processed_at = timezone.now()
                event.error = ""
                event.attempts += 1
                event.save(update_fields=["status", "processed_at", "error", "attempts"])
            reprocessed += 1
        except PayloadMalformed:
            WebhookEvent.objects.filter(pk=event.pk).update(status=WebhookEventStatus.IGNORED)
        except Exception as error:
            WebhookEvent.objects.filter(pk=event.pk).update(
                error=repr(error), attempts=event.attempts + 1
            )
    return reprocessed


def message_deliver(*, message_id: int, attempt: int, max_attempts: int) -> float | None:
    """Send one queued message through its channel's adapter.

    Returns the delay before the next try when a retryable failure leaves tries over;
    otherwise the outcome (sent or failed with the reason) is stored and None returned.
    """
    message = inbox_selectors.message_for_delivery(message_id=message_id)
    if message is None or message.status != MessageStatus.QUEUED:
        return None
    conversation = message.conversation
    adapter = adapter_for(conversation.channel)
    outbound = OutboundMessage(
        message_id=message.pk,
        conversation_id=conversation.pk,
        recipient_address=conversation.recipient_address,
        text=message.body,
        author_name=message.author.display_name if message.author else "",
        customer_last_message_at=conversation.last_inbound_at,
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
    )
    try:
        if conversation.channel.secrets_error:
            raise DeliveryFailed(conversation.channel.secrets_error, is_retryable=False)
        result = adapter.send(outbound)
    except DeliveryFailed as failure:
        is_final = not failure.is_retryable or attempt >= max_attempts
        inbox_services.message_record_delivery_attempt(
            message_id=message.pk,
            error=failure.reason,
            is_final=is_final,
            progress=failure.progress,
        )
        if is_final:
            logger.warning("message %s failed: %s", message.pk, failure.reason)
            return None
        return inbox_services.delivery_retry_delay(attempt=attempt, retry_after=failure.retry_after)
    inbox_services.message_record_delivery_attempt(
        message_id=message.pk, external_id=result.external_id
    )
    return None


def csat_survey_send(*, survey_id: int) -> None:
    """Send one queued survey through its channel, at most once (see inbox.csat)."""
    survey_dispatch.csat_surveys_send(survey_ids=[survey_id])


def webhook_verification(*, channel: Channel, request: WebhookRequest) -> VerificationAnswer:
    return adapter_for(channel).answer_verification(request)


def channel_create(
    *, kind: str, name: str, config: dict[str, Any], csat: dict[str, Any] | None = None
) -> Channel:
    adapter = adapter_class(kind)
    public, secrets = adapter.split_config(config)
    channel = Channel(kind=kind, name=name, config=public)
    if csat:
        channel.csat = {**channel.csat, **csat}
    channel.set_secrets(secrets)
    channel.save()
    return channel


def channel_update(
    *,
    channel: Channel,
    name: str | None = None,
    config: dict[str, Any] | None = None,
    csat: dict[str, Any] | None = None,
    is_active: bool | None = None,
) -> Channel:
    """Change a channel; secrets not given are kept as they were."""
    if name is not None:
        channel.name = name
    if config is not None:
        merged_public = {**channel.config, **config}
        public, secrets = adapter_for(channel).split_config(
            merged_public, existing_secrets=channel.secrets
        )
        channel.config = public
        channel.set_secrets(secrets)
    if csat is not None:
        channel.csat = {**channel.csat, **csat}
    if is_active is not None:
        channel.is_active = is_active
    channel.save()
    _forget_cached_channel(channel)
    return channel


def channel_delete(*, channel: Channel) -> None:
    """Delete a channel; one with conversations keeps them and is deactivated instead."""
    if channel.conversations.exists():
        channel_update(channel=channel, is_active=False)
        return
    _forget_cached_channel(channel)
    channel.delete()


__all__ = ["ConfigInvalid", "channel_create", "channel_update", "webhook_receive"]
