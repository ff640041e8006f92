"""Files operators attach to replies: what we accept, how they are stored, and the signed,
expiring links through which platforms fetch them without a session."""

import mimetypes
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePath
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext, ngettext

from inbox.models import Attachment, Message

MAX_FILE_SIZE = 25 * 1024 * 1024
MAX_FILES_PER_MESSAGE = 10
# Files a customer's computer would run when opened: no support reply needs to send one.
BLOCKED_EXTENSIONS = frozenset(
    {
        "app", "apk", "bat", "bin", "cmd", "com", "cpl", "dll", "dmg", "exe", "gadget", "hta",
        "inf", "ins", "isp", "jar", "js", "jse", "lnk", "msc", "msi", "msp", "pif", "ps1",
        "reg", "scr", "sct", "sh", "shb", "sys", "vb", "vbe", "vbs", "ws", "wsc", "wsf", "wsh",
    }
)  # fmt: skip
BLOCKED_CONTENT_TYPES = frozenset(
    {
        "application/x-msdownload",
        "application/x-msdos-program",
        "application/x-dosexec",
        "application/x-executable",
        "application/x-sh",
        "application/java-archive",
        "application/vnd.microsoft.portable-executable",
    }
)
# Long enough for a platform (or an API callback's consumer) to fetch the file when it
# gets round to it; short enough that a leaked link stops working.
PUBLIC_LINK_LIFETIME = timedelta(days=7)
_SIGNING_SALT = "inbox.attachments.public-link"


class AttachmentRejected(ValueError):
    """An uploaded file we do not accept; the message says which and why."""


@dataclass(frozen=True)
class AcceptedFile:
    upload: UploadedFile
    filename: str
    content_type: str
    size: int


def _clean_filename(name: str | None) -> str:
    # Browsers send a bare name, but nothing stops a client from sending a path.
    base = PurePath(str(name or "").replace("\\", "/")).name.strip()
    return base[:255] or "file"


def _extensions(filename: str) -> set[str]:
    # "invoice.pdf.exe" and "setup.EXE" alike.
    return {suffix.lstrip(".").lower() for suffix in PurePath(filename).suffixes}


def attachments_check(*, files: Sequence[UploadedFile]) -> list[AcceptedFile]:
    """The files as they will be stored, or AttachmentRejected for the first bad one."""
    if len(files) > MAX_FILES_PER_MESSAGE:
        raise AttachmentRejected(
            ngettext(
                "at most %(count)s file per message",
                "at most %(count)s files per message",
                MAX_FILES_PER_MESSAGE,
            )
            % {"count": MAX_FILES_PER_MESSAGE}
        )
    accepted = []
    for upload in files:
        filename = _clean_filename(upload.name)
        size = upload.size or 0
        if size > MAX_FILE_SIZE:
            raise AttachmentRejected(
                gettext("%(name)s is larger than %(size)s MB")
                % {"name": filename, "size": MAX_FILE_SIZE // 2**20}
            )
        guessed, _ = mimetypes.guess_type(filename)
        content_type = (upload.content_type or guessed or "application/octet-stream").lower()
        if (
            _extensions(filename) & BLOCKED_EXTENSIONS
            or content_type in BLOCKED_CONTENT_TYPES
            or (guessed or "") in BLOCKED_CONTENT_TYPES
        ):
            raise AttachmentRejected(
                gettext("%(name)s: executable files cannot be sent") % {"name": filename}
            )
        if content_type == "application/octet-stream" and guessed:
            content_type = guessed
        accepted.append(
            AcceptedFile(upload=upload, filename=filename, content_type=content_type, size=size)
        )
    return accepted


def attachments_store(*, message: Message, files: Sequence[AcceptedFile]) -> list[Attachment]:
    """Save the files through Django's storage as the message's attachments."""
    stored = []
    for accepted in files:
        attachment = Attachment(
            message=message,
            filename=accepted.filename,
            content_type=accepted.content_type,
            size=accepted.size,
        )
        attachment.file.save(accepted.filename, accepted.upload, save=False)
        attachment.save()
        stored.append(attachment)
    return stored


def _signature(file_name: str, expires: int) -> str:
    return signing.Signer(salt=_SIGNING_SALT).signature(f"{file_name}|{expires}")


def attachment_public_url(attachment: Attachment, *, now: float | None = None) -> str:
    """An absolute link to a stored file that works without a session until it expires
    (platforms fetch outgoing files from it); the file's remote URL when it has no copy here."""
    if not attachment.file:
        return attachment.remote_url
    expires = int((now if now is not None else time.time()) + PUBLIC_LINK_LIFETIME.total_seconds())
    signature = _signature(attachment.file.name or "", expires)
    query = urlencode({"expires": expires, "signature": signature})
    return f"{settings.PUBLIC_BASE_URL}{attachment.file.url}?{query}"


def attachment_link_is_valid(
    *, file_name: str, expires: str, signature: str, now: float | None = None
) -> bool:
    if not expires.isdigit() or not signature:
        return False
    if int(expires) < (now if now is not None else time.time()):
        return False
    return constant_time_compare(signature, _signature(file_name, int(expires)))
