"""Files customers send on WhatsApp, fetched from a fake Graph API after commit."""

import pytest

from channels_app.services import attachment_fetch_media
from inbox.models import Attachment
from tests.channels_app.whatsapp.helpers import (
    post_fixture,
)
from tests.fakes.whatsapp import (
    ACCESS_TOKEN,
    ACCESS_TOKEN_EXPIRED,
    RATE_LIMITED,
    SERVER_ERROR,
)

pytestmark = pytest.mark.django_db


# Fetching the files customers send


JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40 + b"\xff\xd9"


def received_attachment(client, channel, fixture: str = "image") -> Attachment:
    post_fixture(client, channel, fixture)
    return Attachment.objects.get()


def test_a_received_image_is_fetched_into_storage_with_the_bearer_token(
    client, whatsapp_channel, graph_api, media_root
):
    attachment = received_attachment(client, whatsapp_channel)
    graph_api.add_media("1003383421387256", JPEG_BYTES, "image/jpeg")

    delay = attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=3)

    assert delay is None
    attachment.refresh_from_db()
    assert attachment.file
    assert attachment.size == len(JPEG_BYTES)
    assert attachment.file.read() == JPEG_BYTES
    assert (attachment.filename, attachment.content_type) == ("image.jpg", "image/jpeg")
    assert attachment.fetch_error == ""
    lookup, download = graph_api.requests
    assert lookup.path == "/v26.0/1003383421387256"
    assert download.path == "/media-download/1003383421387256"
    for request in (lookup, download):
        assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"


def test_a_fetched_document_keeps_the_name_the_customer_gave_it(
    client, whatsapp_channel, graph_api, media_root
):
    attachment = received_attachment(client, whatsapp_channel, "document")
    graph_api.add_media("1577962479617013", b"%PDF-1.7 invoice", "application/pdf")

    attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=3)

    attachment.refresh_from_db()
    assert attachment.filename == "invoice-10482.pdf"
    assert attachment.file.name.endswith(".pdf")
    assert attachment.size == len(b"%PDF-1.7 invoice")


@pytest.mark.parametrize(
    ("error", "endpoint"),
    [(SERVER_ERROR, "media"), (RATE_LIMITED, "media"), (SERVER_ERROR, "download")],
)
def test_a_temporary_failure_fetching_media_is_retried(
    client, whatsapp_channel, graph_api, media_root, error, endpoint
):
    attachment = received_attachment(client, whatsapp_channel)
    graph_api.add_media("1003383421387256", JPEG_BYTES, "image/jpeg")
    graph_api.fail_next(error, endpoint=endpoint)

    assert attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=3)
    attachment.refresh_from_db()
    assert not attachment.file

    assert attachment_fetch_media(attachment_id=attachment.pk, attempt=2, max_attempts=3) is None
    attachment.refresh_from_db()
    assert attachment.size == len(JPEG_BYTES)


def test_media_whatsapp_no_longer_has_is_recorded_as_a_failure(
    client, whatsapp_channel, graph_api, media_root
):
    attachment = received_attachment(client, whatsapp_channel)

    delay = attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=3)

    assert delay is None
    attachment.refresh_from_db()
    assert not attachment.file
    assert "does not exist" in attachment.fetch_error
    assert ACCESS_TOKEN not in attachment.fetch_error


def test_a_download_that_does_not_match_metas_checksum_is_not_stored(
    client, whatsapp_channel, graph_api, media_root
):
    attachment = received_attachment(client, whatsapp_channel)
    graph_api.add_media("1003383421387256", JPEG_BYTES, "image/jpeg", sha256="0" * 64)

    assert attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=2)
    assert attachment_fetch_media(attachment_id=attachment.pk, attempt=2, max_attempts=2) is None

    attachment.refresh_from_db()
    assert not attachment.file
    assert "checksum" in attachment.fetch_error


def test_media_with_an_expired_token_fails_for_good(
    client, whatsapp_channel, graph_api, media_root
):
    attachment = received_attachment(client, whatsapp_channel)
    graph_api.add_media("1003383421387256", JPEG_BYTES, "image/jpeg")
    graph_api.fail_next(ACCESS_TOKEN_EXPIRED, endpoint="media")

    assert attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=5) is None

    attachment.refresh_from_db()
    assert "WhatsApp refused the channel's access_token" in attachment.fetch_error
    assert len(graph_api.requests) == 1
