"""Django's WSGI application served inside the ASGI server, on a fixed set of threads.

Django's own ASGI handler runs each sync view and middleware through a thread hop of its
own (about fourteen per request) on a new thread per request, so every request pays for
the hops and any per-thread state (a database connection above all) is made again each
time. Here a request costs one hop: its body is read on the event loop, the WSGI
application runs on one of `threads` long-lived threads, and the answer comes back whole
(a streaming answer, such as a file, chunk by chunk). At most `threads` requests run at
once; the others wait for a thread on the event loop, which costs nothing.
"""

import asyncio
import sys
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async

# Bodies larger than this wait for the application in a temporary file, not in memory.
BODY_IN_MEMORY_BYTES = 1024 * 1024


class WsgiOnThreads:
    def __init__(self, application: Callable, *, threads: int) -> None:
        self.application = application
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="wsgi")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"cannot serve a {scope['type']} connection")
        body = await _read_body(receive)
        if body is None:
            return  # the client went away before sending its body
        responder = _Responder(asyncio.get_running_loop(), send)
        # asgiref's hop, not a bare run_in_executor: code on the thread that goes back to
        # async (the channel layer's group_send) then runs on this loop, with its
        # connections, instead of on a new loop made for the call.
        run = sync_to_async(responder.run, thread_sensitive=False, executor=self.executor)
        try:
            await run(self.application, _environ(scope, body))
        finally:
            body.close()
        await responder.send_collected()


async def _read_body(receive) -> Any:
    body = tempfile.SpooledTemporaryFile(max_size=BODY_IN_MEMORY_BYTES)  # noqa: SIM115
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            body.close()
            return None
        body.write(message.get("body", b""))
        if not message.get("more_body"):
            body.seek(0)
            return body


def _environ(scope: dict, body) -> dict[str, Any]:
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    path = scope["path"]
    root_path = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root_path.encode("utf-8").decode("latin-1"),
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1] or 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        key = name if name in ("CONTENT_LENGTH", "CONTENT_TYPE") else f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


class _Responder:
    """Runs the application on a pool thread and keeps what it answers for the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, send) -> None:
        self.loop = loop
        self.send = send
        self.start: dict[str, Any] | None = None
        self.chunks: list[bytes] = []
        self.streamed = False

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info=None):
        if exc_info is not None and self.start is not None and self.streamed:
            raise exc_info[1].with_traceback(exc_info[2])
        self.start = {
            "type": "http.response.start",
            "status": int(status.split(" ", 1)[0]),
            "headers": [
                (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers
            ],
        }
        return self.chunks.append

    def run(self, application: Callable, environ: dict[str, Any]) -> None:
        iterable: Iterable[bytes] = application(environ, self.start_response)
        try:
            if getattr(iterable, "streaming", False):
                # A file or a generator: send as it is produced rather than hold it all.
                self.streamed = True
                self._send_from_thread(self.start)
                for chunk in iterable:
                    if chunk:
                        self._send_from_thread(
                            {"type": "http.response.body", "body": chunk, "more_body": True}
                        )
                self._send_from_thread({"type": "http.response.body", "body": b""})
            else:
                self.chunks.extend(iterable)
        finally:
            # Django sends request_finished here: the thread gives back its connection.
            close = getattr(iterable, "close", None)
            if close is not None:
                close()

    def _send_from_thread(self, message: dict[str, Any] | None) -> None:
        asyncio.run_coroutine_threadsafe(self.send(message), self.loop).result()

    async def send_collected(self) -> None:
        if self.streamed:
            return
        assert self.start is not None, "the application answered nothing"
        await self.send(self.start)
        await self.send({"type": "http.response.body", "body": b"".join(self.chunks)})
