"""Calls to Meta's Graph API for one WhatsApp channel, and what its answers mean.

Answers to our own calls are read leniently: anything unexpected in them makes a delivery
failure with Meta's words, never a refused webhook.
"""

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import httpx

from channels_app.adapters.base import required_secret
from channels_app.adapters.meta.graph import (
    DEFAULT_GRAPH_BASE_URL,
    graph_error_read,
    transport_detail,
    without_secret,
)
from channels_app.contracts import DeliveryFailed
from channels_app.failure_reasons import FailureCode, FailureReason
from channels_app.http import http_client

if TYPE_CHECKING:
    from channels_app.models import Channel

DEFAULT_API_BASE_URL = DEFAULT_GRAPH_BASE_URL

# Outside the 24-hour customer service window only an approved template may go.
WINDOW_CLOSED = FailureReason.of(
    FailureCode.WINDOW_CLOSED, platform="WhatsApp", hours=24, template=True
)

# Graph API error codes (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
ACCESS_TOKEN_ERROR_CODE = 190
REENGAGEMENT_ERROR_CODE = 131047
PAIR_RATE_LIMIT_ERROR_CODE = 131056
RATE_LIMIT_ERROR_CODES = frozenset({4, 80007, 130429, PAIR_RATE_LIMIT_ERROR_CODE})
TEMPORARY_ERROR_CODES = frozenset({1, 2, 131000, 131016, 133004})
# Meta allows one message every six seconds to the same customer.
PAIR_RATE_LIMIT_SECONDS = 6.0
# Where WhatsApp's media URLs point (lookaside.fbsbx.com, Meta's CDN).
META_MEDIA_DOMAINS = ("fbsbx.com", "fbcdn.net", "facebook.com", "whatsapp.net")


class GraphApi:
    """The channel's Graph API: its base URL, its bearer token, each call's failures
    classified, and the token kept out of every reason."""

    def __init__(self, channel: "Channel") -> None:
        self.channel = channel

    def api_base_url(self) -> str:
        return str(self.channel.config.get("api_base_url") or DEFAULT_API_BASE_URL).rstrip("/")

    def authorization(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {required_secret(self.channel, 'access_token')}"}

    def may_receive_token(self, url: str) -> bool:
        """Only Meta's own media hosts over https, or the configured API's own origin (a
        stand-in for the Graph API), are sent the bearer token: a media URL comes from an
        answer, and a token sent anywhere else is a token given away."""
        target = urlsplit(url)
        host = (target.hostname or "").lower()
        if target.scheme == "https" and any(
            host == domain or host.endswith(f".{domain}") for domain in META_MEDIA_DOMAINS
        ):
            return True
        base = urlsplit(self.api_base_url())
        return bool(target.netloc) and (target.scheme, target.netloc) == (
            base.scheme,
            base.netloc,
        )

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
            raise DeliveryFailed(
                FailureReason.of(FailureCode.UNREADABLE_ANSWER, platform="WhatsApp"),
                is_retryable=True,
            )
        return data

    def transport_failure(self, error: httpx.HTTPError, *, action: str) -> DeliveryFailed:
        detail = self._without_token(transport_detail(action=action, error=error))
        return DeliveryFailed(
            FailureReason.of(
                FailureCode.PLATFORM_UNREACHABLE, platform="WhatsApp Cloud API", detail=detail
            ),
            is_retryable=True,
        )

    def graph_failure(self, response: httpx.Response, *, action: str) -> DeliveryFailed:
        """Tell retryable Graph API errors (rate limits, outages) from final ones."""
        error = graph_error_read(response)
        code, status = error.code, error.http_status
        detail = self._without_token(error.described(platform="WhatsApp", action=action))

        if code == REENGAGEMENT_ERROR_CODE:
            return DeliveryFailed(WINDOW_CLOSED, is_retryable=False)
        if status == 401 or code == ACCESS_TOKEN_ERROR_CODE:
            # A permanent (system user) token is what the channel needs.
            rejected = FailureReason.of(
                FailureCode.CREDENTIAL_REJECTED,
                platform="WhatsApp",
                setting="access_token",
                detail=detail,
            )
            return DeliveryFailed(rejected, is_retryable=False)
        if status == 429 or code in RATE_LIMIT_ERROR_CODES:
            retry_after = error.retry_after
            if code == PAIR_RATE_LIMIT_ERROR_CODE:
                retry_after = max(retry_after or 0.0, PAIR_RATE_LIMIT_SECONDS)
            limited = FailureReason.of(FailureCode.RATE_LIMITED, platform="WhatsApp", detail=detail)
            return DeliveryFailed(limited, is_retryable=True, retry_after=retry_after)
        refused = FailureReason.of(
            FailureCode.PLATFORM_REFUSED, platform="WhatsApp", status=status, detail=detail
        )
        if status >= 500 or code in TEMPORARY_ERROR_CODES:
            return DeliveryFailed(refused, is_retryable=True, retry_after=error.retry_after)
        return DeliveryFailed(refused, is_retryable=False)

    def _without_token(self, text: str) -> str:
        return without_secret(text, self.channel.secrets.get("access_token"), "[access token]")


def _sent_message_id(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    messages = data.get("messages") if isinstance(data, dict) else None
    first = messages[0] if isinstance(messages, list) and messages else None
    message_id = first.get("id") if isinstance(first, dict) else None
    return message_id if isinstance(message_id, str) and message_id else None
