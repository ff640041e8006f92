"""A Django ASGI handler for `/webhooks/` without the middleware stack.

Webhooks need no sessions, CSRF, authentication or static files, and each sync
middleware under ASGI costs thread hops; platforms post at high rates, so their
requests skip the chain and reach the async webhook view directly.
"""

import json

from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.exception import convert_exception_to_response


class MiddlewareFreeASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        # What BaseHandler.load_middleware builds for an empty settings.MIDDLEWARE.
        self._view_middleware: list = []
        self._template_response_middleware: list = []
        self._exception_middleware: list = []
        get_response = (
            self._get_response_async  # type: ignore[attr-defined]
            if is_async
            else self._get_response  # type: ignore[attr-defined]
        )
        self._middleware_chain = convert_exception_to_response(get_response)


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
        answer = await fast_ingest.receive_known_sender(
            kind=parts[1], public_id=parts[2], request=request
        )
        if answer is None:
            return await self.regular(scope, _replaying(body, receive), send)
        payload = json.dumps(answer).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
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
