"""What every fake platform server shares: a threaded HTTP server on 127.0.0.1 started and
stopped around a test, errors queued for the next requests, and answers written out."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Generic, Self, TypeVar

ErrorT = TypeVar("ErrorT")
CallT = TypeVar("CallT")


@dataclass
class QueuedError(Generic[ErrorT]):
    error: ErrorT
    # The route it is for (a Bot API method, a Graph API endpoint); None for any.
    route: str | None
    times: int
    # Matching requests to let through before the error starts.
    after: int = 0


@dataclass
class FakeServer(Generic[ErrorT]):
    """Subclasses answer in `_handle(handler, http_method)`; tests call `start()`, point a
    channel at `root` (or the subclass's `url`), and `stop()` at the end."""

    http_methods: ClassVar[tuple[str, ...]] = ("GET", "POST")
    poll_interval: ClassVar[float] = 0.01

    _errors: list[QueuedError[ErrorT]] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def start(self) -> Self:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

        for http_method in self.http_methods:
            setattr(
                Handler,
                f"do_{http_method}",
                lambda handler, http_method=http_method: fake._handle(handler, http_method),
            )
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": self.poll_interval},
            daemon=True,
        ).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handle(self, handler: BaseHTTPRequestHandler, http_method: str) -> None:
        raise NotImplementedError

    def _queue_error(self, error: ErrorT, *, route: str | None, times: int, after: int) -> None:
        with self._lock:
            self._errors.append(QueuedError(error, route, times, after))

    def clear_errors(self) -> None:
        """Forget the errors still queued: the platform works again."""
        with self._lock:
            self._errors.clear()

    def _take_error(self, route: str) -> ErrorT | None:
        """The error queued for this request, if one is due."""
        with self._lock:
            for queued in self._errors:
                if queued.route in (None, route):
                    if queued.after > 0:
                        queued.after -= 1
                        return None
                    queued.times -= 1
                    if queued.times <= 0:
                        self._errors.remove(queued)
                    return queued.error
        return None

    @staticmethod
    def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
        length = int(handler.headers.get("Content-Length") or 0)
        return handler.rfile.read(length) if length else b""

    @staticmethod
    def _answer(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    @classmethod
    def _answer_json(
        cls,
        handler: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        cls._answer(handler, status, json.dumps(body).encode(), "application/json", headers)


@dataclass
class FakeMethodApi(FakeServer[ErrorT], Generic[ErrorT, CallT]):
    """A fake API of named methods at its root (Telegram's Bot API, VK's, Viber's REST bot
    API): every call recorded in `calls`, errors queued per method. Subclasses record
    each call with `_record` and answer it in `_handle`."""

    # The field of a recorded call that names its method.
    method_field: ClassVar[str] = "method"

    calls: list[CallT] = field(default_factory=list)

    @property
    def url(self) -> str:
        """What goes in the channel's `api_base_url`."""
        return self.root

    def fail_next(
        self, error: ErrorT, *, method: str | None = None, times: int = 1, after: int = 0
    ) -> None:
        """Answer the next `times` calls (of `method`, or any) with `error`, once `after`
        matching calls went through."""
        self._queue_error(error, route=method, times=times, after=after)

    def calls_to(self, method: str) -> list[CallT]:
        with self._lock:
            return [call for call in self.calls if getattr(call, self.method_field) == method]

    def _record(self, call: CallT) -> None:
        with self._lock:
            self.calls.append(call)
