"""Files customers send through Messenger and Instagram: fetched from Meta's CDN after the
message is stored, no bigger than the platform sends."""

import httpx

from channels_app.adapters.meta.send_api import SendApi
from channels_app.contracts import DeliveryFailed, MediaContent
from channels_app.http import body_within_limit, http_client

# Messenger and Instagram carry files of up to 25 MB.
MAX_MEDIA_BYTES = 25 * 1024 * 1024


def media_fetch(api: SendApi, url: str) -> MediaContent:
    """Download an attachment's CDN URL (which needs no token) into memory."""
    if not api.may_fetch(url):
        raise DeliveryFailed(f"{api.platform} gave no https URL for the file", is_retryable=False)
    try:
        with http_client().stream("GET", url) as response:
            if response.status_code in (403, 404, 410):
                raise DeliveryFailed(
                    f"{api.platform} no longer serves the file (HTTP {response.status_code}); "
                    "its link has expired",
                    is_retryable=False,
                )
            if response.status_code >= 300:
                raise DeliveryFailed(
                    f"{api.platform} file download failed: HTTP {response.status_code}",
                    is_retryable=response.status_code >= 500 or response.status_code == 429,
                )
            content = body_within_limit(response, max_bytes=MAX_MEDIA_BYTES)
            content_type = response.headers.get("content-type", "")
    except httpx.HTTPError as error:
        raise api.transport_failure(error, action="file download") from error
    return MediaContent(
        content=content,
        content_type=content_type.split(";")[0].strip() or "application/octet-stream",
        # The name the webhook gave is kept.
        filename="",
    )
