"""Files on replies: multipart upload, limits, storage, and signed links for platforms."""

from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inbox import attachments
from inbox.attachments import attachment_public_url
from inbox.models import Attachment, Message
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PUBLIC_BASE_URL = "https://desk.example.com"


@pytest.fixture
def conversation(channel):
    return ConversationFactory(channel=channel)


def upload(name: str, content: bytes = b"hello", content_type: str = "text/plain"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def post_files(client, conversation, files, **fields):
    return client.post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"body": "", "private": "false", **fields, "files": files},
        format="multipart",
    )


def test_a_reply_with_files_stores_them_as_attachments(operator_client, conversation):
    png = upload("photo.png", b"\x89PNG fake", "image/png")

    response = post_files(
        operator_client, conversation, [png, upload("notes.txt")], body="See attached"
    )

    assert response.status_code == 201, response.content
    message = response.json()
    assert message["body"] == "See attached"
    assert [(a["filename"], a["content_type"], a["size"]) for a in message["attachments"]] == [
        ("photo.png", "image/png", 9),
        ("notes.txt", "text/plain", 5),
    ]
    stored = Attachment.objects.get(filename="photo.png")
    assert stored.file.read() == b"\x89PNG fake"
    assert stored.message.status == "queued"


def test_files_alone_make_a_reply(operator_client, conversation):
    response = post_files(operator_client, conversation, [upload("a.txt")])

    assert response.status_code == 201, response.content
    assert response.json()["body"] == ""


def test_a_private_note_may_carry_files(operator_client, conversation):
    response = post_files(operator_client, conversation, [upload("a.txt")], private="true")

    assert response.json()["private"] is True
    assert response.json()["status"] == "internal"


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ([upload("setup.exe", b"MZ", "application/octet-stream")], "executable"),
        ([upload("invoice.pdf.EXE", b"MZ", "application/pdf")], "executable"),
        ([upload("run.sh", b"#!/bin/sh", "text/plain")], "executable"),
        ([upload("x.bin", b"MZ", "application/x-msdownload")], "executable"),
        ([upload(f"f{index}.txt") for index in range(11)], "at most 10"),
    ],
)
def test_refused_files_store_nothing(operator_client, conversation, files, reason):
    response = post_files(operator_client, conversation, files, body="hi")

    assert response.status_code == 400
    assert reason in response.json()["fields"]["files"][0]
    assert not Message.objects.exists()
    assert not Attachment.objects.exists()


def test_files_over_the_size_limit_are_refused(operator_client, conversation):
    with mock.patch.object(attachments, "MAX_FILE_SIZE", 4):
        response = post_files(operator_client, conversation, [upload("big.txt", b"12345")])

    assert response.status_code == 400
    assert "larger than" in response.json()["detail"]
    assert not Attachment.objects.exists()


def test_an_empty_multipart_reply_is_refused(operator_client, conversation):
    response = post_files(operator_client, conversation, [])

    assert response.status_code == 400
    assert not Message.objects.exists()


def test_json_replies_behave_as_before(operator_client, conversation):
    url = f"/api/v1/conversations/{conversation.pk}/messages/"

    sent = operator_client.post(url, {"body": "Hello"}, format="json")
    empty = operator_client.post(url, {"body": ""}, format="json")

    assert sent.status_code == 201
    assert sent.json()["attachments"] == []
    assert empty.status_code == 400
    assert "body" in empty.json()["fields"]


def test_path_parts_of_uploaded_names_are_dropped(operator_client, conversation):
    response = post_files(operator_client, conversation, [upload("..\\..\\secret.txt")])

    assert response.json()["attachments"][0]["filename"] == "secret.txt"


def test_public_link_is_absolute_signed_and_serves_the_file_without_a_session(
    operator_client, conversation, client
):
    post_files(operator_client, conversation, [upload("doc.pdf", b"%PDF-1", "application/pdf")])
    attachment = Attachment.objects.get()

    url = attachment_public_url(attachment)

    assert url.startswith("https://desk.example.com/media/attachments/")
    parts = urlsplit(url)
    assert set(parse_qs(parts.query)) == {"expires", "signature"}
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1"


def test_a_tampered_or_expired_link_serves_nothing(operator_client, conversation, client):
    post_files(operator_client, conversation, [upload("doc.pdf", b"%PDF-1", "application/pdf")])
    attachment = Attachment.objects.get()
    expired = urlsplit(attachment_public_url(attachment, now=0))
    valid = urlsplit(attachment_public_url(attachment))
    other_path = valid.path.replace("doc", "other")

    assert client.get(f"{expired.path}?{expired.query}").status_code == 404
    assert client.get(f"{valid.path}?{valid.query[:-2]}xx").status_code == 404
    assert client.get(f"{other_path}?{valid.query}").status_code == 404
    assert client.get(valid.path).status_code in (401, 403)


def test_operators_still_open_files_of_their_conversations_with_their_session(
    operator_client, conversation
):
    response = post_files(operator_client, conversation, [upload("a.txt", b"abc")])

    url = response.json()["attachments"][0]["url"]

    assert url.startswith("/media/")
    assert operator_client.get(url).status_code == 200


def test_a_file_kept_only_on_its_platform_links_to_its_remote_url(conversation):
    message = Message.objects.create(
        conversation=conversation, channel=conversation.channel, direction="in", status="received"
    )
    remote = Attachment.objects.create(
        message=message, filename="a.jpg", remote_url="https://cdn.example.com/a.jpg"
    )

    assert attachment_public_url(remote) == "https://cdn.example.com/a.jpg"
