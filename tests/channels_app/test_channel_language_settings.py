"""A channel's language and its survey texts per language, through the channels API."""

import pytest

from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def patch_channel(api, channel, body):
    return api.patch(f"/api/v1/channels/{channel.pk}/", body, format="json")


def test_every_kind_takes_a_language_for_its_customers(admin_client_api):
    response = admin_client_api.post(
        "/api/v1/channels/",
        {
            "kind": "api",
            "name": "Sklep",
            "config": {"secret": "s3cret", "language": "pl-PL"},
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["config"] == {"language": "pl"}


@pytest.mark.parametrize("language", ["de", 5, "polish"])
def test_a_language_the_product_does_not_speak_is_refused(admin_client_api, language):
    channel = ChannelFactory()

    response = patch_channel(admin_client_api, channel, {"config": {"language": language}})

    assert response.status_code == 400
    assert "language" in str(response.json())
    channel.refresh_from_db()
    assert "language" not in channel.config


def test_survey_texts_are_one_for_all_or_one_per_language(admin_client_api):
    channel = ChannelFactory()

    response = patch_channel(
        admin_client_api,
        channel,
        {
            "csat": {
                "question": {"ru": "Вам помогли?", "en": "Did we help?"},
                "thank_you": "Dzięki!",
            }
        },
    )

    assert response.status_code == 200, response.content
    assert response.json()["csat"]["question"] == {"ru": "Вам помогли?", "en": "Did we help?"}
    assert response.json()["csat"]["thank_you"] == "Dzięki!"


@pytest.mark.parametrize(
    "question",
    [{"de": "Hat es geholfen?"}, {"ru": ""}, {}, "", "x" * 501, {"ru": 5}, ["ru", "Вам помогли?"]],
)
def test_a_survey_text_that_cannot_be_used_is_refused(admin_client_api, question):
    channel = ChannelFactory()

    response = patch_channel(admin_client_api, channel, {"csat": {"question": question}})

    assert response.status_code == 400
    assert "question" in response.json()["fields"]["csat"]
