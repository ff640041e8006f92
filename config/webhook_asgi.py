"""A Django ASGI handler for `/webhooks/` without the middleware stack.

Webhooks need no sessions, CSRF, authentication or static files, and each sync
middleware under ASGI costs thread hops; platforms post at high rates, so their
requests skip the chain and reach the async webhook view directly.
"""

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
