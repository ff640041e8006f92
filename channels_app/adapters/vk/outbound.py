"""Replies going out to VK: messages.send, files through VK's upload flow first.

Every messages.send carries a `random_id` VK keeps with the message and refuses to send
twice (over the community's whole history): derived from our message's id, when it was
written and the part's number, keyed with the channel's own random key, so a try after a
lost answer is the same VK message while two installations, or messages written again
after a backup was restored, never share one.
"""

import hashlib
import hmac
from collections.abc import Iterator
from typing import Any

import httpx
from django.core.files.storage import default_storage

from channels_app.adapters.base import required_secret
from channels_app.adapters.vk.vk_api import VkApi, answer_object
from channels_app.contracts import (
    DeliveryFailed,
    DeliveryProgress,
    DeliveryResult,
    OutboundAttachment,
    OutboundMessage,
)
from channels_app.failure_reasons import FailureCode, FailureReason
from channels_app.http import http_client

# VK takes up to 9000 characters a message; shorter parts read better on a phone.
MAX_TEXT_LENGTH = 4096
MAX_ATTACHMENTS_PER_MESSAGE = 10
MAX_RANDOM_ID = 2**63 - 1
PHOTO_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})


def random_id(*, key: str, message_id: int, written_at: str, part: int) -> int:
    """A positive 63-bit number that names one part of one of our messages."""
    return named_random_id(key=key, name=f"{message_id}:{written_at}:{part}")


def named_random_id(*, key: str, name: str) -> int:
    digest = hmac.new(key.encode(), name.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") & MAX_RANDOM_ID or 1


def random_id_key(api: VkApi) -> str:
    return required_secret(api.channel, "random_id_key")


def message_send(api: VkApi, outbound: OutboundMessage) -> DeliveryResult:
    peer_id = outbound.recipient_address
    if not peer_id.isdigit():
        raise DeliveryFailed(
            FailureReason.of(FailureCode.NO_RECIPIENT, platform="VK"), is_retryable=False
        )
    key = random_id_key(api)
    text = outbound.text.strip()
    links = [item.url for item in outbound.attachments if not item.storage_name and item.url]
    if links:
        text = "\n".join([text, *links]).strip()
    uploaded = [_upload(api, peer_id, item) for item in outbound.attachments if item.storage_name]
    chunks = list(_text_chunks(text)) or [""]
    if not chunks[0] and not uploaded:
        raise DeliveryFailed(FailureReason.of(FailureCode.NOTHING_TO_SEND), is_retryable=False)
    written_at = outbound.created_at.isoformat() if outbound.created_at else ""
    progress = DeliveryProgress()
    for part, chunk in enumerate(chunks):
        attachments = uploaded[:MAX_ATTACHMENTS_PER_MESSAGE] if part == 0 else []
        params: dict[str, Any] = {
            "peer_id": peer_id,
            "random_id": random_id(
                key=key, message_id=outbound.message_id, written_at=written_at, part=part
            ),
            "message": chunk or None,
            "attachment": ",".join(attachments) or None,
        }
        progress = progress.after_part(_external_id(api.call("messages.send", params)))
    for part, extra in enumerate(
        _batches(uploaded[MAX_ATTACHMENTS_PER_MESSAGE:]), start=len(chunks)
    ):
        sent = api.call(
            "messages.send",
            {
                "peer_id": peer_id,
                "random_id": random_id(
                    key=key, message_id=outbound.message_id, written_at=written_at, part=part
                ),
                "attachment": ",".join(extra),
            },
        )
        progress = progress.after_part(_external_id(sent))
    return progress.result()


def _external_id(sent: Any) -> str | None:
    if isinstance(sent, int) and not isinstance(sent, bool) and sent > 0:
        return str(sent)
    return None


def _batches(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), MAX_ATTACHMENTS_PER_MESSAGE):
        yield items[start : start + MAX_ATTACHMENTS_PER_MESSAGE]


def _text_chunks(text: str) -> Iterator[str]:
    """Split text into messages at a line break or space where possible."""
    while text:
        if len(text) <= MAX_TEXT_LENGTH:
            yield text
            return
        cut = max(text.rfind("\n", 0, MAX_TEXT_LENGTH), text.rfind(" ", 0, MAX_TEXT_LENGTH))
        if cut < MAX_TEXT_LENGTH // 2:
            cut = MAX_TEXT_LENGTH
        yield text[:cut].rstrip()
        text = text[cut:].lstrip()


def _upload(api: VkApi, peer_id: str, attachment: OutboundAttachment) -> str:
    """Upload one of our stored files to VK for this dialog; returns how messages.send
    names it (`photo<owner>_<id>_<access key>` or `doc<owner>_<id>`)."""
    content_type = attachment.content_type.split(";")[0].strip().lower()
    if content_type in PHOTO_CONTENT_TYPES:
        server = api.call("photos.getMessagesUploadServer", {"peer_id": peer_id})
        uploaded = _post_file(api, _upload_url(server), "photo", attachment)
        saved = api.call(
            "photos.saveMessagesPhoto",
            {key: uploaded.get(key) for key in ("photo", "server", "hash")},
        )
        photo = saved[0] if isinstance(saved, list) and saved else None
        return _attachment_name("photo", photo)
    server = api.call("docs.getMessagesUploadServer", {"type": "doc", "peer_id": peer_id})
    uploaded = _post_file(api, _upload_url(server), "file", attachment)
    saved = api.call("docs.save", {"file": uploaded.get("file"), "title": attachment.filename})
    document = saved.get("doc") if isinstance(saved, dict) else None
    return _attachment_name("doc", document)


def _upload_url(server: Any) -> str:
    url = server.get("upload_url") if isinstance(server, dict) else None
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise DeliveryFailed(
            FailureReason.of(FailureCode.UNREADABLE_ANSWER, platform="VK"), is_retryable=True
        )
    return url


def _post_file(api: VkApi, url: str, field: str, attachment: OutboundAttachment) -> dict[str, Any]:
    try:
        with default_storage.open(attachment.storage_name, "rb") as stored:
            content = stored.read()
    except OSError as error:
        raise DeliveryFailed(
            FailureReason.of(FailureCode.ATTACHMENT_MISSING, filename=attachment.filename),
            is_retryable=False,
        ) from error
    files = {field: (attachment.filename, content, attachment.content_type)}
    try:
        response = http_client().post(url, files=files)
    except httpx.HTTPError as error:
        raise api.transport_failure(error, action="file upload") from error
    answer = answer_object(response)
    if response.status_code >= 300 or answer is None:
        raise DeliveryFailed(
            FailureReason.of(
                FailureCode.FILE_REFUSED,
                platform="VK",
                filename=attachment.filename,
                status=response.status_code,
            ),
            is_retryable=True,
        )
    if "error" in answer:
        raise DeliveryFailed(
            FailureReason.of(
                FailureCode.FILE_REFUSED,
                platform="VK",
                filename=attachment.filename,
                detail=str(answer.get("error"))[:200],
            ),
            is_retryable=False,
        )
    return answer


def _attachment_name(kind: str, saved: Any) -> str:
    owner_id = saved.get("owner_id") if isinstance(saved, dict) else None
    media_id = saved.get("id") if isinstance(saved, dict) else None
    if not isinstance(owner_id, int) or not isinstance(media_id, int):
        raise DeliveryFailed(
            FailureReason.of(FailureCode.UNREADABLE_ANSWER, platform="VK"), is_retryable=True
        )
    name = f"{kind}{owner_id}_{media_id}"
    access_key = saved.get("access_key")
    return f"{name}_{access_key}" if isinstance(access_key, str) and access_key else name
