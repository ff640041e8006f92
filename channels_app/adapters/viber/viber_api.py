"""Calls to the Viber bot REST API for one channel, and what their answers mean.

Every call is a JSON POST to `<api_base_url>/pa/<name>` with the bot's token in
`X-Viber-Auth-Token`; Viber answers HTTP 200 with a `status` (0 is success) and a
`status_message`.
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

KIND = "viber"
DEFAULT_API_BASE_URL = "https://chatapi.viber.com"
AUTH_TOKEN_HEADER = "X-Viber-Auth-Token"

# https://developers.viber.com/docs/api/rest-bot-api/#error-codes
OK = 0
INVALID_AUTH_TOKEN = 2
RECEIVER_NOT_REGISTERED = 5
RECEIVER_NOT_SUBSCRIBED = 6
TOO_MANY_REQUESTS = 12
RETRY_AFTER_TOO_MANY_REQUESTS = 1.0

# The customer left or blocked the bot; they can be written to again once they write.
NOT_SUBSCRIBED = FailureReason.of(
    FailureCode.RECIPIENT_UNREACHABLE, platform="Viber", detail="status 6: not subscribed"
)
# The token is in the bot's settings in the Viber admin panel.
AUTH_TOKEN_INVALID = FailureReason.of(
    FailureCode.CREDENTIAL_REJECTED, platform="Viber", setting="auth_token", detail="status 2"
)


class ViberApi:
    """One bot's REST API: its base URL and token, each call's failures classified."""

    def __init__(self, channel: "Channel") -> None:
        self.channel = channel

    @property
    def api_base_url(self) -> str:
        return str(self.channel.config.get("api_base_url") or DEFAULT_API_BASE_URL).rstrip("/")

    def call(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST /pa/<name>; returns Viber's answer when its status is 0."""
        token = required_secret(self.channel, "auth_token")
        try:
            response = http_client().post(
                f"{self.api_base_url}/pa/{name}",
                json=payload,
                headers={AUTH_TOKEN_HEADER: token},
            )
        except httpx.HTTPError as error:
            detail = f"{name}: {type(error).__name__}: {error}"
            unreachable = FailureReason.of(
                FailureCode.PLATFORM_UNREACHABLE,
                platform="Viber",
                detail=detail.replace(token, "[auth token]")[:500],
            )
            raise DeliveryFailed(unreachable, is_retryable=True) from error
        except httpx.InvalidURL as error:
            raise DeliveryFailed(
                FailureReason.of(FailureCode.SETTING_INVALID, setting="api_base_url"),
                is_retryable=False,
            ) from error
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code >= 500 or not isinstance(answer, dict):
            raise DeliveryFailed(
                FailureReason.of(
                    FailureCode.PLATFORM_REFUSED, platform="Viber", status=response.status_code
                ),
                is_retryable=True,
            )
        status = answer.get("status")
        if status == OK:
            return answer
        message = answer.get("status_message")
        message = storable_line(message)[:300] if isinstance(message, str) else ""
        raise status_failure(status, message, action=name)


def status_failure(status: Any, message: str, *, action: str) -> DeliveryFailed:
    if status == RECEIVER_NOT_SUBSCRIBED:
        return DeliveryFailed(NOT_SUBSCRIBED, is_retryable=False, is_recipient_unreachable=True)
    if status == TOO_MANY_REQUESTS:
        return DeliveryFailed(
            FailureReason.of(
                FailureCode.RATE_LIMITED,
                platform="Viber",
                detail=f"status 12: {message or 'tooManyRequests'}",
            ),
            is_retryable=True,
            retry_after=RETRY_AFTER_TOO_MANY_REQUESTS,
        )
    if status == INVALID_AUTH_TOKEN:
        return DeliveryFailed(AUTH_TOKEN_INVALID, is_retryable=False)
    detail = f"status {status}" + (f": {message}" if message else "")
    return DeliveryFailed(
        FailureReason.of(FailureCode.PLATFORM_REFUSED, platform="Viber", detail=detail),
        is_retryable=False,
    )
