import pytest

from channels_app.models import Channel
from tests.channels_app.test_api_webhook import post_webhook
from tests.factories import ChannelFactory
from tests.helpers import api_payload

pytestmark = pytest.mark.django_db


def test_an_admin_creates_an_api_channel_and_secrets_stay_write_only(
    admin_client_api, team, client
):
    response = admin_client_api.post(
        "/api/v1/channels/",
        {
            "kind": "api",
            "name": "Shop backend",
            "config": {"secret": "s3cr3t-value", "callback_url": "https://shop.example.com/hook"},
            "teams": [team.pk],
            "csat": {"delay_seconds": 60},
        },
        format="json",
    )

    assert response.status_code == 201
    data = response.json()
    channel = Channel.objects.get(pk=data["id"])
    assert data["public_id"] == str(channel.public_id)
    assert data["webhook_url"].endswith(f"/webhooks/api/{channel.public_id}/")
    assert data["config"] == {"callback_url": "https://shop.example.com/hook"}
    assert data["secrets_set"] == ["secret"]
    assert data["csat"]["delay_seconds"] == 60 and data["csat"]["enabled"] is True
    assert "s3cr3t-value" not in response.content.decode()
    assert "s3cr3t-value" not in channel.secrets_encrypted
    assert channel.secrets == {"secret": "s3cr3t-value"}
    assert admin_client_api.get("/api/v1/channels/").json()[0]["id"] == channel.pk
    assert "s3cr3t-value" not in admin_client_api.get("/api/v1/channels/").content.decode()

    assert post_webhook(client, channel, api_payload(), signature=None).status_code == 401
    from tests.helpers import sign

    body = api_payload()
    assert (
        post_webhook(client, channel, body, signature=sign(body, "s3cr3t-value")).status_code == 200
    )


def test_updating_a_channel_keeps_secrets_not_given(admin_client_api, channel):
    response = admin_client_api.patch(
        f"/api/v1/channels/{channel.pk}/",
        {"name": "Renamed", "config": {"callback_url": "https://new.example.com/"}},
        format="json",
    )

    assert response.status_code == 200
    channel.refresh_from_db()
    assert channel.name == "Renamed"
    assert channel.config["callback_url"] == "https://new.example.com/"
    assert channel.secrets == {"secret": "test-channel-secret"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "api", "name": "x", "config": {}}, "config"),
        ({"kind": "api", "name": "x", "config": {"secret": "s", "bogus": 1}}, "config"),
        (
            {"kind": "api", "name": "x", "config": {"secret": "s", "callback_url": "ftp://x"}},
            "config",
        ),
        ({"kind": "carrier-pigeon", "name": "x", "config": {}}, "kind"),
        ({"kind": "api", "config": {"secret": "s"}}, "name"),
    ],
)
def test_invalid_channel_input_is_a_json_400(admin_client_api, body, field):
    response = admin_client_api.post("/api/v1/channels/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert Channel.objects.count() == 0


def test_only_admins_manage_channels(operator_client, supervisor_client, channel):
    for api in (operator_client, supervisor_client):
        assert api.get("/api/v1/channels/").status_code == 403
        assert api.post("/api/v1/channels/", {}, format="json").status_code == 403
        assert (
            api.patch(f"/api/v1/channels/{channel.pk}/", {"name": "x"}, format="json").status_code
            == 403
        )


def test_deleting_a_channel_with_history_deactivates_it(admin_client_api, channel, client):
    post_webhook(client, channel, api_payload())

    assert admin_client_api.delete(f"/api/v1/channels/{channel.pk}/").status_code == 204

    channel.refresh_from_db()
    assert channel.is_active is False
    assert post_webhook(client, channel, api_payload(message_id="m-2")).status_code == 404


@pytest.mark.parametrize(
    ("csat", "field"),
    [
        ({"delay_seconds": "soon"}, "delay_seconds"),
        ({"delay_seconds": -5}, "delay_seconds"),
        ({"expiry_days": 0}, "expiry_days"),
        ({"enabled": "maybe"}, "enabled"),
        ({"delay": 60}, "delay"),
        ("weekly", "non_field_errors"),
    ],
)
def test_survey_settings_are_checked_before_they_are_kept(admin_client_api, csat, field):
    channel = ChannelFactory()

    response = admin_client_api.patch(
        f"/api/v1/channels/{channel.pk}/", {"csat": csat}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["fields"]["csat"]
    channel.refresh_from_db()
    assert "delay" not in channel.csat and channel.csat.get("delay_seconds") != "soon"
