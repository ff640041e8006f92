"""Setting a Messenger channel up: its settings through the API, the page's webhook
subscription by command, and the files customers send fetched after commit."""

import json
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from channels_app.adapters.meta import media
from channels_app.registry import adapter_for
from channels_app.services import attachment_fetch_media, channel_update
from customers.models import Customer
from inbox.models import Attachment
from inbox.services import message_reply
from tests.channels_app.messenger.helpers import PSID, fixture_json, post_fixture, post_payload
from tests.channels_app.meta_messaging import MESSENGER, customer_wrote, delivered, first_item
from tests.factories import ChannelFactory
from tests.fakes.meta_messaging import (
    INSTAGRAM_ACCOUNT_ID,
    PAGE_ACCESS_TOKEN,
    PAGE_ID,
    PERMISSION_MISSING,
)

pytestmark = pytest.mark.django_db


# Settings


def test_a_channel_is_created_through_the_api_with_write_only_secrets(admin_client, send_api):
    response = admin_client.post(
        "/api/v1/channels/",
        {
            "kind": "messenger",
            "name": "Lumen Home page",
            "config": {
                "page_id": PAGE_ID,
                "page_access_token": PAGE_ACCESS_TOKEN,
                "app_secret": "app-secret",
                "verify_token": "verify",
                "human_agent_tag": True,
            },
        },
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["config"] == {"page_id": PAGE_ID, "human_agent_tag": True}
    assert f"/webhooks/messenger/{body['public_id']}/" in body["webhook_url"]


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"page_id": 104650038930722}, "page_id"),
        ({"human_agent_tag": "yes"}, "human_agent_tag"),
        ({"api_base_url": "graph.facebook.com"}, "api_base_url"),
        ({"page_access_token": None}, "page_access_token"),
    ],
)
def test_wrong_settings_are_refused_by_name(admin_client, config, key):
    full = {
        "page_id": PAGE_ID,
        "page_access_token": PAGE_ACCESS_TOKEN,
        "app_secret": "app-secret",
        "verify_token": "verify",
        **config,
    }
    response = admin_client.post(
        "/api/v1/channels/",
        {"kind": "messenger", "name": "Page", "config": full},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert key in json.dumps(response.json())


# Where the Send API is: <api_base_url>/<version>/...


@pytest.mark.parametrize(
    ("kind", "api_base_url", "messages_url"),
    [
        ("messenger", None, "https://graph.facebook.com/v26.0/me/messages"),
        ("messenger", "https://graph.facebook.com", "https://graph.facebook.com/v26.0/me/messages"),
        (
            "messenger",
            "https://graph.facebook.com/v26.0/",
            "https://graph.facebook.com/v26.0/me/messages",
        ),
        (
            "messenger",
            "https://graph.facebook.com/v27.0",
            "https://graph.facebook.com/v27.0/me/messages",
        ),
        ("instagram", None, f"https://graph.instagram.com/v26.0/{INSTAGRAM_ACCOUNT_ID}/messages"),
        (
            "instagram",
            "https://graph.facebook.com",
            f"https://graph.facebook.com/v26.0/{INSTAGRAM_ACCOUNT_ID}/messages",
        ),
    ],
)
def test_the_version_is_added_to_a_base_url_without_one_and_never_twice(
    kind, api_base_url, messages_url
):
    config = {"page_id": PAGE_ID, "instagram_account_id": INSTAGRAM_ACCOUNT_ID}
    if api_base_url is not None:
        config["api_base_url"] = api_base_url
    adapter = adapter_for(ChannelFactory(kind=kind, config=config))

    send_api = adapter.send_api()

    assert send_api.url(send_api.messages_path()) == messages_url


def test_a_reply_goes_to_the_versioned_path_of_a_base_url_given_without_version(
    client, messenger_channel, operator, send_api
):
    channel_update(channel=messenger_channel, config={"api_base_url": send_api.root})
    conversation = customer_wrote(client, messenger_channel, MESSENGER, at=datetime.now(UTC))

    delivered(message_reply(conversation=conversation, author=operator, body="Hello"))

    [request] = send_api.requests
    assert request.path == "/v26.0/me/messages"


# The webhook subscription


def test_the_subscribe_command_subscribes_the_page_to_every_field_we_read(
    messenger_channel, send_api, capsys
):
    call_command("messenger_subscribe", str(messenger_channel.public_id))

    [request] = send_api.requests
    assert (request.method, request.path) == ("POST", f"/v26.0/{PAGE_ID}/subscribed_apps")
    assert request.headers["authorization"] == f"Bearer {PAGE_ACCESS_TOKEN}"
    assert request.query["subscribed_fields"].split(",") == [
        "messages", "messaging_postbacks", "message_deliveries", "message_reads",
        "message_echoes", "message_reactions", "message_edits",
    ]  # fmt: skip
    assert "message_echoes" in capsys.readouterr().out


def test_the_subscribe_command_says_why_meta_refused(messenger_channel, send_api):
    send_api.fail_next(PERMISSION_MISSING, endpoint="subscribed_apps")

    with pytest.raises(CommandError, match="does not have permission"):
        call_command("messenger_subscribe", str(messenger_channel.pk))


def test_the_subscribe_command_refuses_a_channel_of_another_kind(channel):
    with pytest.raises(CommandError, match="not messenger"):
        call_command("messenger_subscribe", str(channel.pk))


# Files customers send

JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40 + b"\xff\xd9"


def received_image(client, channel, url: str) -> Attachment:
    payload = fixture_json("image")
    first_item(payload)["message"]["attachments"][0]["payload"]["url"] = url
    post_payload(client, channel, payload)
    return Attachment.objects.get()


def test_a_received_image_is_fetched_into_storage_without_the_token(
    client, messenger_channel, send_api, media_root
):
    url = send_api.add_file("scratch.jpg", JPEG_BYTES, "image/jpeg")
    attachment = received_image(client, messenger_channel, url)

    assert attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=3) is None

    attachment.refresh_from_db()
    assert attachment.file.read() == JPEG_BYTES
    assert (attachment.size, attachment.content_type) == (len(JPEG_BYTES), "image/jpeg")
    [download] = send_api.requests
    assert "authorization" not in download.headers


def test_a_file_over_the_cap_is_not_stored_and_says_why(
    client, messenger_channel, send_api, media_root, monkeypatch
):
    monkeypatch.setattr(media, "MAX_MEDIA_BYTES", 1000)
    url = send_api.add_file("huge.jpg", JPEG_BYTES, "image/jpeg")
    attachment = received_image(client, messenger_channel, url)

    attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=3)

    attachment.refresh_from_db()
    assert not attachment.file
    assert "over 1000 bytes" in attachment.fetch_error


def test_an_expired_link_fails_for_good(client, messenger_channel, send_api, media_root):
    attachment = received_image(client, messenger_channel, send_api.cdn_url("gone.jpg"))

    assert attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=3) is None

    attachment.refresh_from_db()
    assert "expired" in attachment.fetch_error


def test_a_plain_http_link_to_another_host_is_never_fetched(messenger_channel):
    from channels_app.contracts import DeliveryFailed

    with pytest.raises(DeliveryFailed, match="no https URL"):
        adapter_for(messenger_channel).fetch_media("http://169.254.169.254/latest/meta-data")


# Names from the profile API


def test_a_new_senders_name_is_asked_of_the_profile_api_after_commit(
    client, messenger_channel, send_api, monkeypatch, django_capture_on_commit_callbacks
):
    from channels_app import sender_profiles
    from config.celery import app as celery_app

    sent_tasks = []
    monkeypatch.setattr(
        celery_app, "send_task", lambda name, args, **options: sent_tasks.append(args)
    )
    send_api.profiles[PSID] = {"first_name": "Peter", "last_name": "Chang", "profile_pic": "x"}

    with django_capture_on_commit_callbacks(execute=True):
        post_fixture(client, messenger_channel, "text")
    [(channel_id, address)] = sent_tasks
    name = sender_profiles.sender_name_fetch(channel_id=channel_id, address=address)

    assert name == "Peter Chang"
    assert Customer.objects.get().name == "Peter Chang"
    [lookup] = send_api.requests_to("profile")
    assert lookup.path == f"/v26.0/{PSID}"
    assert lookup.query["fields"] == "first_name,last_name"


def test_a_refused_profile_leaves_the_customer_unnamed_and_is_not_asked_again(
    client, messenger_channel, send_api
):
    from channels_app import sender_profiles

    post_fixture(client, messenger_channel, "text")

    for _ in range(2):
        name = sender_profiles.sender_name_fetch(channel_id=messenger_channel.pk, address=PSID)

    assert name == ""
    assert Customer.objects.get().name == ""
    assert len(send_api.requests_to("profile")) == 1
