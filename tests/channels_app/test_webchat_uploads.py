"""Visitor attachments: `POST /widget/<public_id>/uploads/`."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from channels_app.models import WebhookEvent
from channels_app.widget.visitors import Visitor, visitor_token
from inbox.models import Attachment, Message
from tests.factories import WEBCHAT_ORIGIN, WebchatChannelFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def webchat(team):
    return WebchatChannelFactory(teams=[team])


def upload(client, channel, *, file=None, token=None, origin=WEBCHAT_ORIGIN, **fields):
    headers = {"Origin": origin} if origin else {}
    if token is not False:
        headers["X-Switchboard-Visitor"] = token or visitor_token(
            public_id=str(channel.public_id), visitor=Visitor(visitor_id="v" * 32)
        )
    data = {**fields}
    if file is not None:
        data["file"] = file
    return client.post(f"/widget/{channel.public_id}/uploads/", data=data, headers=headers)


def test_an_image_is_stored_as_a_message_with_its_attachment(client, webchat):
    response = upload(
        client,
        webchat,
        file=SimpleUploadedFile("photo.png", PNG, content_type="image/png"),
        text="The damaged box",
    )

    assert response.status_code == 201, response.content
    assert response["Access-Control-Allow-Origin"] == WEBCHAT_ORIGIN
    message = Message.objects.get(channel=webchat)
    assert message.body == "The damaged box"
    attachment = Attachment.objects.get(message=message)
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "photo.png",
        "image/png",
        len(PNG),
    )
    assert response.json()["message"]["attachments"][0]["filename"] == "photo.png"


def test_a_file_is_stored_once_and_the_raw_event_names_it(client, webchat, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    content = PNG + bytes(range(256)) * 4096  # a megabyte

    for _ in range(2):  # the second is the widget trying again after a lost answer
        response = upload(
            client,
            webchat,
            file=SimpleUploadedFile("scan.png", content, content_type="image/png"),
            client_id="retry-of-one-upload",
        )
        assert response.status_code == 201, response.content

    attachment = Attachment.objects.get()
    assert attachment.file.read() == content
    stored_files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert stored_files == [tmp_path / attachment.file.name]
    first, retry = WebhookEvent.objects.filter(channel=webchat).order_by("id")
    assert max(len(bytes(first.body)), len(bytes(retry.body))) < 2_000
    assert json.loads(bytes(first.body))["attachments"][0]["stored_name"] == (attachment.file.name)


def test_the_preflight_is_answered_for_an_allowed_page_only(client, webchat):
    allowed = client.options(
        f"/widget/{webchat.public_id}/uploads/", headers={"Origin": WEBCHAT_ORIGIN}
    )
    other = client.options(
        f"/widget/{webchat.public_id}/uploads/", headers={"Origin": "https://evil.example"}
    )

    assert allowed.status_code == 204
    assert "X-Switchboard-Visitor" in allowed["Access-Control-Allow-Headers"]
    assert other.status_code == 404 and "Access-Control-Allow-Origin" not in other


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        (
            {"file": SimpleUploadedFile("run.exe", b"MZ", content_type="application/x-msdownload")},
            415,
        ),
        ({"file": SimpleUploadedFile("page.html", b"<script>", content_type="text/html")}, 415),
        ({}, 400),
        (
            {"file": SimpleUploadedFile("a.png", PNG, content_type="image/png"), "token": "forged"},
            401,
        ),
        ({"file": SimpleUploadedFile("a.png", PNG, content_type="image/png"), "token": False}, 401),
        (
            {
                "file": SimpleUploadedFile("a.png", PNG, content_type="image/png"),
                "origin": "https://evil.example",
            },
            404,
        ),
    ],
)
def test_refused_uploads_store_nothing(client, webchat, kwargs, status):
    response = upload(client, webchat, **kwargs)

    assert response.status_code == status
    assert response.json()["error"]
    assert not Message.objects.exists()


def test_a_file_over_ten_megabytes_is_refused(client, webchat):
    big = SimpleUploadedFile(
        "big.pdf", b"%PDF" + b"0" * (10 * 1024 * 1024), content_type="application/pdf"
    )

    response = upload(client, webchat, file=big)

    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("language", "detail"),
    [
        ("ru", "Можно отправлять только изображения, PDF, текстовые файлы и офисные документы."),
        ("pl", "Można wysyłać tylko obrazy, pliki PDF, pliki tekstowe i dokumenty biurowe."),
    ],
)
def test_a_refused_file_is_explained_in_the_visitors_language(client, webchat, language, detail):
    program = SimpleUploadedFile("setup.exe", b"MZ", content_type="application/x-msdownload")

    response = client.post(
        f"/widget/{webchat.public_id}/uploads/",
        data={"file": program},
        headers={
            "Origin": WEBCHAT_ORIGIN,
            "X-Switchboard-Visitor": visitor_token(
                public_id=str(webchat.public_id), visitor=Visitor(visitor_id="v" * 32)
            ),
            "Accept-Language": f"{language}-{language.upper()}",
        },
    )

    assert response.status_code == 415
    assert response.json() == {"error": "unsupported_type", "detail": detail}
    assert not Message.objects.exists()
