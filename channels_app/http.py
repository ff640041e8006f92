"""One pooled HTTP client per process for calls to platforms and callback URLs, every
connection through the outbound guard (channels_app.outbound_guard)."""

import threading
import time

import httpx
from django.conf import settings

from channels_app.contracts import DeliveryFailed
from channels_app.failure_reasons import FailureCode, FailureReason
from channels_app.outbound_guard import guarded_transport

_local = threading.local()


def http_client() -> httpx.Client:
    client = getattr(_local, "client", None)
    if client is None:
        client = httpx.Client(
            timeout=settings.DELIVERY_TIMEOUT_SECONDS,
            headers={"User-Agent": "Switchboard/1"},
            follow_redirects=False,
            transport=guarded_transport(),
        )
        _local.client = client
    return client


def delivery_failure_for_status(response: httpx.Response, *, platform: str) -> DeliveryFailed:
    """Map an HTTP error answer to a retryable (429, 5xx) or final (other 4xx) failure.
    The reason names the status only: operators read it, and the body of an answer from a
    host someone typed is no business of theirs. `platform` "" is a server of the
    channel's owner (an API channel's callback URL)."""
    if response.status_code == 429:
        retry_after = response.headers.get("retry-after")
        return DeliveryFailed(
            FailureReason.of(FailureCode.RATE_LIMITED, platform=platform),
            is_retryable=True,
            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
        )
    reason = FailureReason.of(
        FailureCode.PLATFORM_REFUSED, platform=platform, status=response.status_code
    )
    return DeliveryFailed(reason, is_retryable=response.status_code >= 500)


# Transport errors raised before the request was whole on the wire: the platform cannot
# have acted on it. Any other (a timeout or a dropped connection while waiting for the
# answer) leaves the request possibly done.
_REQUEST_NEVER_WHOLE = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
    httpx.LocalProtocolError,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
)


def request_may_have_arrived(failure: BaseException) -> bool:
    """Whether the transport error behind this failure came after the platform had the
    whole request, so that it may have acted on it although no answer came back."""
    if getattr(failure, "may_have_arrived", False):
        return True
    error = _transport_error_behind(failure)
    return error is not None and not isinstance(error, _REQUEST_NEVER_WHOLE)


def _transport_error_behind(failure: BaseException) -> httpx.TransportError | None:
    """The transport error a failure was raised from, through the failures that wrap it
    (a several-part send adds how far it got)."""
    seen: set[int] = set()
    error: BaseException | None = failure
    while error is not None and id(error) not in seen:
        if isinstance(error, httpx.TransportError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def delivery_failure_for_transport(error: httpx.HTTPError, *, platform: str) -> DeliveryFailed:
    reason = FailureReason.of(
        FailureCode.PLATFORM_UNREACHABLE, platform=platform, detail=repr(error)
    )
    return DeliveryFailed(reason, is_retryable=True)


def body_within_limit(
    response: httpx.Response, *, max_bytes: int, seconds: float | None = None
) -> bytes:
    """A streamed answer's body, read no further than `max_bytes` (a final failure past it)
    and for no longer than `seconds` (OUTBOUND_DOWNLOAD_SECONDS by default; a retryable
    failure past it): the client's timeout bounds each read, not a body sent a byte at a
    time."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise DeliveryFailed(f"the file is over {max_bytes} bytes", is_retryable=False)
    deadline = time.monotonic() + (
        settings.OUTBOUND_DOWNLOAD_SECONDS if seconds is None else seconds
    )
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise DeliveryFailed(f"the file is over {max_bytes} bytes", is_retryable=False)
        if time.monotonic() > deadline:
            raise DeliveryFailed("the download took too long", is_retryable=True)
        chunks.append(chunk)
    return b"".join(chunks)
