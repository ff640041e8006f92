"""A fake Meta Graph API (WhatsApp Cloud API) on 127.0.0.1, answering the calls Switchboard
makes the way Meta documents them, and recording every request.

- `POST /<version>/<phone_number_id>/messages` sends a message;
- `GET /<version>/<media_id>` describes a media file and gives its download URL;
- `GET /media-download/<media_id>` is that URL: the bytes, for a bearer of the token only.
"""

import hashlib
import re
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.graph import FakeGraphServer, GraphCall, GraphError

ACCESS_TOKEN = "EAAG-fake-permanent-access-token-0123456789"
PHONE_NUMBER_ID = "106540352242922"

_VERSION = r"v\d+\.\d+"
_MESSAGES_PATH = re.compile(rf"/({_VERSION})/(\d+)/messages")
_MEDIA_PATH = re.compile(rf"/({_VERSION})/([A-Za-z0-9_.-]+)")
_DOWNLOAD_PATH = re.compile(r"/media-download/([A-Za-z0-9_.-]+)")
_MESSAGE_TYPES = {
    "text",
    "image",
    "document",
    "audio",
    "video",
    "sticker",
    "template",
    "interactive",
    "location",
    "contacts",
    "reaction",
}


REENGAGEMENT_REQUIRED = GraphError(
    400,
    131047,
    "(#131047) Re-engagement message",
    details=(
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number."
    ),
    error_subcode=2494010,
)
RATE_LIMITED = GraphError(
    429,
    130429,
    "(#130429) Rate limit hit",
    details="Cloud API message throughput has been reached.",
)
PAIR_RATE_LIMITED = GraphError(
    400,
    131056,
    "(#131056) (Business Account, Consumer Account) pair rate limit hit",
    details=(
        "Too many messages sent from the sender phone number to the same recipient phone "
        "number in a short period of time."
    ),
)
SPAM_RATE_LIMITED = GraphError(
    400, 80007, "(#80007) There have been too many calls to this WhatsApp Business account."
)
ACCESS_TOKEN_EXPIRED = GraphError(
    401,
    190,
    "Error validating access token: Session has expired on Sunday, 01-Nov-26 10:00:00 PDT.",
    error_subcode=463,
)
SERVER_ERROR = GraphError(
    500, 1, "An unknown error occurred", details="Please retry your request later."
)
INVALID_PARAMETER = GraphError(
    400,
    100,
    "(#100) Invalid parameter",
    details="Parameter value is not valid",
)
UNDELIVERABLE = GraphError(
    400,
    131026,
    "(#131026) Message Undeliverable",
    details="Message failed to send because the recipient's phone number is not on WhatsApp.",
)


def unknown_object(object_id: str) -> GraphError:
    return GraphError(
        400,
        100,
        f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        error_subcode=33,
        error_type="GraphMethodException",
    )


TEMPLATE_MISSING = GraphError(
    404,
    132001,
    "(#132001) Template name does not exist in the translation",
    details="The template does not exist in the language asked for",
)
TEMPLATE_PARAMETERS_MISMATCH = GraphError(
    400,
    132000,
    "(#132000) Number of parameters does not match the expected number of params",
    details="The buttons' parameters do not match the approved template",
)


@dataclass(frozen=True)
class ApprovedTemplate:
    """A message template as Meta approved it: its quick-reply buttons, or one URL button
    whose link ends with a variable."""

    name: str
    languages: tuple[str, ...]
    quick_replies: int = 0
    has_url_button: bool = False


INVALID_TOKEN = GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token")


@dataclass
class GraphRequest(GraphCall):
    @property
    def endpoint(self) -> str:
        if _MESSAGES_PATH.fullmatch(self.path):
            return "messages"
        if _DOWNLOAD_PATH.fullmatch(self.path):
            return "download"
        return "media"


@dataclass
class FakeMedia:
    content: bytes
    mime_type: str
    sha256: str


@dataclass
class FakeGraphApi(FakeGraphServer):
    """Start it, point a channel's `api_base_url` at `url`, then read `requests`.

    `fail_next(error, endpoint=...)` makes the next request(s) answer a Graph error;
    `add_media` puts a file where `fetch_media` can find it.
    """

    request_class = GraphRequest
    access_token: str = ACCESS_TOKEN
    media: dict[str, FakeMedia] = field(default_factory=dict)
    # Templates Meta approved for the number; empty: any template is taken.
    templates: list[ApprovedTemplate] = field(default_factory=list)

    def add_media(
        self, media_id: str, content: bytes, mime_type: str, *, sha256: str | None = None
    ) -> None:
        self.media[media_id] = FakeMedia(
            content, mime_type, sha256 or hashlib.sha256(content).hexdigest()
        )

    @property
    def sent_messages(self) -> list[dict[str, Any]]:
        """The JSON bodies POSTed to `/messages`."""
        return [r.json() for r in self.requests if r.endpoint == "messages" and r.method == "POST"]

    # Serving

    def _serve(self, handler: BaseHTTPRequestHandler, request: GraphRequest) -> None:
        method = request.method
        is_authorized = request.headers.get("authorization") == f"Bearer {self.access_token}"
        if method == "POST" and _MESSAGES_PATH.fullmatch(request.path):
            if not is_authorized:
                return self._answer_error(handler, INVALID_TOKEN)
            return self._send_message(handler, request)
        download = _DOWNLOAD_PATH.fullmatch(request.path)
        if method == "GET" and download:
            if not is_authorized:
                # The download host answers a bare 401 to a request without the token.
                return self._answer(handler, 401, b"Unauthorized", "text/plain")
            return self._download(handler, download.group(1))
        media = _MEDIA_PATH.fullmatch(request.path)
        if method == "GET" and media:
            if not is_authorized:
                return self._answer_error(handler, INVALID_TOKEN)
            return self._describe_media(handler, media.group(2))
        self._answer_error(handler, GraphError(400, 2500, "Unknown path components"))

    def _send_message(self, handler: BaseHTTPRequestHandler, request: GraphRequest) -> None:
        try:
            payload = request.json()
        except ValueError:
            return self._answer_error(handler, INVALID_PARAMETER)
        if not isinstance(payload, dict):
            return self._answer_error(handler, INVALID_PARAMETER)
        message_type = payload.get("type", "text")
        address = payload.get("to") or payload.get("recipient")
        if (
            payload.get("messaging_product") != "whatsapp"
            or not address
            or message_type not in _MESSAGE_TYPES
            or not isinstance(payload.get(message_type), dict)
        ):
            return self._answer_error(handler, INVALID_PARAMETER)
        if message_type == "template" and self.templates:
            refusal = self._template_refusal(payload["template"])
            if refusal is not None:
                return self._answer_error(handler, refusal)
        message_id = self._next_message_id("wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI{:06d}FAKE")
        contact: dict[str, str] = {"input": address}
        contact["wa_id" if payload.get("to") else "user_id"] = address
        self._answer_json(
            handler,
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [contact],
                "messages": [{"id": message_id}],
            },
        )

    def _template_refusal(self, sent: dict[str, Any]) -> GraphError | None:
        """Meta's answer to a template message that does not fit an approved template."""
        language = (sent.get("language") or {}).get("code")
        approved = next(
            (
                template
                for template in self.templates
                if template.name == sent.get("name") and language in template.languages
            ),
            None,
        )
        if approved is None:
            return TEMPLATE_MISSING
        buttons = [c for c in sent.get("components") or [] if c.get("type") == "button"]
        quick_replies = [
            button
            for button in buttons
            if button.get("sub_type") == "quick_reply"
            and [parameter.get("type") for parameter in button.get("parameters") or []]
            == ["payload"]
        ]
        urls = [
            button
            for button in buttons
            if button.get("sub_type") == "url"
            and [parameter.get("type") for parameter in button.get("parameters") or []] == ["text"]
        ]
        indexes = [button.get("index") for button in buttons]
        if (
            len(quick_replies) != approved.quick_replies
            or len(urls) != int(approved.has_url_button)
            or len(buttons) != len(quick_replies) + len(urls)
            or indexes != [str(index) for index in range(len(buttons))]
        ):
            return TEMPLATE_PARAMETERS_MISMATCH
        return None

    def _describe_media(self, handler: BaseHTTPRequestHandler, media_id: str) -> None:
        media = self.media.get(media_id)
        if media is None:
            return self._answer_error(handler, unknown_object(media_id))
        self._answer_json(
            handler,
            200,
            {
                "messaging_product": "whatsapp",
                "url": f"{self.root}/media-download/{media_id}",
                "mime_type": media.mime_type,
                "sha256": media.sha256,
                "file_size": len(media.content),
                "id": media_id,
            },
        )

    def _download(self, handler: BaseHTTPRequestHandler, media_id: str) -> None:
        media = self.media.get(media_id)
        if media is None:
            return self._answer(handler, 404, b"Not Found", "text/plain")
        self._answer(handler, 200, media.content, media.mime_type)
