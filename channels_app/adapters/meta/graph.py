"""Reading the Graph API's answers to our own calls: leniently, since anything unexpected
in them makes a delivery failure with Meta's words, never a refused webhook."""

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from channels_app.text import storable_text

GRAPH_API_VERSION = "v26.0"
FACEBOOK_GRAPH_HOST = "https://graph.facebook.com"
INSTAGRAM_GRAPH_HOST = "https://graph.instagram.com"
DEFAULT_GRAPH_BASE_URL = f"{FACEBOOK_GRAPH_HOST}/{GRAPH_API_VERSION}"
_VERSION_SEGMENT = re.compile(r"v\d+\.\d+")


@dataclass(frozen=True)
class GraphError:
    """What a Graph API error answer says: `{"error": {"code", "error_subcode", "message",
    "error_data": {"details"}}}` and a Retry-After header, each part where given."""

    http_status: int
    code: int | None
    subcode: int | None
    message: str
    details: str
    retry_after: float | None
    raw_text: str

    def described(self, *, platform: str, action: str) -> str:
        """`<platform> <action> failed: HTTP <status>, error <code>: <message - details>`."""
        text = f"{platform} {action} failed: HTTP {self.http_status}"
        if self.code is not None:
            text += f", error {self.code}"
        explanation = " - ".join(part for part in (self.message, self.details) if part)
        if not explanation and self.code is None:
            explanation = self.raw_text[:300]
        if explanation:
            text += f": {explanation}"
        return text[:1000]


def versioned_base_url(api_base_url: str) -> str:
    """`<api_base_url>/<version>`: the URL as given when it ends in a Graph API version
    already (`…/v26.0`), else with GRAPH_API_VERSION added, so never a version twice."""
    url = api_base_url.rstrip("/")
    if _VERSION_SEGMENT.fullmatch(url.rsplit("/", 1)[-1]):
        return url
    return f"{url}/{GRAPH_API_VERSION}"


def graph_error_read(response: httpx.Response) -> GraphError:
    try:
        data = response.json()
    except ValueError:
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    error = error if isinstance(error, dict) else {}
    error_data = error.get("error_data")
    return GraphError(
        http_status=response.status_code,
        code=answer_integer(error.get("code")),
        subcode=answer_integer(error.get("error_subcode")),
        message=answer_text(error.get("message")),
        details=answer_text(error_data.get("details")) if isinstance(error_data, dict) else "",
        retry_after=retry_after_seconds(response),
        raw_text="" if error else response.text,
    )


def answer_json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def answer_integer(value: Any) -> int | None:
    """An integer from a Graph API answer, which gives some as digit strings."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value)
    return None


def answer_text(value: Any) -> str:
    return storable_text(value).strip() if isinstance(value, str) else ""


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def transport_detail(*, action: str, error: httpx.HTTPError) -> str:
    return f"{action}: {type(error).__name__}: {error}"


def is_token_safe_url(url: str, *, api_base_url: str) -> bool:
    """Whether a URL may be sent a token or fetched by us: https, or the configured API
    host itself (a local stand-in for the Graph API, say)."""
    target, base = urlsplit(url), urlsplit(api_base_url)
    if target.scheme == "https" and target.netloc:
        return True
    return (target.scheme, target.netloc) == (base.scheme, base.netloc)


def without_secret(text: str, secret: str | None, placeholder: str) -> str:
    return text.replace(secret, placeholder) if secret else text
