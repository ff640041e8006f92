"""Calls to the Messenger Platform's Send API (Facebook pages and Instagram accounts) for
one channel, and what its error answers mean for the delivery."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from channels_app.adapters.base import required_secret
from channels_app.adapters.meta.graph import (
    answer_json_object,
    answer_text,
    graph_error_read,
    is_token_safe_url,
    transport_detail,
    versioned_base_url,
    without_secret,
)
from channels_app.contracts import DeliveryFailed
from channels_app.failure_reasons import FailureCode, FailureReason
from channels_app.http import http_client

if TYPE_CHECKING:
    from channels_app.models import Channel

# https://developers.facebook.com/docs/messenger-platform/error-codes
ACCESS_TOKEN_ERROR_CODE = 190
RATE_LIMIT_ERROR_CODES = frozenset({4, 17, 32, 613, 80006})
TEMPORARY_ERROR_CODES = frozenset({1, 2, 1200})
USER_UNAVAILABLE_ERROR_CODE = 551
# (code, subcode) pairs that mean "no such person for this account any more".
RECIPIENT_GONE_ERRORS = frozenset({(100, 2018001), (100, 2534014), (10, 2018108)})
# Subcodes that mean "sent outside the allowed window".
OUTSIDE_WINDOW_SUBCODES = frozenset({2018278, 2534022})


@dataclass(frozen=True)
class SendApiSettings:
    """Where a channel's Send API lives and how it calls itself."""

    platform_name: str  # "Messenger", "Instagram"
    token_key: str  # the channel secret holding the token
    sender_key: str  # the config key of the account id in the messages path ("" for /me)
    default_host: str  # the Graph API's host when the channel's api_base_url is not set


class SendApi:
    """The channel's Send API: its base URL, its token, and each call's failures classified,
    with the token kept out of every reason."""

    def __init__(self, channel: "Channel", settings: SendApiSettings) -> None:
        self.channel = channel
        self.settings = settings

    @property
    def platform(self) -> str:
        return self.settings.platform_name

    def api_base_url(self) -> str:
        """The channel's `api_base_url` (else the platform's host) with the API version."""
        configured = self.channel.config.get("api_base_url")
        return versioned_base_url(str(configured or self.settings.default_host))

    def authorization(self) -> dict[str, str]:
        token = required_secret(self.channel, self.settings.token_key)
        return {"Authorization": f"Bearer {token}"}

    def url(self, path: str) -> str:
        return f"{self.api_base_url()}/{path.lstrip('/')}"

    def messages_path(self) -> str:
        key = self.settings.sender_key
        sender = quote(str(self.channel.config.get(key, "")), safe="") if key else "me"
        return f"{sender}/messages"

    def may_fetch(self, url: str) -> bool:
        return is_token_safe_url(url, api_base_url=self.api_base_url())

    def post_message(
        self, payload: dict[str, Any], *, files: dict[str, Any] | None = None
    ) -> str | None:
        """POST a message (JSON, or a multipart upload with `files`); returns its mid."""
        url = self.url(self.messages_path())
        headers = self.authorization()
        try:
            if files is None:
                response = http_client().post(url, json=payload, headers=headers)
            else:
                response = http_client().post(url, data=payload, files=files, headers=headers)
        except httpx.HTTPError as error:
            raise self.transport_failure(error, action="send") from error
        if response.status_code >= 300:
            raise self.graph_failure(response, action="send")
        data = answer_json_object(response) or {}
        return answer_text(data.get("message_id")) or None

    def request_json(
        self, method: str, path: str, *, action: str, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        headers = self.authorization()
        try:
            response = http_client().request(method, self.url(path), params=params, headers=headers)
        except httpx.HTTPError as error:
            raise self.transport_failure(error, action=action) from error
        if response.status_code >= 300:
            raise self.graph_failure(response, action=action)
        data = answer_json_object(response)
        if data is None:
            raise DeliveryFailed(
                FailureReason.of(FailureCode.UNREADABLE_ANSWER, platform=self.platform),
                is_retryable=True,
            )
        return data

    def transport_failure(self, error: httpx.HTTPError, *, action: str) -> DeliveryFailed:
        detail = self._without_token(transport_detail(action=action, error=error))
        return DeliveryFailed(
            FailureReason.of(
                FailureCode.PLATFORM_UNREACHABLE, platform=f"{self.platform} API", detail=detail
            ),
            is_retryable=True,
        )

    def graph_failure(self, response: httpx.Response, *, action: str) -> DeliveryFailed:
        """Rate limits and outages are retried; window, permission and recipient errors are
        final, the last marking the customer unreachable here."""
        error = graph_error_read(response)
        code, status = error.code, error.http_status
        detail = self._without_token(error.described(platform=self.platform, action=action))
        platform = {"platform": self.platform, "detail": detail}
        if error.subcode in OUTSIDE_WINDOW_SUBCODES:
            return DeliveryFailed(
                FailureReason.of(FailureCode.WINDOW_CLOSED, hours=24, **platform),
                is_retryable=False,
            )
        if code == USER_UNAVAILABLE_ERROR_CODE or (code, error.subcode) in RECIPIENT_GONE_ERRORS:
            return DeliveryFailed(
                FailureReason.of(FailureCode.RECIPIENT_UNREACHABLE, **platform),
                is_retryable=False,
                is_recipient_unreachable=True,
            )
        if status == 401 or code == ACCESS_TOKEN_ERROR_CODE:
            return DeliveryFailed(
                FailureReason.of(
                    FailureCode.CREDENTIAL_REJECTED, setting=self.settings.token_key, **platform
                ),
                is_retryable=False,
                is_credential_rejected=True,
            )
        if status == 429 or code in RATE_LIMIT_ERROR_CODES:
            return DeliveryFailed(
                FailureReason.of(FailureCode.RATE_LIMITED, **platform),
                is_retryable=True,
                retry_after=error.retry_after,
            )
        refused = FailureReason.of(FailureCode.PLATFORM_REFUSED, status=status, **platform)
        if status >= 500 or code in TEMPORARY_ERROR_CODES:
            return DeliveryFailed(refused, is_retryable=True, retry_after=error.retry_after)
        return DeliveryFailed(refused, is_retryable=False)

    def _without_token(self, text: str) -> str:
        token = self.channel.secrets.get(self.settings.token_key)
        return without_secret(text, token, "[access token]")


def window_closed(platform: str, *, hours: int = 24) -> FailureReason:
    return FailureReason.of(FailureCode.WINDOW_CLOSED, platform=platform, hours=hours)
