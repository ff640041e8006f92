"""Outbound calls to addresses someone typed never reach loopback, private, link-local or
metadata addresses unless OUTBOUND_ALLOWED_NETWORKS names them; files an API-channel
message links to are fetched through the same guard into our storage."""

import json
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

import pytest

from channels_app.adapters.whatsapp.graph_api import GraphApi
from channels_app.contracts import DeliveryFailed, WebhookRequest
from channels_app.http import http_client
from channels_app.registry import adapter_for
from channels_app.services import media_fetch, message_deliver
from inbox.models import Attachment, MessageStatus
from inbox.services import message_reply
from tests.factories import ChannelFactory, ConversationFactory, MessageFactory
from tests.failure_reasons import reason_text
from tests.fakes.server import FakeServer

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def loopback_refused(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []


@dataclass
class FileServer(FakeServer[None]):
    """A customer's web server, serving one image."""

    http_methods = ("GET",)
    hits: int = 0

    def _handle(self, handler: BaseHTTPRequestHandler, http_method: str) -> None:
        self.hits += 1
        self._answer(handler, 200, PNG, "image/png")


@pytest.fixture
def file_server():
    server = FileServer().start()
    yield server
    server.stop()


def a_reply_to(channel, operator):
    conversation = ConversationFactory(channel=channel, recipient_address="u-1")
    return message_reply(conversation=conversation, author=operator, body="Hello")


def test_a_callback_url_on_loopback_is_refused_and_nothing_is_sent(
    loopback_refused, channel, operator, callback_server
):
    channel.config = {"callback_url": callback_server.url}
    channel.save()
    reply = a_reply_to(channel, operator)

    assert message_deliver(message_id=reply.pk, attempt=1, max_attempts=3) is None

    reply.refresh_from_db()
    assert reply.status == MessageStatus.FAILED
    assert reason_text(reply).startswith("Refused to connect to 127.0.0.1")
    assert callback_server.requests == []


def test_an_allowed_network_is_reached(settings, channel, operator, callback_server):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    channel.config = {"callback_url": callback_server.url}
    channel.save()
    reply = a_reply_to(channel, operator)

    assert message_deliver(message_id=reply.pk, attempt=1, max_attempts=3) is None

    reply.refresh_from_db()
    assert reply.status == MessageStatus.SENT
    assert len(callback_server.requests) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/internal",
        "http://127.0.0.1:6379/",
        "http://localhost/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://100.100.100.200/latest/",
        "http://0.0.0.0/",
    ],
)
def test_private_and_metadata_addresses_are_refused_before_any_connection(loopback_refused, url):
    with pytest.raises(DeliveryFailed, match="address_refused") as refused:
        http_client().get(url)

    assert refused.value.is_retryable is False


@pytest.mark.parametrize(
    ("kind", "key", "url"),
    [
        ("api", "callback_url", "http://169.254.169.254/latest/meta-data/"),
        ("api", "callback_url", "https://10.0.0.7/hook"),
        ("telegram", "api_base_url", "http://127.0.0.1:8081"),
    ],
)
def test_an_admin_cannot_save_an_address_that_would_be_refused(
    loopback_refused, admin_client_api, kind, key, url
):
    config = {"api": {"secret": "s3cret"}, "telegram": {"bot_token": "1:x"}}[kind]
    response = admin_client_api.post(
        "/api/v1/channels/",
        {"kind": kind, "name": "Shop", "config": {**config, key: url}},
        format="json",
    )

    assert response.status_code == 400
    assert key in str(response.json())


def test_a_linked_file_is_fetched_into_our_storage(settings, tmp_path, file_server):
    settings.MEDIA_ROOT = tmp_path
    attachment = linked_attachment(f"{file_server.root}/photo.png")

    media_fetch.attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=1)

    attachment.refresh_from_db()
    assert attachment.file and attachment.file.read() == PNG
    assert attachment.url.startswith("/media/")
    assert attachment.content_type == "image/png" and attachment.fetch_error == ""


def test_a_linked_file_on_a_refused_address_stays_a_link(
    loopback_refused, settings, tmp_path, file_server
):
    settings.MEDIA_ROOT = tmp_path
    attachment = linked_attachment(f"{file_server.root}/photo.png")

    media_fetch.attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=1)

    attachment.refresh_from_db()
    assert not attachment.file and file_server.hits == 0
    assert attachment.fetch_error.startswith("Refused to connect")


def test_a_linked_file_over_the_limit_is_not_kept(settings, tmp_path, file_server):
    settings.MEDIA_ROOT = tmp_path
    settings.REMOTE_ATTACHMENT_MAX_BYTES = 10
    attachment = linked_attachment(f"{file_server.root}/photo.png")

    media_fetch.attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=1)

    attachment.refresh_from_db()
    assert not attachment.file and "over 10 bytes" in attachment.fetch_error


def linked_attachment(url: str) -> Attachment:
    """What an API-channel message with `attachments: [{"url": ...}]` stores."""
    body = json.dumps(
        {
            "id": "m1",
            "sender": {"id": "s1"},
            "attachments": [{"url": url, "content_type": "image/png", "filename": "photo.png"}],
        }
    ).encode()
    channel = ChannelFactory(kind="api")
    [inbound] = adapter_for(channel).parse(WebhookRequest(body=body, headers={}))
    [item] = inbound.attachments
    assert item.media_id == url
    message = MessageFactory(conversation=ConversationFactory(channel=channel))
    return Attachment.objects.create(
        message=message,
        remote_url=item.url,
        media_id=item.media_id,
        filename=item.filename,
        content_type=item.content_type,
    )


@pytest.mark.parametrize(
    ("url", "is_sent_the_token"),
    [
        ("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1", True),
        ("https://scontent.xx.fbcdn.net/v/t1/1.jpg", True),
        ("https://evil.example/steal", False),
        ("https://fbsbx.com.evil.example/x", False),
        ("http://lookaside.fbsbx.com/x", False),
    ],
)
def test_whatsapps_token_goes_only_to_metas_media_hosts(url, is_sent_the_token):
    channel = ChannelFactory(kind="whatsapp", config={})

    assert GraphApi(channel).may_receive_token(url) is is_sent_the_token
