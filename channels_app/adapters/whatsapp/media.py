"""Files customers send on WhatsApp: looked up and downloaded after the message is stored."""

import base64
import hashlib
import hmac
import re

import httpx

from channels_app.adapters.meta.graph import answer_integer
from channels_app.adapters.whatsapp.graph_api import GraphApi
from channels_app.contracts import DeliveryFailed, MediaContent
from channels_app.http import body_within_limit, http_client
from channels_app.text import storable_line

# The largest file WhatsApp carries (documents) is 100 MB.
MAX_MEDIA_BYTES = 100 * 1024 * 1024

_MEDIA_ID = re.compile(r"[A-Za-z0-9_.-]{1,200}")
_CONTENT_DISPOSITION_FILENAME = re.compile(
    r"filename\*?=(?:UTF-8'')?\"?([^\";]+)\"?", re.IGNORECASE
)


def media_fetch(graph: GraphApi, media_id: str) -> MediaContent:
    if not _MEDIA_ID.fullmatch(media_id) or media_id in (".", ".."):
        raise DeliveryFailed("not a WhatsApp media id", is_retryable=False)
    metadata = graph.get_json(f"{graph.api_base_url()}/{media_id}", action="media lookup")
    url = metadata.get("url")
    if not isinstance(url, str) or not graph.may_receive_token(url):
        raise DeliveryFailed(
            "WhatsApp gave no https download URL for the media", is_retryable=False
        )
    declared_size = answer_integer(metadata.get("file_size"))
    if declared_size is not None and declared_size > MAX_MEDIA_BYTES:
        raise DeliveryFailed(
            f"the file is over {MAX_MEDIA_BYTES} bytes ({declared_size})", is_retryable=False
        )
    content, header_type, disposition = _download(graph, url)
    checksum = metadata.get("sha256")
    if isinstance(checksum, str) and checksum and not _checksum_matches(content, checksum):
        raise DeliveryFailed(
            "the downloaded media does not match WhatsApp's checksum", is_retryable=True
        )
    mime_type = metadata.get("mime_type")
    return MediaContent(
        content=content,
        content_type=(mime_type if isinstance(mime_type, str) and mime_type else header_type)
        or "application/octet-stream",
        # Empty unless the download names the file: the name the webhook gave is kept.
        filename=_filename_from_disposition(disposition),
    )


def safe_filename(name: str) -> str:
    """The last part of a path a sender gave as a file name; "" if nothing usable is left."""
    name = storable_line(name).replace("\\", "/").rsplit("/", 1)[-1].strip()
    return "" if name in ("", ".", "..") else name[:255]


def _download(graph: GraphApi, url: str) -> tuple[bytes, str, str]:
    headers = graph.authorization()
    try:
        with http_client().stream("GET", url, headers=headers) as response:
            if response.status_code >= 300:
                response.read()
                raise graph.graph_failure(response, action="media download")
            return (
                body_within_limit(response, max_bytes=MAX_MEDIA_BYTES),
                response.headers.get("content-type", ""),
                response.headers.get("content-disposition", ""),
            )
    except httpx.HTTPError as error:
        raise graph.transport_failure(error, action="media download") from error


def _checksum_matches(content: bytes, checksum: str) -> bool:
    digest = hashlib.sha256(content).digest()
    # Meta has given the SHA-256 both as hex and as base64.
    return hmac.compare_digest(checksum.strip().lower(), digest.hex()) or hmac.compare_digest(
        checksum.strip(), base64.b64encode(digest).decode()
    )


def _filename_from_disposition(disposition: str) -> str:
    match = _CONTENT_DISPOSITION_FILENAME.search(disposition)
    return safe_filename(match.group(1)) if match else ""
