"""Calls to the Telegram Bot API, and what its answers mean.

The bot token travels in every Bot API URL (`/bot<token>/<method>`), so nothing here logs
a URL or puts one into a failure reason, and the `httpx` logger gets a filter that
redacts tokens from its "HTTP Request: POST <url>" lines.
"""

import logging
import re
from typing import TYPE_CHECKING, Any

import httpx

from channels_app.adapters.base import required_secret
from channels_app.contracts import DeliveryFailed
from channels_app.failure_reasons import FailureCode, FailureReason
from channels_app.http import http_client

if TYPE_CHECKING:
    from channels_app.models import Channel

KIND = "telegram"
DEFAULT_API_BASE_URL = "https://api.telegram.org"

_TOKEN_IN_TEXT = re.compile(r"bot\d+:[A-Za-z0-9_-]+")


class _BotTokenRedactingFilter(logging.Filter):
    """Rewrites `bot<token>` in log records into `bot<redacted>`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_bot_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_bot_tokens(str(arg)) if isinstance(arg, str | httpx.URL) else arg
                for arg in record.args
            )
        return True


def redact_bot_tokens(text: str) -> str:
    return _TOKEN_IN_TEXT.sub("bot<redacted>", text)


_REDACTING_FILTER = _BotTokenRedactingFilter()
# httpx logs every request URL at INFO, and our URLs carry the bot token.
logging.getLogger("httpx").addFilter(_REDACTING_FILTER)


class BotApi:
    """One channel's bot: its API base URL and token, and each call's failures classified."""

    def __init__(self, channel: "Channel") -> None:
        self.channel = channel

    @property
    def api_base_url(self) -> str:
        url = self.channel.config.get("api_base_url") or DEFAULT_API_BASE_URL
        return str(url).rstrip("/")

    @property
    def bot_token(self) -> str:
        return required_secret(self.channel, "bot_token")

    def call(self, method: str, params: dict[str, Any], *, timeout: float | None = None) -> Any:
        """One Bot API call; returns its `result` or raises a classified DeliveryFailed."""
        return self.call_answer(method, params, timeout=timeout).get("result")

    def call_answer(
        self, method: str, params: dict[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        url = f"{self.api_base_url}/bot{self.bot_token}/{method}"
        try:
            if timeout is None:
                response = http_client().post(url, json=params)
            else:
                response = http_client().post(url, json=params, timeout=timeout)
        except httpx.HTTPError as error:
            raise transport_failure(error) from error
        except httpx.InvalidURL as error:
            raise DeliveryFailed(
                FailureReason.of(FailureCode.SETTING_INVALID, setting="api_base_url"),
                is_retryable=False,
            ) from error
        answer = _json_object(response)
        if response.status_code == 200 and answer is not None and answer.get("ok") is True:
            return answer
        raise failure_for_answer(response, action=method)


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def failure_for_answer(response: httpx.Response, *, action: str) -> DeliveryFailed:
    """Telegram's error answer as a retryable (429, 5xx) or final (other 4xx) failure."""
    answer = _json_object(response) or {}
    description = answer.get("description")
    if not isinstance(description, str) or not description:
        description = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    description = redact_bot_tokens(description[:300])
    error_code = answer.get("error_code")
    status = error_code if isinstance(error_code, int) else response.status_code
    if status == 429:
        parameters = answer.get("parameters")
        retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
        if not isinstance(retry_after, int | float) or isinstance(retry_after, bool):
            header = response.headers.get("retry-after", "")
            retry_after = float(header) if header.isdigit() else None
        return DeliveryFailed(
            FailureReason.of(FailureCode.RATE_LIMITED, platform="Telegram", detail=description),
            is_retryable=True,
            retry_after=float(retry_after) if retry_after is not None else None,
        )
    refused = FailureReason.of(
        FailureCode.PLATFORM_REFUSED, platform="Telegram", status=status, detail=description
    )
    if status >= 500 or response.status_code >= 500:
        return DeliveryFailed(refused, is_retryable=True)
    if status == 403 and "blocked" in description.lower():
        blocked = FailureReason.of(
            FailureCode.RECIPIENT_UNREACHABLE, platform="Telegram", detail=description
        )
        return DeliveryFailed(blocked, is_retryable=False)
    if status == 401:
        rejected = FailureReason.of(
            FailureCode.CREDENTIAL_REJECTED,
            platform="Telegram",
            setting="bot_token",
            detail=description,
        )
        return DeliveryFailed(rejected, is_retryable=False)
    return DeliveryFailed(refused, is_retryable=False)


def transport_failure(error: httpx.HTTPError) -> DeliveryFailed:
    # Only the error's class and message: the request URL would carry the token.
    detail = redact_bot_tokens(str(error))[:300]
    return DeliveryFailed(
        FailureReason.of(
            FailureCode.PLATFORM_UNREACHABLE,
            platform="Telegram",
            detail=f"{type(error).__name__}: {detail}".rstrip(": "),
        ),
        is_retryable=True,
    )
