"""Widget writes: a visitor's message into the inbox (the webhook flow), read receipts,
identification, and the flood limits."""

import datetime
import ipaddress
import logging
import mimetypes
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from channels_app import services as channel_services
from channels_app.adapters.webchat import (
    FRAME_SIGNATURE_HEADER,
    MAX_TEXT_LENGTH,
    MAX_UPLOAD_BYTES,
    WebchatAdapter,
    outbound_external_id,
    widget_upload_name,
)
from channels_app.contracts import WebhookRejected, WebhookRequest
from channels_app.models import Channel
from channels_app.widget import selectors
from channels_app.widget.visitors import (
    IdentityHashCheck,
    IdentityKind,
    Visitor,
    frame_body,
    frame_signature,
    identity_hash_check,
    visitor_new,
    visitor_verified,
    visitor_with_claims,
)
from inbox import services as inbox_services
from inbox.models import Message, MessageDirection, MessageStatus

logger = logging.getLogger(__name__)

VISITOR_MESSAGES_PER_WINDOW = 20
VISITOR_WINDOW_SECONDS = 10
ADDRESS_MESSAGES_PER_WINDOW = 60
ADDRESS_WINDOW_SECONDS = 60
MAX_CLIENT_ID_LENGTH = 64
MAX_READ_RECEIPTS = 50
# Multipart framing adds a little to the file itself.
MAX_UPLOAD_REQUEST_BYTES = MAX_UPLOAD_BYTES + 64 * 1024
TOO_LARGE_DETAIL = gettext_lazy("Files are at most 10 MB.")
ALLOWED_UPLOAD_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "text/csv",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
    }
)


class VisitorMessageRefused(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def visitor_upload_accept(
    *, filename: str, declared_type: str, size: int | None
) -> tuple[str, str]:
    """A visitor's file as it will be stored: (file name, content type), or
    VisitorMessageRefused ("too_large", "unsupported_type")."""
    if size is None or size > MAX_UPLOAD_BYTES:
        raise VisitorMessageRefused("too_large", str(TOO_LARGE_DETAIL))
    name = (filename or "attachment").rsplit("/", 1)[-1][:200]
    content_type = declared_type.split(";")[0].strip().lower()
    if not content_type or content_type == "application/octet-stream":
        content_type = (mimetypes.guess_type(name)[0] or "").lower()
    if content_type not in ALLOWED_UPLOAD_TYPES:
        raise VisitorMessageRefused(
            "unsupported_type", gettext("Only images, PDF, text and office documents can be sent.")
        )
    return name, content_type


class IdentityNotVerified(Exception):
    pass


@dataclass(frozen=True)
class VisitorAttachment:
    """A visitor's file as uploaded (checked by visitor_upload_accept), saved to our
    storage once the message that carries it is accepted."""

    file: File
    filename: str
    content_type: str


def _upload_store(attachment: VisitorAttachment) -> dict[str, object]:
    """Save the file once; the raw event names it (its bytes are not kept twice)."""
    return {
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        # The storage's own rules make the name safe on disk (the visitor chose it).
        "stored_name": default_storage.save(
            default_storage.generate_filename(widget_upload_name(attachment.filename)),
            attachment.file,
        ),
        "size": attachment.file.size,
    }


@dataclass(frozen=True)
class VisitorMessageOutcome:
    message: dict[str, Any]
    conversation_id: int
    customer_id: int
    customer_name: str
    is_new_conversation: bool
    is_duplicate: bool


def widget_public_config(channel: Channel) -> dict[str, Any]:
    config = channel.config
    return {
        "color": config.get("color") or "#2563eb",
        "greeting": config.get("greeting") or "",
        "company_name": config.get("company_name") or channel.name,
        "prechat_form": bool(config.get("prechat_form")),
    }


def widget_channel_for_origin(*, public_id: str, origin: str | None) -> Channel | None:
    """The active webchat channel, if the page at `origin` may embed it."""
    try:
        channel = channel_services.channel_get_active(kind=WebchatAdapter.kind, public_id=public_id)
    except channel_services.ChannelNotFound:
        return None
    return channel if WebchatAdapter(channel).allows_origin(origin) else None


def visitor_message_send(
    *,
    channel: Channel,
    visitor: Visitor,
    text: str,
    client_id: str = "",
    button_payload: str = "",
    attachment: VisitorAttachment | None = None,
    language: str = "",
) -> VisitorMessageOutcome:
    """Store what the visitor wrote, through the same verify → store raw → parse → receive
    flow as a platform's webhook."""
    if len(text) > MAX_TEXT_LENGTH:
        raise VisitorMessageRefused(
            "too_large", f"a message holds at most {MAX_TEXT_LENGTH} characters"
        )
    if not text.strip() and not button_payload and attachment is None:
        raise VisitorMessageRefused("invalid", "a message needs text")
    client_id = client_id if _is_client_id(client_id) else uuid.uuid4().hex
    fields: dict[str, object] = {
        "visitor_id": visitor.visitor_id,
        "client_id": client_id,
        "text": text,
        "button_payload": button_payload,
        "name": visitor.name,
        "email": visitor.email,
        "user_id": visitor.user_id,
        "email_verified": visitor.is_email_verified,
        "language": language,
    }
    stored_file = _upload_store(attachment) if attachment is not None else None
    if stored_file is not None:
        fields["attachments"] = [stored_file]
    body = frame_body(fields)
    request = WebhookRequest(
        body=body,
        headers={
            "content-type": "application/json",
            FRAME_SIGNATURE_HEADER: frame_signature(public_id=str(channel.public_id), body=body),
        },
    )
    try:
        outcome = channel_services.webhook_receive(channel=channel, request=request)
    except WebhookRejected as rejection:
        _upload_discard(stored_file)
        raise VisitorMessageRefused("invalid", rejection.detail) from rejection
    stored = outcome.body.get("messages") or []
    if not stored:
        # The raw event that names the file is kept for its reprocessing: so is the file.
        raise VisitorMessageRefused("unavailable", "the message could not be stored; try again")
    if stored[0]["duplicate"]:
        _upload_discard(stored_file)  # the first delivery's message keeps its own file
    conversation = selectors.visitor_conversation_latest(channel=channel, visitor=visitor)
    message = selectors.visitor_message_get(message_id=stored[0]["id"])
    return VisitorMessageOutcome(
        message=message,
        conversation_id=stored[0]["conversation_id"],
        customer_id=conversation.customer_id if conversation else 0,
        customer_name=conversation.customer_name if conversation else visitor.name,
        is_new_conversation=_is_first_message(stored[0]["conversation_id"]),
        is_duplicate=bool(stored[0]["duplicate"]),
    )


def _upload_discard(stored_file: dict[str, object] | None) -> None:
    if stored_file is not None:
        default_storage.delete(str(stored_file["stored_name"]))


def _is_client_id(value: str) -> bool:
    return (
        0 < len(value) <= MAX_CLIENT_ID_LENGTH
        and value.isascii()
        and all(character.isalnum() or character in "-_" for character in value)
    )


def _is_first_message(conversation_id: int) -> bool:
    return Message.objects.filter(conversation_id=conversation_id).count() == 1


def visitor_mark_read(*, channel: Channel, visitor: Visitor, up_to_message_id: int) -> int:
    """The visitor saw operator messages up to this one: they become `read`."""
    unread = (
        Message.objects.filter(
            conversation__in=selectors.visitor_conversation_ids(channel=channel, visitor=visitor),
            direction=MessageDirection.OUTBOUND,
            is_private=False,
            status__in=(MessageStatus.SENT, MessageStatus.DELIVERED),
            pk__lte=up_to_message_id,
        )
        .order_by("-id")
        .values_list("pk", flat=True)[:MAX_READ_RECEIPTS]
    )
    count = 0
    for message_id in unread:
        if inbox_services.message_update_status(
            channel=channel, external_id=outbound_external_id(message_id), status=MessageStatus.READ
        ):
            count += 1
    return count


def legacy_identity_hashes_accepted() -> bool:
    """Hashes of the bare value are accepted until WIDGET_LEGACY_IDENTITY_HASH_UNTIL (UTC)."""
    until = settings.WIDGET_LEGACY_IDENTITY_HASH_UNTIL
    return bool(until) and timezone.now().date() <= datetime.date.fromisoformat(until)


def _identity_hash_accepted(
    *, channel: Channel, kind: IdentityKind, value: str, given: str
) -> bool:
    check = identity_hash_check(
        identity_secret=channel.secrets.get("identity_secret", ""),
        kind=kind,
        value=value,
        given=given,
        accept_legacy=legacy_identity_hashes_accepted(),
    )
    if check is IdentityHashCheck.LEGACY:
        logger.warning(
            "Channel %s: the site signed a widget %s without the '%s:' prefix; such hashes "
            "are refused after %s",
            channel.pk,
            kind.value,
            kind.value,
            settings.WIDGET_LEGACY_IDENTITY_HASH_UNTIL,
        )
    return check is not IdentityHashCheck.INVALID


def visitor_identify(
    *,
    channel: Channel,
    visitor: Visitor,
    name: str,
    email: str,
    user_id: str = "",
    user_hash: str = "",
    email_hash: str = "",
) -> Visitor:
    """Fold what the visitor told us into their identity. With `user_id`, the site must
    prove it with `user_hash`; a wrong hash raises IdentityNotVerified and changes nothing."""
    if user_id or user_hash:
        if not _identity_hash_accepted(
            channel=channel, kind=IdentityKind.USER, value=user_id, given=user_hash
        ):
            raise IdentityNotVerified(user_id)
        if visitor.is_verified and visitor.user_id != user_id:
            # Another account signed in on this browser: it must not inherit the previous
            # user's thread, so it starts as a new visitor.
            visitor = visitor_new()
        # The hash vouches for the user id only; the email joins other profiles only if
        # the site signed it too, or a signed-in user could claim anyone's address.
        is_email_verified = bool(email) and _identity_hash_accepted(
            channel=channel, kind=IdentityKind.EMAIL, value=email, given=email_hash
        )
        return visitor_verified(
            visitor, user_id=user_id, name=name, email=email, is_email_verified=is_email_verified
        )
    return visitor_with_claims(visitor, name=name, email=email)


def address_bucket(address: str) -> str:
    """What one sender controls: an IPv4 address, or an IPv6 /64 (a home or a server gets
    a whole /64 and could otherwise change address for every message)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False).network_address) + "/64"
    return str(parsed)


async def visitor_message_allowed(*, visitor_id: str, address: str) -> bool:
    """At most 20 messages per 10 s per visitor and 60 a minute per network address, counted
    in the shared cache so that every server process enforces the same limits."""
    now = int(time.time())
    windows = (
        (
            f"widget.rate.visitor.{visitor_id}.{now // VISITOR_WINDOW_SECONDS}",
            VISITOR_MESSAGES_PER_WINDOW,
            VISITOR_WINDOW_SECONDS,
        ),
        (
            f"widget.rate.address.{address_bucket(address)}.{now // ADDRESS_WINDOW_SECONDS}",
            ADDRESS_MESSAGES_PER_WINDOW,
            ADDRESS_WINDOW_SECONDS,
        ),
    )
    for key, limit, seconds in windows:
        await cache.aadd(key, 0, timeout=seconds + 1)
        if await cache.aincr(key) > limit:
            return False
    return True
