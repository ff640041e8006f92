"""A fake Messenger Platform Send API (Facebook pages and Instagram accounts) on 127.0.0.1,
answering the calls Switchboard makes the way Meta documents them, and recording every
request.

- `POST /<version>/me/messages` and `/<version>/<account id>/messages` send a message
  (JSON, or multipart with `filedata` for an upload);
- `POST /<version>/<account id>/subscribed_apps` subscribes webhook fields;
- `GET /cdn/<name>` serves a file a customer sent (no token needed, as Meta's CDN).
"""

import json
import re
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.graph import FakeGraphServer, GraphCall, GraphError

PAGE_ACCESS_TOKEN = "EAAJm-fake-page-access-token-9876543210"
PAGE_ID = "104650038930722"
INSTAGRAM_ACCESS_TOKEN = "IGAAR-fake-instagram-user-token-0246813579"
INSTAGRAM_ACCOUNT_ID = "17841405822304914"

_VERSION = r"v\d+\.\d+"
_MESSAGES_PATH = re.compile(rf"/{_VERSION}/(me|\d+)/messages")
_SUBSCRIBE_PATH = re.compile(rf"/{_VERSION}/(me|\d+)/subscribed_apps")
_CDN_PATH = re.compile(r"/cdn/([A-Za-z0-9_.-]+)")
_PROFILE_PATH = re.compile(rf"/{_VERSION}/(\d+)")
_MESSAGING_TYPES = {"RESPONSE", "UPDATE", "MESSAGE_TAG"}


def _error(status: int, code: int, message: str, **extra: Any) -> GraphError:
    return GraphError(status, code, message, product=None, **extra)


APP_RATE_LIMITED = _error(400, 4, "(#4) Application request limit reached")
CALLS_RATE_LIMITED = _error(400, 613, "(#613) Calls to this api have exceeded the rate limit.")
USER_RATE_LIMITED = _error(
    400,
    80006,
    "(#80006) There have been too many messages sent to this user. Please wait a while "
    "before sending more messages.",
)
OUTSIDE_WINDOW = _error(
    400,
    10,
    "(#10) This message is sent outside of allowed window.",
    error_subcode=2018278,
    error_type="OAuthException",
)
USER_UNAVAILABLE = _error(400, 551, "This person isn't available right now.", error_subcode=1545041)
NO_MATCHING_USER = _error(400, 100, "(#100) No matching user found", error_subcode=2018001)
PERMISSION_MISSING = _error(
    403,
    10,
    "(#10) Application does not have permission for this action",
    error_subcode=2018065,
)
ACCESS_TOKEN_EXPIRED = _error(
    400,
    190,
    "Error validating access token: Session has expired on Sunday, 01-Nov-26 10:00:00 PDT.",
    error_subcode=463,
)
SERVER_ERROR = _error(500, 2, "An unexpected error has occurred. Please retry your request later.")
INVALID_TOKEN = _error(401, 190, "Invalid OAuth access token - Cannot parse access token")
INVALID_PARAMETER = _error(400, 100, "(#100) Invalid parameter")
PROFILE_REFUSED = _error(
    400,
    100,
    "Unsupported get request. Object does not exist, cannot be loaded due to missing "
    "permissions, or does not support this operation.",
    error_subcode=33,
    error_type="GraphMethodException",
)


@dataclass
class SendApiRequest(GraphCall):
    @property
    def endpoint(self) -> str:
        if _MESSAGES_PATH.fullmatch(self.path):
            return "messages"
        if _SUBSCRIBE_PATH.fullmatch(self.path):
            return "subscribed_apps"
        if _CDN_PATH.fullmatch(self.path):
            return "cdn"
        if _PROFILE_PATH.fullmatch(self.path):
            return "profile"
        return "other"

    def message_fields(self) -> dict[str, Any]:
        """The sent message's fields, JSON or multipart (JSON-valued parts decoded)."""
        content_type = self.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            return self.json()
        return {name: _maybe_json(value) for name, value in _multipart_fields(self).items()}


@dataclass
class FakeSendApi(FakeGraphServer):
    """Start it, point a channel's `api_base_url` at `url`, then read `requests`.

    `fail_next(error, endpoint=...)` makes the next request(s) answer a Graph error;
    `add_file` puts a file on the fake CDN at `cdn_url(name)`."""

    request_class = SendApiRequest
    # A page's token and an Instagram account's are both taken.
    access_tokens: tuple[str, ...] = (PAGE_ACCESS_TOKEN, INSTAGRAM_ACCESS_TOKEN)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    profiles: dict[str, dict[str, str]] = field(default_factory=dict)

    def cdn_url(self, name: str) -> str:
        return f"{self.root}/cdn/{name}"

    def add_file(self, name: str, content: bytes, content_type: str) -> str:
        self.files[name] = (content, content_type)
        return self.cdn_url(name)

    @property
    def sent_messages(self) -> list[dict[str, Any]]:
        """The fields of every message POSTed and accepted or not."""
        return [r.message_fields() for r in self.requests_to("messages")]

    # Serving

    def _serve(self, handler: BaseHTTPRequestHandler, request: SendApiRequest) -> None:
        method = request.method
        cdn = _CDN_PATH.fullmatch(request.path)
        if method == "GET" and cdn:
            stored = self.files.get(cdn.group(1))
            if stored is None:
                return self._answer(handler, 404, b"Not Found", "text/plain")
            return self._answer(handler, 200, stored[0], stored[1])
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.access_tokens:
            return self._answer_error(handler, INVALID_TOKEN)
        if method == "POST" and request.endpoint == "messages":
            return self._send_message(handler, request)
        if method == "GET" and request.endpoint == "profile":
            return self._profile(handler, request)
        if method == "POST" and request.endpoint == "subscribed_apps":
            return self._answer_json(handler, 200, {"success": True})
        self._answer_error(handler, _error(400, 2500, "Unknown path components"))

    def _profile(self, handler: BaseHTTPRequestHandler, request: SendApiRequest) -> None:
        person = request.path.rsplit("/", 1)[-1]
        profile = self.profiles.get(person)
        if profile is None:
            return self._answer_error(handler, PROFILE_REFUSED)
        fields = request.query.get("fields", "").split(",")
        answer = {key: value for key, value in profile.items() if key in fields}
        self._answer_json(handler, 200, {**answer, "id": person})

    def _send_message(self, handler: BaseHTTPRequestHandler, request: SendApiRequest) -> None:
        try:
            fields = request.message_fields()
        except ValueError:
            return self._answer_error(handler, INVALID_PARAMETER)
        recipient = fields.get("recipient")
        message = fields.get("message")
        if (
            not isinstance(recipient, dict)
            or not recipient.get("id")
            or fields.get("messaging_type") not in _MESSAGING_TYPES
            or (fields.get("messaging_type") == "MESSAGE_TAG") != ("tag" in fields)
            or not isinstance(message, dict)
            or not (message.get("text") or message.get("attachment"))
        ):
            return self._answer_error(handler, INVALID_PARAMETER)
        message_id = self._next_message_id("m_FAKE{:06d}Xk9fQ2sUe8HkQ")
        self._answer_json(handler, 200, {"recipient_id": recipient["id"], "message_id": message_id})


def _maybe_json(value: str | bytes) -> Any:
    if isinstance(value, bytes):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _multipart_fields(request: GraphCall) -> dict[str, str | bytes]:
    """A multipart/form-data body's parts by name: text for fields, bytes for files."""
    content_type = request.headers.get("content-type", "")
    boundary = content_type.partition("boundary=")[2].strip('"')
    if not boundary:
        raise ValueError("not multipart")
    fields: dict[str, str | bytes] = {}
    for part in request.body.split(f"--{boundary}".encode()):
        head, _, content = part.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]+)"', head)
        if not name:
            continue
        content = content.removesuffix(b"\r\n")
        is_file = b"filename=" in head
        fields[name.group(1).decode()] = content if is_file else content.decode()
    return fields
