"""Setting up a Telegram channel: its settings, and registering the bot's webhook."""

import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from channels_app.models import Channel
from tests.channels_app.telegram.helpers import (
    ALLOWED_UPDATES,
    BOT_TOKEN,
    WEBHOOK_SECRET,
    post_update,
    update_body,
)

pytestmark = pytest.mark.django_db


# Setting up a channel


def test_an_admin_creates_a_telegram_channel_with_write_only_secrets(admin_client_api):
    response = admin_client_api.post(
        "/api/v1/channels/",
        {
            "kind": "telegram",
            "name": "Acme bot",
            "config": {"bot_token": "7012345678:AAH-secretpart_x", "webhook_secret": "abc_DEF-1"},
        },
        format="json",
    )

    assert response.status_code == 201
    data = response.json()
    channel = Channel.objects.get(pk=data["id"])
    assert data["webhook_url"].endswith(f"/webhooks/telegram/{channel.public_id}/")
    assert data["config"] == {}
    assert data["secrets_set"] == ["bot_token", "webhook_secret"]
    assert "AAH-secretpart_x" not in response.content.decode()
    assert channel.secrets["bot_token"] == "7012345678:AAH-secretpart_x"


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"webhook_secret": "abc"}, "bot_token"),
        ({"bot_token": "123:ABC"}, "webhook_secret"),
        ({"bot_token": "not a token", "webhook_secret": "abc"}, "bot_token"),
        ({"bot_token": "123:ABC", "webhook_secret": "has spaces!"}, "webhook_secret"),
        (
            {"bot_token": "123:ABC", "webhook_secret": "a", "api_base_url": "ftp://x"},
            "api_base_url",
        ),
        ({"bot_token": "123:ABC", "webhook_secret": "a", "api_base_url": 5}, "api_base_url"),
    ],
)
def test_an_invalid_telegram_config_is_refused(admin_client_api, config, field):
    response = admin_client_api.post(
        "/api/v1/channels/", {"kind": "telegram", "name": "Bot", "config": config}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["fields"]["config"]
    assert Channel.objects.count() == 0


def test_the_set_webhook_command_registers_url_secret_and_update_kinds(
    telegram_channel, fake_telegram, settings, client
):
    settings.PUBLIC_BASE_URL = "https://support.example.com"
    out = StringIO()

    call_command("telegram_set_webhook", str(telegram_channel.pk), stdout=out)

    webhook_url = f"https://support.example.com/webhooks/telegram/{telegram_channel.public_id}/"
    assert fake_telegram.webhook == {
        "url": webhook_url,
        "secret_token": WEBHOOK_SECRET,
        "allowed_updates": ALLOWED_UPDATES,
        "drop_pending_updates": False,
    }
    output = out.getvalue()
    assert "Telegram answered: Webhook was set" in output
    assert webhook_url in output
    assert BOT_TOKEN not in output
    # Telegram will now call us with that secret, which the webhook accepts.
    secret = fake_telegram.webhook["secret_token"]
    response = post_update(client, telegram_channel, update_body("message_text"), secret=secret)
    assert response.status_code == 200


def test_the_set_webhook_command_takes_a_public_id_and_can_drop_pending_updates(
    telegram_channel, fake_telegram, settings
):
    settings.PUBLIC_BASE_URL = "https://support.example.com"

    call_command(
        "telegram_set_webhook",
        str(telegram_channel.public_id),
        "--drop-pending-updates",
        stdout=StringIO(),
    )

    assert fake_telegram.webhook["drop_pending_updates"] is True


def test_the_set_webhook_command_reports_telegrams_refusal(telegram_channel, fake_telegram):
    # PUBLIC_BASE_URL is the default http://127.0.0.1:8000: Telegram wants HTTPS.
    with pytest.raises(CommandError, match="An HTTPS URL must be provided for webhook"):
        call_command("telegram_set_webhook", str(telegram_channel.pk), stdout=StringIO())

    assert fake_telegram.webhook == {}


@pytest.mark.parametrize("reference", ["999999", str(uuid.uuid4()), "not-a-channel"])
def test_the_set_webhook_command_refuses_an_unknown_channel(
    telegram_channel, fake_telegram, reference
):
    with pytest.raises(CommandError, match="no channel"):
        call_command("telegram_set_webhook", reference, stdout=StringIO())

    assert fake_telegram.calls == []


def test_the_set_webhook_command_refuses_a_channel_of_another_kind(channel, fake_telegram):
    with pytest.raises(CommandError, match="not a Telegram one"):
        call_command("telegram_set_webhook", str(channel.pk), stdout=StringIO())

    assert fake_telegram.calls == []


def test_the_admin_action_registers_the_webhook(
    admin_pages, client, admin_user, telegram_channel, fake_telegram, settings
):
    settings.PUBLIC_BASE_URL = "https://support.example.com"
    client.force_login(admin_user)

    response = client.post(
        "/admin/channels_app/channel/",
        {"action": "register_telegram_webhook", "_selected_action": [telegram_channel.pk]},
        follow=True,
    )

    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"]]
    assert any("Webhook was set" in message for message in shown)
    assert fake_telegram.webhook["secret_token"] == WEBHOOK_SECRET


def test_the_admin_action_shows_telegrams_refusal(
    admin_pages, client, admin_user, telegram_channel, fake_telegram
):
    client.force_login(admin_user)

    response = client.post(
        "/admin/channels_app/channel/",
        {"action": "register_telegram_webhook", "_selected_action": [telegram_channel.pk]},
        follow=True,
    )

    shown = [str(message) for message in response.context["messages"]]
    assert any("An HTTPS URL must be provided" in message for message in shown)
    assert fake_telegram.webhook == {}
