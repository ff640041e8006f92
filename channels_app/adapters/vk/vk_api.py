"""Calls to the VK API for one community, and what their answers mean.

Every method is a form POST to `<api_base_url>/method/<name>` with the community's token
and the API version pinned here. VK answers HTTP 200 either way: `{"response": ...}` or
`{"error": {"error_code", "error_msg"}}`, and the error code says whether to try again.
"""

from typing import TYPE_CHECKING, Any

import httpx

from channels_app.adapters.base import required_secret
from channels_app.contracts import DeliveryFailed
from channels_app.failure_reasons import FailureCode, FailureReason
from channels_app.http import http_client
from channels_app.text import storable_line

if TYPE_CHECKING:
    from channels_app.models import Channel

KIND = "vk"
DEFAULT_API_BASE_URL = "https://api.vk.com"
# The version every call and the Callback API server use: payload shapes follow it.
API_VERSION = "5.199"

# https://dev.vk.com/en/reference/errors
AUTHORIZATION_FAILED = 5
TOO_MANY_REQUESTS = 6
PERMISSION_DENIED = 7
FLOOD_CONTROL = 9
INTERNAL_ERROR = 10
MESSAGES_NOT_ALLOWED = 901
PRIVACY_SETTINGS = 902
RETRYABLE_ERROR_CODES = frozenset({TOO_MANY_REQUESTS, FLOOD_CONTROL, INTERNAL_ERROR})
# VK allows a community token 20 calls a second; wait about that long before the next try.
RATE_LIMIT_RETRY_SECONDS = 1.0

# The customer did not allow the community to message them (901: they can be written to
# once they write again), their privacy settings forbid it (902), or VK denied it (7).
RECIPIENT_UNREACHABLE_CODES = frozenset({MESSAGES_NOT_ALLOWED, PRIVACY_SETTINGS, PERMISSION_DENIED})


class VkApi:
    """One community's VK API: its base URL and token, each call's failures classified,
    and the token kept out of every reason."""

    def __init__(self, channel: "Channel") -> None:
        self.channel = channel

    @property
    def api_base_url(self) -> str:
        return str(self.channel.config.get("api_base_url") or DEFAULT_API_BASE_URL).rstrip("/")

    @property
    def access_token(self) -> str:
        return required_secret(self.channel, "access_token")

    def call(self, method: str, params: dict[str, Any], *, timeout: float | None = None) -> Any:
        """One API method; returns its `response` or raises a classified DeliveryFailed."""
        form = {key: _form_value(value) for key, value in params.items() if value is not None}
        form.update(access_token=self.access_token, v=API_VERSION)
        url = f"{self.api_base_url}/method/{method}"
        try:
            if timeout is None:
                response = http_client().post(url, data=form)
            else:
                response = http_client().post(url, data=form, timeout=timeout)
        except httpx.HTTPError as error:
            raise self.transport_failure(error, action=method) from error
        except httpx.InvalidURL as error:
            raise DeliveryFailed(
                FailureReason.of(FailureCode.SETTING_INVALID, setting="api_base_url"),
                is_retryable=False,
            ) from error
        answer = answer_object(response)
        if response.status_code >= 500 or answer is None:
            raise DeliveryFailed(
                FailureReason.of(
                    FailureCode.PLATFORM_REFUSED, platform="VK", status=response.status_code
                ),
                is_retryable=True,
            )
        if "error" in answer:
            raise self.error_failure(answer["error"], action=method)
        if "response" not in answer:
            raise DeliveryFailed(
                FailureReason.of(FailureCode.UNREADABLE_ANSWER, platform="VK"), is_retryable=True
            )
        return answer["response"]

    def error_failure(self, error: Any, *, action: str) -> DeliveryFailed:
        """VK's `{"error_code", "error_msg"}` as a retryable or final failure."""
        error = error if isinstance(error, dict) else {}
        code = error.get("error_code")
        code = code if isinstance(code, int) and not isinstance(code, bool) else None
        message = error.get("error_msg")
        message = (
            self._without_token(storable_line(message)[:300]) if isinstance(message, str) else ""
        )
        detail = f"error {code}" + (f": {message}" if message else "")
        if code in RETRYABLE_ERROR_CODES:
            retry_after = RATE_LIMIT_RETRY_SECONDS if code != INTERNAL_ERROR else None
            kind = (
                FailureCode.PLATFORM_REFUSED if code == INTERNAL_ERROR else FailureCode.RATE_LIMITED
            )
            return DeliveryFailed(
                FailureReason.of(kind, platform="VK", detail=detail),
                is_retryable=True,
                retry_after=retry_after,
            )
        if code in RECIPIENT_UNREACHABLE_CODES:
            return DeliveryFailed(
                FailureReason.of(FailureCode.RECIPIENT_UNREACHABLE, platform="VK", detail=detail),
                is_retryable=False,
                is_recipient_unreachable=True,
            )
        if code == AUTHORIZATION_FAILED:
            return DeliveryFailed(
                FailureReason.of(
                    FailureCode.CREDENTIAL_REJECTED,
                    platform="VK",
                    setting="access_token",
                    detail=detail,
                ),
                is_retryable=False,
                is_credential_rejected=True,
            )
        return DeliveryFailed(
            FailureReason.of(FailureCode.PLATFORM_REFUSED, platform="VK", detail=detail),
            is_retryable=False,
        )

    def transport_failure(self, error: httpx.HTTPError, *, action: str) -> DeliveryFailed:
        detail = self._without_token(f"{type(error).__name__}: {error}")[:500]
        return DeliveryFailed(
            FailureReason.of(FailureCode.PLATFORM_UNREACHABLE, platform="VK", detail=detail),
            is_retryable=True,
        )

    def _without_token(self, text: str) -> str:
        token = self.channel.secrets.get("access_token")
        return text.replace(token, "[access token]") if token else text


def answer_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)
