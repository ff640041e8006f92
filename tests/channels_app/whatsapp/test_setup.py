"""Setting up a WhatsApp channel: its settings, and Meta's GET handshake."""

import pytest

from channels_app.adapters.base import ConfigInvalid
from channels_app.services import channel_create
from tests.channels_app.whatsapp.helpers import (
    VERIFY_TOKEN,
    whatsapp_config,
)
from tests.factories import ChannelFactory
from tests.fakes.whatsapp import (
    ACCESS_TOKEN,
    PHONE_NUMBER_ID,
)
from tests.helpers import stored_counts

pytestmark = pytest.mark.django_db

SURVEY_TEMPLATE = {"name": "rate_us", "languages": {"en": "en_US", "ru": "ru"}, "buttons": "url"}


# Creating the channel


def test_creating_a_whatsapp_channel_through_the_api_keeps_secrets_write_only(
    admin_client_api, graph_api
):
    response = admin_client_api.post(
        "/api/v1/channels/",
        {
            "kind": "whatsapp",
            "name": "WhatsApp support",
            "config": whatsapp_config(
                graph_api, fallback_template={"name": "reopen_chat", "language": "en_US"}
            ),
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    channel = response.json()
    assert f"/webhooks/whatsapp/{channel['public_id']}/" in channel["webhook_url"]
    assert channel["config"] == {
        "phone_number_id": PHONE_NUMBER_ID,
        "api_base_url": graph_api.url,
        "fallback_template": {"name": "reopen_chat", "language": "en_US"},
    }
    assert channel["secrets_set"] == ["access_token", "app_secret", "verify_token"]
    assert ACCESS_TOKEN not in response.content.decode()


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"phone_number_id": None}, "phone_number_id"),
        ({"access_token": None}, "access_token"),
        ({"app_secret": None}, "app_secret"),
        ({"verify_token": None}, "verify_token"),
        ({"phone_number_id": 106540352242922}, "phone_number_id"),
        ({"phone_number_id": "+1 555 0783"}, "phone_number_id"),
        ({"api_base_url": "ftp://graph.example.com"}, "api_base_url"),
        ({"fallback_template": "reopen_chat"}, "fallback_template"),
        ({"fallback_template": {"name": "reopen_chat"}}, "fallback_template"),
        ({"fallback_template": {"name": "x", "language": "en", "colour": 1}}, "fallback_template"),
        ({"survey_template": "rate_us"}, "survey_template"),
        ({"survey_template": {"name": "rate_us", "buttons": "url"}}, "survey_template"),
        ({"survey_template": {**SURVEY_TEMPLATE, "languages": {}}}, "survey_template"),
        ({"survey_template": {**SURVEY_TEMPLATE, "languages": {"en": 1}}}, "survey_template"),
        ({"survey_template": {**SURVEY_TEMPLATE, "languages": {"EN!": "en"}}}, "survey_template"),
        ({"survey_template": {**SURVEY_TEMPLATE, "buttons": "list"}}, "survey_template"),
        ({"survey_template": {**SURVEY_TEMPLATE, "colour": "red"}}, "survey_template"),
        ({"survey_template": {**SURVEY_TEMPLATE, "name": " "}}, "survey_template"),
        ({"unexpected": "value"}, "unexpected"),
    ],
)
def test_a_whatsapp_channel_refuses_a_config_it_cannot_work_with(graph_api, change, key):
    config = {
        name: value
        for name, value in {**whatsapp_config(graph_api), **change}.items()
        if value is not None
    }

    with pytest.raises(ConfigInvalid) as raised:
        channel_create(kind="whatsapp", name="WhatsApp", config=config)

    assert key in raised.value.errors


def test_a_survey_template_is_kept_and_shown_back_through_the_api(admin_client_api, graph_api):
    template = {**SURVEY_TEMPLATE, "buttons": "quick_reply"}

    response = admin_client_api.post(
        "/api/v1/channels/",
        {
            "kind": "whatsapp",
            "name": "WhatsApp support",
            "config": whatsapp_config(graph_api, survey_template=template),
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["config"]["survey_template"] == template


def test_a_bad_survey_template_is_a_400_naming_it(admin_client_api, graph_api):
    response = admin_client_api.post(
        "/api/v1/channels/",
        {
            "kind": "whatsapp",
            "name": "WhatsApp support",
            "config": whatsapp_config(
                graph_api, survey_template={**SURVEY_TEMPLATE, "buttons": "flow"}
            ),
        },
        format="json",
    )

    assert response.status_code == 400
    assert "survey_template" in response.content.decode()


# Meta's GET handshake


def verification(client, channel, **params: str):
    return client.get(f"/webhooks/whatsapp/{channel.public_id}/", params)


def test_the_handshake_with_the_right_verify_token_echoes_the_challenge(client, whatsapp_channel):
    response = verification(
        client,
        whatsapp_channel,
        **{
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"},
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN[:-1], "hub.challenge": "42"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"},
        {"hub.mode": "subscribe", "hub.challenge": "1158201444"},
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN},
        {"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"},
        {},
    ],
)
def test_the_handshake_is_refused_without_the_right_token_and_parameters(
    client, whatsapp_channel, params
):
    response = verification(client, whatsapp_channel, **params)

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert b"1158201444" not in response.content
    assert stored_counts() == (0, 0, 0, 0)


def test_the_handshake_on_an_unknown_channel_is_404(client, whatsapp_channel):
    other = ChannelFactory()  # an API channel: wrong kind for this URL

    response = verification(
        client,
        other,
        **{"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"},
    )

    assert response.status_code == 404
