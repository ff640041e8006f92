"""A messaging platform under load, on 127.0.0.1: an asyncio HTTP/1.1 server that answers
every request after a fixed delay, however many arrive at once, and records what it got.

It takes the two ways a survey leaves Switchboard over HTTP: the Telegram Bot API
(`POST <url>/bot<token>/sendMessage`, as a channel with `api_base_url=<url>` calls it) and an
API channel's callback URL (`POST <url>/callback`). Like Telegram, it refuses a bot more than
`telegram_per_second` messages within any one second, with a 429 and `retry_after`.

`received` holds every request it accepted, in order, with the conversation it was for
(the callback's `conversation_id`, Telegram's `chat_id`), so a caller can check that each
conversation got exactly one survey.
"""

import asyncio
import contextlib
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic() when the request arrived
    platform: str  # "telegram" or "callback"
    bot: str  # the Bot API token, "" for a callback
    conversation: str
    body: dict[str, Any]


@dataclass
class FakePlatform:
    delay: float = 0.02
    telegram_per_second: int | None = 30
    received: list[Received] = field(default_factory=list)
    # Requests answered 429 because a bot went over telegram_per_second, or by throttle_next().
    throttled: list[Received] = field(default_factory=list)
    # The most requests it was answering at the same moment.
    peak_in_flight: int = 0
    _in_flight: int = 0
    _throttle_next: int = 0
    _retry_after: int = 1
    _hold_after: int | None = None
    _recent_per_bot: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    # Running it

    def start(self) -> "FakePlatform":
        """Serve from a thread of its own (with uvloop when it is installed)."""
        started = threading.Event()

        def run() -> None:
            try:
                import uvloop

                loop = uvloop.new_event_loop()
            except ImportError:
                loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._released = asyncio.Event()
            self._server = loop.run_until_complete(
                asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024)
            )
            started.set()
            loop.run_forever()
            self._server.close()
            # Connections a client left open: closed, not abandoned mid-read.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-platform", daemon=True)
        self._thread.start()
        started.wait(10)
        return self

    def stop(self) -> None:
        self.release()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    # What a test can make it do

    def throttle_next(self, count: int, *, retry_after: int = 1) -> None:
        """Answer the next `count` requests 429 with this `retry_after`, as Telegram does."""
        self._retry_after = retry_after
        self._throttle_next = count

    def hold_after(self, count: int) -> None:
        """Accept every request after the first `count`, but answer none until release()."""
        self._loop.call_soon_threadsafe(self._released.clear)
        self._hold_after = count

    def release(self) -> None:
        self._hold_after = None
        with contextlib.suppress(AttributeError, RuntimeError):
            self._loop.call_soon_threadsafe(self._released.set)

    # What it received

    def conversations(self, platform: str | None = None) -> list[str]:
        return [r.conversation for r in list(self.received) if platform in (None, r.platform)]

    def peak_per_second(self, bot: str) -> int:
        """The most messages this bot had accepted within any one second."""
        times = sorted(r.at for r in list(self.received) if r.bot == bot)
        peak, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= 1.0:
                start += 1
            peak = max(peak, end - start + 1)
        return peak

    # HTTP

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    return
                headers = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                path = request_line.decode("latin-1").split(" ")[1]
                self._in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
                try:
                    status, answer = await self._answer(path, body)
                finally:
                    self._in_flight -= 1
                payload = json.dumps(answer).encode()
                retry_after = answer.get("parameters", {}).get("retry_after")
                extra = b"Retry-After: %d\r\n" % retry_after if retry_after else b""
                writer.write(
                    b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d"
                    b"\r\n%s\r\n%s"
                    % (status, b"OK" if status == 200 else b"Error", len(payload), extra, payload)
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            writer.close()

    async def _answer(self, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        data = json.loads(body or b"{}")
        if path.startswith("/bot"):
            bot, _, method = path.removeprefix("/bot").partition("/")
            if method != "sendMessage":
                return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
            request = Received(time.monotonic(), "telegram", bot, str(data.get("chat_id")), data)
        else:
            request = Received(
                time.monotonic(), "callback", "", str(data.get("conversation_id")), data
            )
        retry_after = self._throttled_for(request)
        if retry_after is not None:
            self.throttled.append(request)
            await asyncio.sleep(self.delay)
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            }
        self.received.append(request)
        if self._hold_after is not None and len(self.received) > self._hold_after:
            await self._released.wait()
        await asyncio.sleep(self.delay)
        number = next(self._ids)
        if request.platform == "callback":
            return 200, {"id": f"callback-{number}"}
        chat = {"id": data.get("chat_id"), "type": "private"}
        result = {"message_id": number, "chat": chat, "date": int(time.time())}
        return 200, {"ok": True, "result": result}

    def _throttled_for(self, request: Received) -> int | None:
        """Seconds to tell the sender to wait, or None to accept the request."""
        if self._throttle_next > 0:
            self._throttle_next -= 1
            return self._retry_after
        if request.platform != "telegram" or self.telegram_per_second is None:
            return None
        recent = self._recent_per_bot[request.bot]
        while recent and request.at - recent[0] >= 1.0:
            recent.popleft()
        if len(recent) >= self.telegram_per_second:
            return 1
        recent.append(request.at)
        return None
