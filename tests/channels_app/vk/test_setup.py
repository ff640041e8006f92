"""Setting a VK channel up: its settings through the API, and `manage.py vk_setup`
pointing the community's Callback API at the channel."""

import pytest
from django.core.management import CommandError, call_command

from channels_app.models import Channel
from tests.channels_app.vk.helpers import GROUP_ID, SECRET_KEY
from tests.fakes.vk import ACCESS_TOKEN, AUTHORIZATION_FAILED
from tests.helpers import run_admin_action

pytestmark = pytest.mark.django_db


def test_a_vk_channel_is_created_through_the_api_with_its_secrets_write_only(admin_client_api):
    response = admin_client_api.post(
        "/api/v1/channels/",
        {
            "kind": "vk",
            "name": "Acme VK",
            "config": {
                "group_id": 218000001,
                "access_token": ACCESS_TOKEN,
                "secret_key": SECRET_KEY,
            },
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["config"] == {"group_id": GROUP_ID}
    assert response.json()["webhook_url"].endswith(f"/webhooks/vk/{response.json()['public_id']}/")
    channel = Channel.objects.get()
    assert channel.secrets["secret_key"] == SECRET_KEY
    # Each channel makes its own key for random_id, kept across later changes.
    key = channel.secrets["random_id_key"]
    assert len(key) >= 40
    admin_client_api.patch(
        f"/api/v1/channels/{channel.pk}/", {"config": {"secret_key": "n3w"}}, format="json"
    )
    channel.refresh_from_db()
    assert channel.secrets["random_id_key"] == key


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"group_id": "-218000001"}, "group_id"),
        ({"group_id": "acme"}, "group_id"),
        ({"group_id": "1", "secret_key": "has spaces"}, "secret_key"),
        ({"group_id": "1", "api_base_url": "ftp://vk"}, "api_base_url"),
    ],
)
def test_settings_vk_would_refuse_are_refused(admin_client_api, config, field):
    response = admin_client_api.post(
        "/api/v1/channels/",
        {
            "kind": "vk",
            "name": "Acme VK",
            "config": {"access_token": ACCESS_TOKEN, "secret_key": SECRET_KEY, **config},
        },
        format="json",
    )

    assert response.status_code == 400
    assert field in str(response.json())
    assert Channel.objects.count() == 0


def test_vk_setup_keeps_the_code_adds_the_server_and_turns_on_our_events(
    vk_channel, fake_vk, settings, capsys
):
    settings.PUBLIC_BASE_URL = "https://support.example.com"
    fake_vk.confirmation_code = "f00dcafe"

    call_command("vk_setup", str(vk_channel.pk))

    url = f"https://support.example.com/webhooks/vk/{vk_channel.public_id}/"
    [server] = fake_vk.callback_servers
    assert (server["url"], server["secret_key"], server["group_id"]) == (url, SECRET_KEY, GROUP_ID)
    assert fake_vk.callback_settings["api_version"] == "5.199"
    assert fake_vk.callback_settings["server_id"] == "1"
    for event_type in (
        "message_new",
        "message_edit",
        "message_event",
        "message_allow",
        "message_deny",
    ):
        assert fake_vk.callback_settings[event_type] == "1"
    vk_channel.refresh_from_db()
    assert vk_channel.secrets["confirmation_code"] == "f00dcafe"
    assert url in capsys.readouterr().out


def test_vk_setup_run_again_updates_the_server_it_added(vk_channel, fake_vk):
    call_command("vk_setup", str(vk_channel.public_id))
    call_command("vk_setup", str(vk_channel.public_id))

    assert len(fake_vk.callback_servers) == 1
    assert len(fake_vk.calls_to("groups.editCallbackServer")) == 1


def test_vk_setup_says_why_vk_refused(vk_channel, fake_vk):
    fake_vk.fail_next(AUTHORIZATION_FAILED)

    with pytest.raises(CommandError, match="access_token"):
        call_command("vk_setup", str(vk_channel.pk))

    assert fake_vk.callback_servers == []


def test_the_admin_action_connects_the_callback_api(
    client, admin_user, settings, vk_channel, fake_vk
):
    settings.PUBLIC_BASE_URL = "https://support.example.com"

    shown = run_admin_action(client, admin_user, settings, "set_up_vk_callback_server", vk_channel)

    url = f"https://support.example.com/webhooks/vk/{vk_channel.public_id}/"
    assert shown == [f"{vk_channel}: VK sends the community's messages to {url}"]
    assert [server["url"] for server in fake_vk.callback_servers] == [url]


def test_the_admin_action_shows_vks_refusal(client, admin_user, settings, vk_channel, fake_vk):
    fake_vk.fail_next(AUTHORIZATION_FAILED)

    shown = run_admin_action(client, admin_user, settings, "set_up_vk_callback_server", vk_channel)

    assert len(shown) == 1 and "access_token" in shown[0]
    assert fake_vk.callback_servers == []
