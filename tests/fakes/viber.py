"""A fake Viber bot REST API on 127.0.0.1, answering /pa/send_message and /pa/set_webhook
the way https://developers.viber.com/docs/api/rest-bot-api/ documents them (HTTP 200 with
a `status`, 0 for success), and recording every call."""

import itertools
import json
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.server import FakeMethodApi

AUTH_TOKEN = "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f"


@dataclass(frozen=True)
class ViberStatus:
    status: int
    message: str


# The statuses the REST bot API documents that matter to us.
INVALID_AUTH_TOKEN = ViberStatus(2, "invalidAuthToken")
BAD_DATA = ViberStatus(3, "badData")
RECEIVER_NOT_REGISTERED = ViberStatus(5, "receiverNotRegistered")
RECEIVER_NOT_SUBSCRIBED = ViberStatus(6, "receiverNotSubscribed")
WEBHOOK_NOT_SET = ViberStatus(10, "webhookNotSet")
TOO_MANY_REQUESTS = ViberStatus(12, "tooManyRequests")


@dataclass
class ViberCall:
    name: str
    headers: dict[str, str]
    payload: dict[str, Any]


@dataclass
class FakeViber(FakeMethodApi[ViberStatus, ViberCall]):
    """Start it, point a channel's `api_base_url` at `url`, then read `calls`.

    `fail_next(error, method=...)` makes the next call(s) to that endpoint (`send_message`,
    `set_webhook`) answer with a Viber status."""

    http_methods = ("POST",)
    method_field = "name"

    auth_token: str = AUTH_TOKEN
    _tokens: Any = field(default_factory=lambda: itertools.count(5098034272017990001))

    def _handle(self, request: BaseHTTPRequestHandler, http_method: str) -> None:
        name = request.path.removeprefix("/pa/")
        body = self._read_body(request)
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            payload = None
        headers = {key.lower(): value for key, value in request.headers.items()}
        self._record(ViberCall(name, headers, payload if isinstance(payload, dict) else {}))
        if headers.get("x-viber-auth-token") != self.auth_token:
            self._status(request, INVALID_AUTH_TOKEN)
            return
        if not isinstance(payload, dict):
            self._status(request, BAD_DATA)
            return
        error = self._take_error(name)
        if error is not None:
            self._status(request, error)
            return
        if name == "send_message":
            self._send_message(request, payload)
        elif name == "set_webhook":
            event_types = payload.get("event_types") or ["delivered", "seen", "failed"]
            self._answer_json(
                request,
                200,
                {"status": 0, "status_message": "ok", "event_types": event_types},
            )
        else:
            self._answer_json(request, 404, {"status": 1, "status_message": "invalidUrl"})

    def _send_message(self, request: BaseHTTPRequestHandler, payload: dict[str, Any]) -> None:
        kind = payload.get("type")
        sender = payload.get("sender")
        if (
            not payload.get("receiver")
            or not isinstance(sender, dict)
            or not sender.get("name")
            or kind not in ("text", "picture", "file")
            or (kind == "text" and not payload.get("text"))
            or (kind in ("picture", "file") and not payload.get("media"))
            or (kind == "file" and (not payload.get("file_name") or not payload.get("size")))
        ):
            self._status(request, BAD_DATA)
            return
        with self._lock:
            token = next(self._tokens)
        self._answer_json(
            request,
            200,
            {
                "status": 0,
                "status_message": "ok",
                "message_token": token,
                "chat_hostname": "SN-CHAT-01_",
            },
        )

    def _status(self, request: BaseHTTPRequestHandler, error: ViberStatus) -> None:
        self._answer_json(request, 200, {"status": error.status, "status_message": error.message})
