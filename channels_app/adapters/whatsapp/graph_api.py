"""Calls to Meta's Graph API for one WhatsApp channel, and what its answers mean.

Answers to our own calls are read leniently: anything unexpected in them makes a delivery
failure with Meta's words, never a refused webhook.
"""

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import httpx

from channels_app.contracts import DeliveryFailed
from channels_app.http import http_client
from channels_app.text import storable_text

if TYPE_CHECKING:
    from channels_app.models import Channel

DEFAULT_API_BASE_URL = "https://graph.facebook.com/v26.0"

WINDOW_CLOSED_REASON = (
    "outside WhatsApp's 24-hour customer service window: the customer has not written in "
    "the last 24 hours; send an approved template"
)
ACCESS_TOKEN_INVALID_REASON = (
    "WhatsApp access token invalid or expired: create a new permanent (system user) token "
    "and update the channel's access_token"
)

# Graph API error codes (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
ACCESS_TOKEN_ERROR_CODE = 190
REENGAGEMENT_ERROR_CODE = 131047
PAIR_RATE_LIMIT_ERROR_CODE = 131056
RATE_LIMIT_ERROR_CODES = frozenset({4, 80007, 130429, PAIR_RATE_LIMIT_ERROR_CODE})
TEMPORARY_ERROR_CODES = frozenset({1, 2, 131000, 131016, 133004})
# Meta allows one message every six seconds to the same customer.
PAIR_RATE_LIMIT_SECONDS = 6.0


class GraphApi:
    """The channel's Graph API: its base URL, its bearer token, each call's failures
    classified, and the token kept out of every reason."""

    def __init__(self, channel: "Channel") -> None:
        self.channel = channel

    def api_base_url(self) -> str:
        return str(self.channel.config.get("api_base_url") or DEFAULT_API_BASE_URL).rstrip("/")

    def authorization(self) -> dict[str, str]:
        token = self.channel.secrets.get("access_token")
        if not token:
            raise DeliveryFailed("the channel has no access_token configured", is_retryable=False)
        return {"Authorization": f"Bearer {token}"}

    def may_receive_token(self, url: str) -> bool:
        # The bearer token goes only over https, or to the configured API host itself
        # (a local stand-in for the Graph API, say).
        target, base = urlsplit(url), urlsplit(self.api_base_url())
        if target.scheme == "https" and target.netloc:
            return True
        return (target.scheme, target.netloc) == (base.scheme, base.netloc)

    def post_message(self, payload: dict[str, Any]) -> str | None:
        """POST /<phone_number_id>/messages; returns the sent message's id."""
        number = quote(str(self.channel.config.get("phone_number_id", "")), safe="")
        url = f"{self.api_base_url()}/{number}/messages"
        headers = self.authorization()
        try:
            response = http_client().post(url, json=payload, headers=headers)
        except httpx.HTTPError as error:
            raise self.transport_failure(error, action="send") from error
        if response.status_code >= 300:
            raise self.graph_failure(response, action="send")
        return _sent_message_id(response)

    def get_json(self, url: str, *, action: str) -> dict[str, Any]:
        headers = self.authorization()
        try:
            response = http_client().get(url, headers=headers)
        except httpx.HTTPError as error:
            raise self.transport_failure(error, action=action) from error
        if response.status_code >= 300:
            raise self.graph_failure(response, action=action)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise DeliveryFailed(f"WhatsApp {action} answered no JSON object", is_retryable=True)
        return data

    def transport_failure(self, error: httpx.HTTPError, *, action: str) -> DeliveryFailed:
        reason = f"WhatsApp Cloud API unreachable ({action}): {type(error).__name__}: {error}"
        return DeliveryFailed(self._without_token(reason), is_retryable=True)

    def graph_failure(self, response: httpx.Response, *, action: str) -> DeliveryFailed:
        """Tell retryable Graph API errors (rate limits, outages) from final ones."""
        error = _graph_error(response)
        code = answer_integer(error.get("code"))
        message = answer_text(error.get("message"))
        error_data = error.get("error_data")
        details = answer_text(error_data.get("details")) if isinstance(error_data, dict) else ""
        status = response.status_code
        described = f"WhatsApp {action} failed: HTTP {status}"
        if code is not None:
            described += f", error {code}"
        explanation = " - ".join(part for part in (message, details) if part)
        if not explanation and not error:
            explanation = response.text[:300]
        if explanation:
            described += f": {explanation}"
        reason = self._without_token(described[:1000])

        if code == REENGAGEMENT_ERROR_CODE:
            return DeliveryFailed(WINDOW_CLOSED_REASON, is_retryable=False)
        if status == 401 or code == ACCESS_TOKEN_ERROR_CODE:
            return DeliveryFailed(f"{ACCESS_TOKEN_INVALID_REASON} ({reason})", is_retryable=False)
        if status == 429 or code in RATE_LIMIT_ERROR_CODES:
            retry_after = _retry_after(response)
            if code == PAIR_RATE_LIMIT_ERROR_CODE:
                retry_after = max(retry_after or 0.0, PAIR_RATE_LIMIT_SECONDS)
            return DeliveryFailed(reason, is_retryable=True, retry_after=retry_after)
        if status >= 500 or code in TEMPORARY_ERROR_CODES:
            return DeliveryFailed(reason, is_retryable=True, retry_after=_retry_after(response))
        return DeliveryFailed(reason, is_retryable=False)

    def _without_token(self, text: str) -> str:
        token = self.channel.secrets.get("access_token")
        return text.replace(token, "[access token]") if token else text


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


def _sent_message_id(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    messages = data.get("messages") if isinstance(data, dict) else None
    first = messages[0] if isinstance(messages, list) and messages else None
    message_id = first.get("id") if isinstance(first, dict) else None
    return message_id if isinstance(message_id, str) and message_id else None


def _graph_error(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None
