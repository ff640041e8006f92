"""What the fake Graph API servers (WhatsApp, Messenger, Instagram) share: Meta's error
answer and the record of a request."""

import itertools
import json
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.server import FakeServer

GRAPH_VERSION = "v26.0"


@dataclass(frozen=True)
class GraphError:
    """An error the way the Graph API answers it: an HTTP status and `{"error": {...}}`."""

    status: int
    code: int
    message: str
    details: str = ""
    error_subcode: int | None = None
    error_type: str = "OAuthException"
    retry_after: int | None = None
    # WhatsApp's errors name their product in error_data; the Messenger Platform's do not.
    product: str | None = "whatsapp"

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.error_type,
            "code": self.code,
            "fbtrace_id": "AazPJ2i5d8ME1nvSJfSPPhw",
        }
        if self.error_subcode is not None:
            error["error_subcode"] = self.error_subcode
        if self.details:
            error["error_data"] = {"details": self.details}
            if self.product:
                error["error_data"]["messaging_product"] = self.product
        return {"error": error}


@dataclass
class GraphCall:
    """One request a fake Graph API received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def endpoint(self) -> str:
        raise NotImplementedError


@dataclass
class FakeGraphServer(FakeServer[GraphError]):
    """A fake Graph API: records every request as its `request_class`, answers queued
    errors first, and writes Graph errors out. Subclasses serve in `_serve`."""

    request_class: ClassVar[type[GraphCall]] = GraphCall

    requests: list[Any] = field(default_factory=list)
    sent_message_ids: list[str] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        """What goes in the channel's `api_base_url`."""
        return f"{self.root}/{GRAPH_VERSION}"

    def fail_next(
        self, error: GraphError, *, endpoint: str | None = None, times: int = 1, after: int = 0
    ) -> None:
        """Answer the next `times` requests to `endpoint` (any when None) with `error`,
        once `after` matching requests went through."""
        self._queue_error(error, route=endpoint, times=times, after=after)

    def requests_to(self, endpoint: str) -> list[Any]:
        return [request for request in self.requests if request.endpoint == endpoint]

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        request = self.request_class(
            method=method,
            path=parts.path,
            query=dict(parse_qsl(parts.query)),
            headers={key.lower(): value for key, value in handler.headers.items()},
            body=self._read_body(handler),
        )
        with self._lock:
            self.requests.append(request)
        queued = self._take_error(request.endpoint)
        if queued is not None:
            return self._answer_error(handler, queued)
        self._serve(handler, request)

    def _serve(self, handler: BaseHTTPRequestHandler, request: Any) -> None:
        raise NotImplementedError

    def _next_message_id(self, pattern: str) -> str:
        message_id = pattern.format(next(self._ids))
        with self._lock:
            self.sent_message_ids.append(message_id)
        return message_id

    def _answer_error(self, handler: BaseHTTPRequestHandler, error: GraphError) -> None:
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after else {}
        self._answer_json(handler, error.status, error.body(), headers)
