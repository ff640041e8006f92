"""The ASGI edge of `/webhooks/`: which path a webhook takes.

A verified webhook carrying one message a batched path can store goes to
`inbox.receiving.batched` on the event loop; everything else, and anything that path
declines, goes to the regular Django view (`channels_app.webhooks.webhook` →
`channels_app.services.webhook_receive` → `inbox.receiving.regular.message_receive`).
Also the body limit for what anyone may post."""

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext

from channels_app.contracts import InboundMessage, WebhookRequest
from channels_app.models import WebhookEvent, WebhookEventStatus
from channels_app.registry import adapter_for
from channels_app.services import channel_cached_active
from inbox.receiving import batched
from inbox.web.language import browser_language

logger = logging.getLogger(__name__)


class PathPrefixRouter:
    """Send HTTP requests under `prefix` to `matched`, everything else to `default`."""

    def __init__(self, *, prefix: str, matched, default) -> None:
        self.prefix = prefix
        self.matched = matched
        self.default = default

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            return await self.matched(scope, receive, send)
        return await self.default(scope, receive, send)


class FastWebhookApplication:
    """POST /webhooks/<kind>/<public_id>/ tries the fast path first; when it declines, the
    request (its body replayed) goes to `regular`, the full Django handling."""

    def __init__(self, regular) -> None:
        self.regular = regular

    async def __call__(self, scope, receive, send):
        parts = scope["path"].strip("/").split("/")
        headers = {
            key.decode("latin-1").lower(): value.decode("latin-1")
            for key, value in scope.get("headers", [])
        }
        length = headers.get("content-length", "")
        if (
            scope["method"] != "POST"
            or not batched.is_enabled()
            or len(parts) != 3
            or not length.isdigit()
            or int(length) > settings.WEBHOOK_MAX_BODY_BYTES
        ):
            return await self.regular(scope, receive, send)
        body = await _read_body(receive)
        if body is None:
            return None  # the client went away
        request = WebhookRequest(body=body, headers=headers, method="POST")
        async with received(kind=parts[1], public_id=parts[2], request=request) as answer:
            if answer is None:
                # Inside the block: the sender's next webhook waits for this one.
                return await self.regular(scope, _replaying(body, receive), send)
            await _send_json(send, 200, answer)
        return None


@asynccontextmanager
async def received(
    *, kind: str, public_id: str, request: WebhookRequest
) -> AsyncIterator[dict[str, Any] | None]:
    """The answer to a webhook the batched path stored (and broadcast), or None: then the
    caller hands the request to the regular path inside the block.

    A sender's webhooks are taken one at a time in each web process, in arrival order,
    whichever path stores them: the block holds the sender's turn, so their next message
    cannot overtake one the regular path is still storing.
    """
    channel = channel_cached_active(kind=kind, public_id=public_id)
    inbound = _parse_single_message(channel, request) if channel is not None else None
    if channel is None or inbound is None:
        yield None
        return
    async with _turns_for_this_loop().turn((channel.pk, inbound.recipient_address)):
        try:
            message = await batched.message_receive_batched(
                channel=channel,
                inbound=inbound,
                raw_event=_raw_event_processed(channel, request),
                # The regular path asks the platform for a new sender's name after it.
                opens_conversations=not adapter_for(channel).fetches_sender_names,
            )
        except Exception:
            # Whatever went wrong, the regular path answers it properly (and keeps the event).
            logger.exception("webhook fast path gave up for channel %s", channel.pk)
            message = None
        if message is None:
            yield None
        else:
            yield {
                "status": "ok",
                "messages": [
                    {
                        "id": message.pk,
                        "conversation_id": message.conversation_id,
                        "duplicate": False,
                    }
                ],
            }


def _raw_event_processed(channel, request: WebhookRequest) -> WebhookEvent:
    """The raw event kept with a message the batched path stores (unsaved: that path
    inserts it in the same statement as the message)."""
    now = timezone.now()
    return WebhookEvent(
        channel=channel,
        body=request.body,
        body_sha256=hashlib.sha256(request.body).hexdigest(),
        content_type=request.headers.get("content-type", "")[:255],
        envelope_sender="",
        status=WebhookEventStatus.PROCESSED,
        error="",
        attempts=1,
        created_at=now,
        processed_at=now,
    )


def _parse_single_message(channel, request: WebhookRequest) -> InboundMessage | None:
    """The one message a verified webhook carries; None when it is anything else (or the
    regular path should say what is wrong with it)."""
    try:
        adapter = adapter_for(channel)
        if not adapter.takes_batched_path:
            return None
        if adapter.uses_thread_references:
            # Email: parsing a sender's MIME is too heavy for the event loop, and it
            # threads by reference, which only the regular path does.
            return None
        adapter.verify(request)
        events = adapter.parse(request)
    except Exception:
        return None  # refused or malformed: the regular path answers it
    if len(events) != 1 or not isinstance(events[0], InboundMessage):
        return None
    return events[0]


_turns: "_SenderTurns | None" = None


def _turns_for_this_loop() -> "_SenderTurns":
    global _turns
    loop = asyncio.get_running_loop()
    if _turns is None or _turns.loop is not loop:
        _turns = _SenderTurns(loop)
    return _turns


class _SenderTurns:
    """One webhook per sender at a time, in arrival order (asyncio locks queue fairly)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.locks: dict[tuple[int, str], asyncio.Lock] = {}
        self.holders: dict[tuple[int, str], int] = {}

    @asynccontextmanager
    async def turn(self, sender: tuple[int, str]) -> AsyncIterator[None]:
        lock = self.locks.setdefault(sender, asyncio.Lock())
        self.holders[sender] = self.holders.get(sender, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self.holders[sender] -= 1
            if not self.holders[sender]:
                del self.holders[sender], self.locks[sender]


async def _read_body(receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replaying(body: bytes, receive):
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class _BodyTooLarge(Exception):
    pass


class RequestBodyLimit:
    """Answers 413 as soon as a request body grows past `limit_for(scope)` bytes.

    Django reads a whole ASGI body (to disk when large) before any view can look at it,
    so a public endpoint's own size check comes too late for a body streamed without a
    Content-Length. None from `limit_for` means no limit here.
    """

    def __init__(self, app, *, limit_for: Callable[[dict], int | None]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope, receive, send):
        limit = self.limit_for(scope) if scope["type"] == "http" else None
        if limit is None:
            return await self.app(scope, receive, send)
        declared = next(
            (value for key, value in scope.get("headers", []) if key.lower() == b"content-length"),
            b"",
        )
        if declared.isdigit() and int(declared) > limit:
            return await _too_large(send, limit, scope)
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _BodyTooLarge
            return message

        try:
            return await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            return await _too_large(send, limit, scope)


def body_too_large_detail(limit: int) -> str:
    """The 413's detail, in the active language."""
    return gettext("The body is over %(limit)s bytes.") % {"limit": limit}


async def _too_large(send, limit: int, scope) -> None:
    # Nothing here reads a session: the reader's language is the one their request asks for.
    language = browser_language(dict(scope.get("headers", [])))
    with translation.override(language):
        detail = body_too_large_detail(limit)
    # The rest of the body is not read: the connection cannot carry another request.
    await _send_json(
        send, 413, {"error": "too_large", "detail": detail}, closing=True, language=language
    )


async def _send_json(
    send, status: int, answer: dict, *, closing: bool = False, language: str = ""
) -> None:
    payload = json.dumps(answer).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if language:
        headers.append((b"content-language", language.encode()))
    if closing:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
