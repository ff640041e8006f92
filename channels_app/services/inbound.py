"""The inbound pipeline: a verified webhook or a mail is kept as a raw event, parsed by its
channel's adapter, and each event it says is handed to the service that owns it."""

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from channels_app.adapters.base import ChannelAdapter
from channels_app.adapters.email import EmailAdapter
from channels_app.contracts import (
    ENVELOPE_SENDER_HEADER,
    CustomerTyping,
    DeliveryStatusUpdate,
    DeliveryWatermark,
    IdentityReachability,
    InboundDeletion,
    InboundEdit,
    InboundEvent,
    InboundMessage,
    InboundReaction,
    OutboundEcho,
    PayloadMalformed,
    VerificationAnswer,
    WebhookRequest,
)
from channels_app.models import Channel, WebhookEvent, WebhookEventStatus
from channels_app.registry import adapter_for
from channels_app.sender_profiles import sender_name_fetch_on_commit
from channels_app.services.media_fetch import message_media_fetch_on_commit
from customers import plain_sql
from customers.normalization import InvalidIdentityValue, normalize_identity_value
from customers.services import identity_set_reachable
from customers.transactions import atomic_retrying_conflicts, is_connection_lost, is_lock_conflict
from inbox import platform_reports
from inbox import selectors as inbox_selectors
from inbox import services as inbox_services
from inbox.receiving.batched_statements import raw_event_upsert
from inbox.receiving.rows import model_row
from inbox.services import ReceiveOutcome

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookOutcome:
    status_code: int
    body: dict[str, Any] = field(default_factory=dict)


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
            # Robust: the answer to the platform is not skipped for a hook before it that
            # failed, and a failed one never turns this committed event into `failed`.
            transaction.on_commit(lambda: adapter.on_events_stored(events), robust=True)
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
            message_media_fetch_on_commit(outcome.attachments)
            sender_name_fetch_on_commit(channel=channel, conversation=outcome.conversation)
        return outcome
    if isinstance(event, InboundEdit):
        return inbox_services.message_edit_inbound(
            channel=channel,
            external_id=event.external_id,
            text=event.text,
            edited_at=event.edited_at,
        )
    if isinstance(event, InboundReaction):
        return inbox_services.message_react_inbound(
            channel=channel, external_id=event.external_id, emoji=event.emoji
        )
    if isinstance(event, InboundDeletion):
        return inbox_services.message_delete_inbound(
            channel=channel, external_id=event.external_id, deleted_at=event.deleted_at
        )
    if isinstance(event, DeliveryStatusUpdate):
        return inbox_services.message_update_status(
            channel=channel,
            external_id=event.external_id,
            status=event.status,
            error=event.error,
            is_own_bounce=event.is_own_bounce,
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
    if isinstance(event, DeliveryWatermark):
        return platform_reports.messages_mark_up_to(channel=channel, report=event)
    if isinstance(event, OutboundEcho):
        echo = platform_reports.message_store_echo(channel=channel, echo=event)
        if echo is not None:
            message_media_fetch_on_commit(echo.attachments.all())
        return echo
    if isinstance(event, CustomerTyping):
        return platform_reports.customer_typing_report(
            channel=channel, sender_address=event.sender_address, is_typing=event.is_typing
        )
    raise TypeError(f"unknown inbound event {event!r}")


def _webhook_event_store(
    channel: Channel, request: WebhookRequest, body_sha256: str, *, status: str, error: str = ""
) -> None:
    # One statement whatever happened before: a redelivery of an event that failed
    # earlier updates its row instead of adding another. Written by hand and prepared
    # (every message runs it): the ORM's upsert cost more to compose than to run.
    now = timezone.now()
    row = model_row(
        WebhookEvent(
            channel=channel,
            body=request.body,
            body_sha256=body_sha256,
            content_type=request.headers.get("content-type", "")[:255],
            envelope_sender=request.headers.get(ENVELOPE_SENDER_HEADER, "")[:320],
            status=status,
            error=error,
            attempts=1,
            created_at=now,
            processed_at=now if status != WebhookEventStatus.FAILED else None,
        )
    )
    plain_sql.execute(raw_event_upsert(row.shape), row.values)


def webhook_verification(*, channel: Channel, request: WebhookRequest) -> VerificationAnswer:
    return adapter_for(channel).answer_verification(request)
