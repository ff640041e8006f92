"""The ASGI edge of `/webhooks/`: the fast path first, the regular Django view after it,
and a body limit for what anyone may post."""

import json
from collections.abc import Callable


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
        from django.conf import settings

        from channels_app import fast_ingest
        from channels_app.contracts import WebhookRequest

        parts = scope["path"].strip("/").split("/")
        headers = {
            key.decode("latin-1").lower(): value.decode("latin-1")
            for key, value in scope.get("headers", [])
        }
        length = headers.get("content-length", "")
        if (
            scope["method"] != "POST"
            or not fast_ingest.is_enabled()
            or len(parts) != 3
            or not length.isdigit()
            or int(length) > settings.WEBHOOK_MAX_BODY_BYTES
        ):
            return await self.regular(scope, receive, send)
        body = await _read_body(receive)
        if body is None:
            return None  # the client went away
        request = WebhookRequest(body=body, headers=headers, method="POST")
        async with fast_ingest.received(
            kind=parts[1], public_id=parts[2], request=request
        ) as answer:
            if answer is None:
                # Inside the block: the sender's next webhook waits for this one.
                return await self.regular(scope, _replaying(body, receive), send)
            await _send_json(send, 200, answer)
        return None


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
            return await _too_large(send, limit)
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
            return await _too_large(send, limit)


def public_body_limit(scope: dict) -> int | None:
    """The largest body the request's endpoint accepts (config.request_limits)."""
    from config.request_limits import body_limit_for

    return body_limit_for(scope["path"])


async def _too_large(send, limit: int) -> None:
    detail = f"the body is over {limit} bytes"
    # The rest of the body is not read: the connection cannot carry another request.
    await _send_json(send, 413, {"error": "too_large", "detail": detail}, closing=True)


async def _send_json(send, status: int, answer: dict, *, closing: bool = False) -> None:
    payload = json.dumps(answer).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if closing:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
