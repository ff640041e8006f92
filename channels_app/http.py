"""One pooled HTTP client per process for calls to platforms and callback URLs."""

import threading

import httpx
from django.conf import settings

from channels_app.contracts import DeliveryFailed

_local = threading.local()


def http_client() -> httpx.Client:
    client = getattr(_local, "client", None)
    if client is None:
        client = httpx.Client(
            timeout=settings.DELIVERY_TIMEOUT_SECONDS,
            headers={"User-Agent": "Switchboard/1"},
            follow_redirects=False,
        )
        _local.client = client
    return client


def delivery_failure_for_status(response: httpx.Response, *, platform: str) -> DeliveryFailed:
    """Map an HTTP error answer to a retryable (429, 5xx) or final (other 4xx) failure."""
    reason = f"{platform} answered HTTP {response.status_code}: {response.text[:300]}"
    if response.status_code == 429:
        retry_after = response.headers.get("retry-after")
        return DeliveryFailed(
            reason,
            is_retryable=True,
            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
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
    error = failure.__cause__ or failure.__context__
    return isinstance(error, httpx.TransportError) and not isinstance(error, _REQUEST_NEVER_WHOLE)


def delivery_failure_for_transport(error: httpx.HTTPError, *, platform: str) -> DeliveryFailed:
    return DeliveryFailed(f"{platform} unreachable: {error!r}", is_retryable=True)


def body_within_limit(response: httpx.Response, *, max_bytes: int) -> bytes:
    """A streamed answer's body, read no further than `max_bytes` (a final failure past it)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise DeliveryFailed(f"the file is over {max_bytes} bytes", is_retryable=False)
        chunks.append(chunk)
    return b"".join(chunks)
