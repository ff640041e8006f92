"""Files customers send a Telegram bot, fetched from a fake Bot API server after commit."""

import pytest

from channels_app import services
from channels_app.contracts import (
    FETCH_MEDIA_TASK,
)
from inbox.models import Attachment
from tests.channels_app.telegram.helpers import (
    BOT_TOKEN,
    post_update,
    update_body,
)
from tests.fakes.telegram import (
    INTERNAL_SERVER_ERROR,
    TOO_MANY_REQUESTS,
)

pytestmark = pytest.mark.django_db


# Media


def test_a_photo_is_fetched_into_storage_after_commit(
    client,
    telegram_channel,
    fake_telegram,
    enqueued_tasks,
    django_capture_on_commit_callbacks,
    settings,
    tmp_path,
):
    settings.MEDIA_ROOT = tmp_path
    content = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40
    fake_telegram.add_file("AgACAgIAAxkBAAIBLmZ-photo-xl", content, file_path="photos/file_12.jpg")
    with django_capture_on_commit_callbacks(execute=True):
        post_update(client, telegram_channel, update_body("message_photo"))
    attachment = Attachment.objects.get()
    assert enqueued_tasks == [(FETCH_MEDIA_TASK, [attachment.pk])]

    assert (
        services.attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=3)
        is None
    )

    attachment.refresh_from_db()
    assert attachment.file
    assert attachment.file.read() == content
    assert attachment.size == len(content)
    assert (attachment.filename, attachment.content_type) == ("photo.jpg", "image/jpeg")
    assert attachment.fetch_error == ""
    assert [call.method for call in fake_telegram.calls] == ["getFile", "file"]
    assert fake_telegram.calls[0].params == {"file_id": "AgACAgIAAxkBAAIBLmZ-photo-xl"}
    assert fake_telegram.calls[1].path == f"/file/bot{BOT_TOKEN}/photos/file_12.jpg"


@pytest.mark.parametrize(
    ("error", "method"),
    [
        (TOO_MANY_REQUESTS, "getFile"),
        (INTERNAL_SERVER_ERROR, "getFile"),
        (INTERNAL_SERVER_ERROR, "file"),
    ],
)
def test_a_temporary_fetch_failure_is_retried(
    client, telegram_channel, fake_telegram, settings, tmp_path, error, method
):
    settings.MEDIA_ROOT = tmp_path
    fake_telegram.add_file("AwACAgIAAxkBAAIBMmZ-voice", b"OggS voice", file_path="voice/file_3.oga")
    post_update(client, telegram_channel, update_body("message_voice"))
    attachment = Attachment.objects.get()
    fake_telegram.fail_next(error, method=method)

    delay = services.attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=3)

    assert delay is not None
    if error is TOO_MANY_REQUESTS:
        assert delay >= 3
    attachment.refresh_from_db()
    assert not attachment.file
    assert (
        services.attachment_fetch_media(attachment_id=attachment.pk, attempt=2, max_attempts=3)
        is None
    )
    attachment.refresh_from_db()
    assert attachment.file.read() == b"OggS voice"
    assert attachment.size == len(b"OggS voice")


def test_a_file_telegram_does_not_know_fails_for_good(
    client, telegram_channel, fake_telegram, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    post_update(client, telegram_channel, update_body("message_document"))
    attachment = Attachment.objects.get()

    delay = services.attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=3)

    assert delay is None
    attachment.refresh_from_db()
    assert not attachment.file
    assert attachment.fetch_error.endswith("The platform said: Bad Request: invalid file_id")
    assert [call.method for call in fake_telegram.calls] == ["getFile"]


def test_a_file_over_the_download_limit_is_not_kept(
    client,
    telegram_channel,
    fake_telegram,
    enqueued_tasks,
    django_capture_on_commit_callbacks,
    settings,
    tmp_path,
    monkeypatch,
):
    from channels_app.adapters.telegram import media

    settings.MEDIA_ROOT = tmp_path
    # The limit is 50 MB; a small stand-in keeps the test light.
    monkeypatch.setattr(media, "MAX_MEDIA_BYTES", 1000)
    fake_telegram.add_file(
        "AgACAgIAAxkBAAIBLmZ-photo-xl", b"\xff" * 1001, file_path="photos/file_13.jpg"
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_update(client, telegram_channel, update_body("message_photo"))
    attachment = Attachment.objects.get()

    services.attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=3)

    attachment.refresh_from_db()
    assert not attachment.file
    assert attachment.fetch_error == "the file is over 1000 bytes"
