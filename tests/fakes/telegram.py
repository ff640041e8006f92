"""A fake Telegram Bot API on 127.0.0.1, answering the methods Switchboard calls the way
https://core.telegram.org/bots/api documents them, and recording every request."""

import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.server import FakeMethodApi

BOT_ID = 7_000_000_001
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Acme Support", "username": "acme_help_bot"}


@dataclass(frozen=True)
class FakeError:
    status: int
    body: dict[str, Any]


TOO_MANY_REQUESTS = FakeError(
    429,
    {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    },
)
INTERNAL_SERVER_ERROR = FakeError(
    500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
)
BOT_BLOCKED = FakeError(
    403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
)
NOT_FOUND = FakeError(404, {"ok": False, "error_code": 404, "description": "Not Found"})
UNAUTHORIZED = FakeError(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
CHAT_NOT_FOUND = FakeError(
    400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
)


def too_many_requests(retry_after: int) -> FakeError:
    return FakeError(
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {retry_after}",
            "parameters": {"retry_after": retry_after},
        },
    )


def bad_request(description: str) -> FakeError:
    return FakeError(400, {"ok": False, "error_code": 400, "description": description})


@dataclass
class BotApiCall:
    http_method: str
    path: str
    method: str
    params: dict[str, Any]


@dataclass
class FakeTelegram(FakeMethodApi[FakeError, BotApiCall]):
    """Start it, point a channel's `api_base_url` at `url`, then read `calls`.

    `fail_next(error, method=...)` makes the next call(s) answer an error; `add_file` puts a
    file behind getFile and the /file/bot<token>/<path> download.
    """

    token: str = "123:ABC"
    webhook: dict[str, Any] = field(default_factory=dict)
    _files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    _message_ids: Any = field(default_factory=lambda: itertools.count(1001))
    # A slow platform: `hold_sends(after=n)` keeps the sendMessage calls after the first n
    # unanswered (recorded, `held` set) until `release` is set, or the fake stops.
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    _hold_after: int | None = None
    # Take the sendMessage calls after the first n, then drop the connection unanswered (a
    # network failure after Telegram got them).
    lose_send_answers_after: int | None = None

    def hold_sends(self, *, after: int = 0) -> None:
        self.held.clear()
        self.release.clear()
        self._hold_after = after

    def stop(self) -> None:
        self.release.set()
        super().stop()

    def add_file(self, file_id: str, content: bytes, *, file_path: str) -> None:
        with self._lock:
            self._files[file_id] = (file_path, content)

    # Serving

    def _handle(self, request: BaseHTTPRequestHandler, http_method: str) -> None:
        url = urlsplit(request.path)
        body = self._read_body(request)
        params: dict[str, Any] = dict(parse_qsl(url.query))
        content_type = request.headers.get("Content-Type", "")
        if body and content_type.startswith("application/json"):
            params.update(json.loads(body))
        elif body and content_type.startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(body.decode()))

        file_prefix = f"/file/bot{self.token}/"
        if url.path.startswith(file_prefix) and http_method == "GET":
            file_path = url.path.removeprefix(file_prefix)
            self._record(BotApiCall(http_method, url.path, "file", {"file_path": file_path}))
            error = self._take_error("file")
            if error is not None:
                self._answer_bot_api(request, error.status, error.body)
                return
            content = next((data for path, data in self._files.values() if path == file_path), None)
            if content is None:
                self._answer_bot_api(request, NOT_FOUND.status, NOT_FOUND.body)
                return
            self._answer(request, 200, content, "application/octet-stream")
            return

        prefix, _, method = url.path.rpartition("/")
        self._record(BotApiCall(http_method, url.path, method, params))
        is_held = method == "sendMessage" and self._hold_after is not None
        if is_held and len(self.calls_to("sendMessage")) > (self._hold_after or 0):
            self.held.set()
            self.release.wait(60)
        is_lost = method == "sendMessage" and self.lose_send_answers_after is not None
        if is_lost and len(self.calls_to("sendMessage")) > (self.lose_send_answers_after or 0):
            request.close_connection = True
            request.connection.shutdown(socket.SHUT_RDWR)
            return
        if prefix != f"/bot{self.token}":
            self._answer_bot_api(request, UNAUTHORIZED.status, UNAUTHORIZED.body)
            return
        error = self._take_error(method)
        if error is not None:
            self._answer_bot_api(request, error.status, error.body)
            return
        handler = getattr(self, f"_method_{method}", None)
        if handler is None:
            self._answer_bot_api(request, NOT_FOUND.status, NOT_FOUND.body)
            return
        outcome = handler(params)
        if isinstance(outcome, FakeError):
            self._answer_bot_api(request, outcome.status, outcome.body)
        else:
            self._answer_bot_api(request, 200, {"ok": True, **outcome})

    def _answer_bot_api(
        self, request: BaseHTTPRequestHandler, status: int, body: dict[str, Any]
    ) -> None:
        headers = {}
        if status == 429:
            retry_after = body.get("parameters", {}).get("retry_after")
            if retry_after is not None:
                headers["Retry-After"] = str(retry_after)
        self._answer_json(request, status, body, headers)

    # The Bot API methods

    def _sent_message(self, chat_id: Any, **content: Any) -> dict[str, Any]:
        with self._lock:
            message_id = next(self._message_ids)
        chat = int(chat_id) if str(chat_id).lstrip("-").isdigit() else chat_id
        return {
            "result": {
                "message_id": message_id,
                "from": BOT_USER,
                "chat": {"id": chat, "first_name": "Maria", "type": "private"},
                "date": int(time.time()),
                **content,
            }
        }

    def _method_sendMessage(self, params: dict[str, Any]) -> dict[str, Any] | FakeError:
        if not params.get("chat_id"):
            return bad_request("Bad Request: chat_id is empty")
        text = params.get("text") or ""
        if not text.strip():
            return bad_request("Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return bad_request("Bad Request: message is too long")
        return self._sent_message(params["chat_id"], text=text)

    def _media_message(
        self, params: dict[str, Any], field_name: str, content: Any
    ) -> dict[str, Any] | FakeError:
        if not params.get("chat_id"):
            return bad_request("Bad Request: chat_id is empty")
        if not params.get(field_name):
            return bad_request(f"Bad Request: there is no {field_name} in the request")
        caption = params.get("caption") or ""
        if len(caption.encode("utf-16-le")) // 2 > 1024:
            return bad_request("Bad Request: message caption is too long")
        extra = {"caption": caption} if caption else {}
        return self._sent_message(params["chat_id"], **{field_name: content}, **extra)

    def _method_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any] | FakeError:
        sizes = [
            {
                "file_id": "AgACAgQAAxkDAAIB-small",
                "file_unique_id": "AQADs",
                "width": 90,
                "height": 60,
                "file_size": 1200,
            },
            {
                "file_id": "AgACAgQAAxkDAAIB-large",
                "file_unique_id": "AQADl",
                "width": 1280,
                "height": 853,
                "file_size": 98_304,
            },
        ]
        return self._media_message(params, "photo", sizes)

    def _method_sendDocument(self, params: dict[str, Any]) -> dict[str, Any] | FakeError:
        document = {
            "file_id": "BQACAgQAAxkDAAIB-doc",
            "file_unique_id": "AgADdoc",
            "file_name": str(params.get("document", "")).rsplit("/", 1)[-1] or "file",
            "mime_type": "application/pdf",
            "file_size": 52_000,
        }
        return self._media_message(params, "document", document)

    def _method_getFile(self, params: dict[str, Any]) -> dict[str, Any] | FakeError:
        file_id = params.get("file_id")
        with self._lock:
            stored = self._files.get(str(file_id))
        if stored is None:
            return bad_request("Bad Request: invalid file_id")
        file_path, content = stored
        return {
            "result": {
                "file_id": file_id,
                "file_unique_id": f"unique-{file_id}"[:32],
                "file_size": len(content),
                "file_path": file_path,
            }
        }

    def _method_answerCallbackQuery(self, params: dict[str, Any]) -> dict[str, Any] | FakeError:
        if not params.get("callback_query_id"):
            return bad_request(
                "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        return {"result": True}

    def _method_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any] | FakeError:
        if not params.get("chat_id") or not params.get("message_id"):
            return bad_request("Bad Request: message to edit not found")
        result = self._sent_message(params["chat_id"], text="edited")["result"]
        result["message_id"] = params["message_id"]
        if params.get("reply_markup"):
            result["reply_markup"] = params["reply_markup"]
        return {"result": result}

    def _method_editMessageText(self, params: dict[str, Any]) -> dict[str, Any] | FakeError:
        if not params.get("chat_id") or not params.get("message_id") or not params.get("text"):
            return bad_request("Bad Request: message to edit not found")
        result = self._sent_message(params["chat_id"], text=params["text"])["result"]
        result["message_id"] = params["message_id"]
        return {"result": result}

    def _method_setWebhook(self, params: dict[str, Any]) -> dict[str, Any] | FakeError:
        url = str(params.get("url") or "")
        if url and not url.startswith("https://"):
            return bad_request(
                "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        secret = str(params.get("secret_token") or "")
        if secret and not all(c.isascii() and (c.isalnum() or c in "_-") for c in secret):
            return bad_request("Bad Request: secret token contains unallowed characters")
        with self._lock:
            self.webhook = dict(params)
        if not url:
            return {"result": True, "description": "Webhook was deleted"}
        return {"result": True, "description": "Webhook was set"}
