"""A fake VK API on 127.0.0.1, answering the methods Switchboard calls the way
https://dev.vk.com/en/reference documents them (form POSTs to /method/<name>, HTTP 200
with `response` or `error`), and recording every call.

Like VK, it keeps each community's random_ids and answers a repeated one with the message
it already sent, sending nothing new: `sent` holds the messages a customer would see.
"""

import itertools
import json
import socket
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.server import FakeMethodApi

ACCESS_TOKEN = "vk1.a.community-token-4f9a"


@dataclass(frozen=True)
class VkError:
    code: int
    message: str

    def body(self) -> dict[str, Any]:
        return {"error": {"error_code": self.code, "error_msg": self.message, "request_params": []}}


# The errors https://dev.vk.com/en/reference/errors lists for the calls we make.
AUTHORIZATION_FAILED = VkError(5, "User authorization failed: invalid access_token (4).")
TOO_MANY_REQUESTS = VkError(6, "Too many requests per second")
PERMISSION_DENIED = VkError(7, "Permission to perform this action is denied")
FLOOD_CONTROL = VkError(9, "Flood control")
INTERNAL_ERROR = VkError(10, "Internal server error")
MESSAGES_NOT_ALLOWED = VkError(901, "Can't send messages for users without permission")
PRIVACY_SETTINGS = VkError(902, "Can't send messages to this user due to their privacy settings")


# What users.get gives of a user whatever `fields` asks for.
USER_BASE_FIELDS = frozenset(
    {"id", "first_name", "last_name", "deactivated", "is_closed", "can_access_closed"}
)


@dataclass
class VkCall:
    method: str
    params: dict[str, str]


@dataclass
class FakeVk(FakeMethodApi[VkError, VkCall]):
    """Start it, point a channel's `api_base_url` at `url`, then read `calls` and `sent`.

    `fail_next(error, method=...)` makes the next call(s) answer a VK error;
    `lose_next_answer(method)` does the call and then drops the connection unanswered, as
    a network failure after VK got the request would.
    """

    access_token: str = ACCESS_TOKEN
    confirmation_code: str = "a1b2c3d4"
    sent: list[dict[str, str]] = field(default_factory=list)
    callback_servers: list[dict[str, Any]] = field(default_factory=list)
    callback_settings: dict[str, str] = field(default_factory=dict)
    uploads: list[tuple[str, str]] = field(default_factory=list)
    # What the upload server answers instead of the file's token (VK's upload servers
    # answer `{"error": ...}` with HTTP 200 for a file they refuse), or an HTTP status.
    upload_refusal: str = ""
    upload_status: int = 200
    # What users.get answers, by user id.
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    _sent_by_random_id: dict[str, int] = field(default_factory=dict)
    _lost_answers: list[str] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(5001))

    def lose_next_answer(self, method: str) -> None:
        with self._lock:
            self._lost_answers.append(method)

    # Serving

    def _handle(self, request: BaseHTTPRequestHandler, http_method: str) -> None:
        url = urlsplit(request.path)
        body = self._read_body(request)
        if url.path.startswith("/upload/"):
            self._upload(request, url.path.removeprefix("/upload/"), body)
            return
        params = dict(parse_qsl(url.query))
        params.update(parse_qsl(body.decode()))
        method = url.path.removeprefix("/method/")
        self._record(VkCall(method, params))
        if params.get("access_token") != self.access_token:
            self._answer_json(request, 200, AUTHORIZATION_FAILED.body())
            return
        if not params.get("v"):
            self._answer_json(request, 200, VkError(8, "Invalid request: v is required").body())
            return
        error = self._take_error(method)
        if error is not None:
            self._answer_json(request, 200, error.body())
            return
        handler = getattr(self, "_method_" + method.replace(".", "_"), None)
        if handler is None:
            self._answer_json(request, 200, VkError(3, "Unknown method passed").body())
            return
        outcome = handler(params)
        with self._lock:
            lose = method in self._lost_answers
            if lose:
                self._lost_answers.remove(method)
        if lose:
            # VK did the work; the answer never arrives.
            request.close_connection = True
            request.connection.shutdown(socket.SHUT_RDWR)
            return
        if isinstance(outcome, VkError):
            self._answer_json(request, 200, outcome.body())
        else:
            self._answer_json(request, 200, {"response": outcome})

    def _upload(self, request: BaseHTTPRequestHandler, kind: str, body: bytes) -> None:
        content_type = request.headers.get("Content-Type", "")
        with self._lock:
            self.uploads.append((kind, content_type))
        if self.upload_status != 200:
            self._answer_json(request, self.upload_status, {})
            return
        if not content_type.startswith("multipart/form-data") or not body:
            self._answer_json(request, 200, {"error": "no file"})
            return
        if self.upload_refusal:
            self._answer_json(request, 200, {"error": self.upload_refusal})
            return
        if kind == "photo":
            answer = {"server": 612, "photo": json.dumps([{"photo": "abc"}]), "hash": "h4sh"}
        else:
            answer = {"file": "doc-file-token"}
        self._answer_json(request, 200, answer)

    # The methods

    def _method_messages_send(self, params: dict[str, str]) -> Any:
        if not params.get("random_id"):
            return VkError(100, "One of the parameters specified was missing or invalid: random_id")
        if not params.get("message") and not params.get("attachment"):
            return VkError(100, "One of the parameters specified was missing or invalid: message")
        with self._lock:
            known = self._sent_by_random_id.get(params["random_id"])
            if known is not None:
                return known
            message_id = next(self._ids)
            self._sent_by_random_id[params["random_id"]] = message_id
            self.sent.append(params)
        return message_id

    def _method_messages_sendMessageEventAnswer(self, params: dict[str, str]) -> Any:
        return 1

    def _method_users_get(self, params: dict[str, str]) -> Any:
        with self._lock:
            users = dict(self.users)
        # Like VK, the fields beyond id and names only when asked for.
        asked = set(params.get("fields", "").split(","))
        return [
            {
                key: value
                for key, value in users[user_id].items()
                if key in USER_BASE_FIELDS or key in asked
            }
            for user_id in params.get("user_ids", "").split(",")
            if user_id in users
        ]

    def _method_photos_getMessagesUploadServer(self, params: dict[str, str]) -> Any:
        return {"upload_url": f"{self.url}/upload/photo", "album_id": -64, "group_id": 1}

    def _method_photos_saveMessagesPhoto(self, params: dict[str, str]) -> Any:
        if not params.get("photo") or not params.get("hash"):
            return VkError(100, "One of the parameters specified was missing or invalid: photo")
        return [{"id": 457239017, "owner_id": -1, "access_key": "ak1", "album_id": -64}]

    def _method_docs_getMessagesUploadServer(self, params: dict[str, str]) -> Any:
        return {"upload_url": f"{self.url}/upload/doc"}

    def _method_docs_save(self, params: dict[str, str]) -> Any:
        if not params.get("file"):
            return VkError(100, "One of the parameters specified was missing or invalid: file")
        return {"type": "doc", "doc": {"id": 6612, "owner_id": 42, "title": params.get("title")}}

    def _method_groups_getCallbackConfirmationCode(self, params: dict[str, str]) -> Any:
        return {"code": self.confirmation_code}

    def _method_groups_getCallbackServers(self, params: dict[str, str]) -> Any:
        with self._lock:
            return {"count": len(self.callback_servers), "items": list(self.callback_servers)}

    def _method_groups_addCallbackServer(self, params: dict[str, str]) -> Any:
        with self._lock:
            server_id = len(self.callback_servers) + 1
            self.callback_servers.append({"id": server_id, **params})
        return {"server_id": server_id}

    def _method_groups_editCallbackServer(self, params: dict[str, str]) -> Any:
        return 1

    def _method_groups_setCallbackSettings(self, params: dict[str, str]) -> Any:
        with self._lock:
            self.callback_settings = dict(params)
        return 1
