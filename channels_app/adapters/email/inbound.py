"""Mail in: one raw RFC 5322 message into normalized events. Threads are kept by
Message-ID (In-Reply-To/References) or by the per-conversation reply address it was sent
to, never by subject; auto-replies and our own mails coming back are dropped; a bounce
marks the message it bounces as failed."""

from typing import TYPE_CHECKING

from channels_app.adapters.email.addressing import (
    MAX_REFERENCES,
    channel_address,
    conversation_for_reply_token,
    is_email_address,
    is_own_message_id,
    is_own_message_marker,
)
from channels_app.contracts import (
    DeliveryStatusUpdate,
    IdentityReachability,
    InboundAttachment,
    InboundEvent,
    InboundIdentity,
    InboundMessage,
    PayloadMalformed,
    WebhookRequest,
)
from channels_app.failure_reasons import FailureCode, FailureReason
from channels_app.mail.parsing import BounceReport, EmailUnreadable, ParsedEmail, parse_email

if TYPE_CHECKING:
    from channels_app.models import Channel

# `MAIL FROM:<>`: the sender wants no answer (bounces, receipts, notifications).
NULL_REVERSE_PATH = "<>"


def content_type_check(request: WebhookRequest) -> None:
    content_type = request.headers.get("content-type", "message/rfc822")
    if content_type.split(";")[0].strip().lower() not in ("message/rfc822", "text/plain", ""):
        raise PayloadMalformed("the body must be one raw message (Content-Type: message/rfc822)")


def events_from_raw(channel: "Channel", raw: bytes, *, envelope_sender: str) -> list[InboundEvent]:
    try:
        parsed = parse_email(raw)
    except EmailUnreadable as error:
        raise PayloadMalformed(f"not an email message: {error}") from error
    except RecursionError as error:
        # Thousands of nested MIME parts exhaust the standard parser's recursion.
        raise PayloadMalformed("the message nests its parts too deeply") from error
    if is_own_message_marker(parsed.own_message_marker):
        return []
    if parsed.bounce is not None:
        return _bounce_events(channel, parsed.bounce)
    if parsed.is_auto_reply or envelope_sender.strip() == NULL_REVERSE_PATH:
        return []
    message = _inbound_message(channel, parsed, envelope_sender)
    # Whoever writes to us can be written to again, whatever an earlier bounce said.
    reachable = IdentityReachability(
        kind="email", value=message.recipient_address, is_reachable=True
    )
    return [message, reachable]


def _inbound_message(
    channel: "Channel", parsed: ParsedEmail, envelope_sender: str
) -> InboundMessage:
    sender_address, sender_name = parsed.from_address, parsed.from_name
    if parsed.reply_to_address and _is_relay(channel, parsed.from_address):
        # A form or list relay sends for someone else: they are in Reply-To.
        sender_address = parsed.reply_to_address
        sender_name = parsed.reply_to_name or sender_name
    if not is_email_address(sender_address):
        sender_address = envelope_sender.strip().lower()
    if not is_email_address(sender_address):
        raise PayloadMalformed("the message names no sender address we can answer")
    return InboundMessage(
        external_id=parsed.message_id[:255],
        recipient_address=sender_address,
        identities=(InboundIdentity(kind="email", value=sender_address),),
        sender_name=sender_name,
        sender_language=parsed.language,
        text=parsed.text,
        full_text=parsed.full_text if parsed.full_text != parsed.text else "",
        html=parsed.html,
        subject=parsed.subject,
        sent_at=parsed.sent_at,
        attachments=tuple(
            InboundAttachment(
                filename=item.filename,
                content_type=item.content_type,
                size=len(item.content),
                content=item.content,
                content_id=item.content_id,
            )
            for item in parsed.attachments
        ),
        thread_references=_thread_references(parsed),
        reply_conversation_id=_conversation_from_recipients(channel, parsed.recipients),
        threads_by_reference=True,
        external_id_per_sender=True,
    )


def _is_relay(channel: "Channel", address: str) -> bool:
    for relay in channel.config.get("relay_senders") or ():
        relay = relay.strip().lower()
        if relay and (address == relay or (relay.startswith("@") and address.endswith(relay))):
            return True
    return False


def _conversation_from_recipients(channel: "Channel", recipients: tuple[str, ...]) -> int | None:
    local, _, domain = channel_address(channel).partition("@")
    for recipient in recipients:
        recipient_local, _, recipient_domain = recipient.partition("@")
        base, plus, token = recipient_local.partition("+")
        if plus and base == local and recipient_domain == domain:
            conversation_id = conversation_for_reply_token(channel, token)
            if conversation_id is not None:
                return conversation_id
    return None


def _bounce_events(channel: "Channel", bounce: BounceReport) -> list[InboundEvent]:
    events: list[InboundEvent] = []
    if bounce.original_message_id:
        events.append(
            DeliveryStatusUpdate(
                external_id=bounce.original_message_id,
                status="failed",
                error=FailureReason.of(FailureCode.BOUNCED, detail=bounce.diagnostic[:1000]),
                is_own_bounce=is_own_message_id(channel, bounce.original_message_id),
            )
        )
    # Only a report on a mail we really sent (its Message-ID carries our signature)
    # may declare an address dead, and only that mail's recipient: anyone can mail us
    # something that looks like a report.
    if (
        bounce.is_address_dead
        and is_own_message_id(channel, bounce.original_message_id)
        and is_email_address(bounce.recipient)
    ):
        events.append(
            IdentityReachability(
                kind="email",
                value=bounce.recipient,
                is_reachable=False,
                reported_for=bounce.original_message_id,
            )
        )
    return events


def _thread_references(parsed: ParsedEmail) -> tuple[str, ...]:
    nearest_first = [*parsed.in_reply_to, *reversed(parsed.references)]
    seen: dict[str, None] = {}
    for reference in nearest_first:
        if reference != parsed.message_id:
            seen.setdefault(reference[:255], None)
    return tuple(seen)[: MAX_REFERENCES * 2]
