"""A WhatsApp channel's settings in the admin pages: the number and its write-only secrets,
and the reply and survey templates as fields, checked as the API checks them."""

import pytest

from channels_app.models import Channel
from channels_app.services import channel_create
from tests.channels_app.test_admin_channel_settings import page_of, save
from tests.fakes.whatsapp import ACCESS_TOKEN, PHONE_NUMBER_ID

pytestmark = pytest.mark.django_db

APP_SECRET = "3f1c9d0e7b5a4c2e8f6d1a0b9c8e7d6f"


@pytest.fixture
def admin_browser(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def whatsapp(team) -> Channel:
    channel = channel_create(
        kind="whatsapp",
        name="Acme WhatsApp",
        config={
            "phone_number_id": PHONE_NUMBER_ID,
            "access_token": ACCESS_TOKEN,
            "app_secret": APP_SECRET,
            "verify_token": "verify-me",
            "fallback_template": {"name": "support_follow_up", "language": "en_US"},
        },
    )
    channel.teams.set([team])
    return channel


def test_the_page_has_the_template_fields_and_never_shows_a_secret(admin_browser, whatsapp):
    page = page_of(admin_browser, whatsapp)

    for name in ("phone_number_id", "survey_template_name", "survey_template_languages"):
        assert f'name="{name}"' in page
    assert 'value="support_follow_up"' in page
    assert ACCESS_TOKEN not in page and APP_SECRET not in page
    assert 'name="config"' not in page


def test_a_survey_template_is_saved_from_its_fields_and_the_secrets_stay(admin_browser, whatsapp):
    secrets_before = whatsapp.secrets

    response = save(
        admin_browser,
        whatsapp,
        survey_template_name="rate_our_help",
        survey_template_languages="en=en_US, ru=ru, pl=pl",
        survey_template_buttons="quick_reply",
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    whatsapp.refresh_from_db()
    assert whatsapp.config["survey_template"] == {
        "name": "rate_our_help",
        "languages": {"en": "en_US", "ru": "ru", "pl": "pl"},
        "buttons": "quick_reply",
    }
    assert whatsapp.config["fallback_template"] == {
        "name": "support_follow_up",
        "language": "en_US",
    }
    assert whatsapp.secrets == secrets_before
    # Shown back as pairs.
    page = page_of(admin_browser, whatsapp)
    for pair in ("en=en_US", "ru=ru", "pl=pl"):
        assert pair in page


@pytest.mark.parametrize(
    "changes",
    [
        {"survey_template_name": "rate_our_help", "survey_template_languages": "en_US"},
        {"survey_template_name": "rate_our_help", "survey_template_buttons": "url"},
        {
            "survey_template_name": "rate_our_help",
            "survey_template_languages": "EN!=en",
            "survey_template_buttons": "url",
        },
    ],
)
def test_a_survey_template_meta_would_not_take_is_refused_and_nothing_is_saved(
    admin_browser, whatsapp, changes
):
    config_before = whatsapp.config

    response = save(admin_browser, whatsapp, **changes)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    whatsapp.refresh_from_db()
    assert whatsapp.config == config_before


def test_clearing_the_template_names_removes_the_templates(admin_browser, whatsapp):
    response = save(admin_browser, whatsapp, fallback_template_name="")

    assert response.status_code == 302, response.context["adminform"].form.errors
    whatsapp.refresh_from_db()
    assert "fallback_template" not in whatsapp.config
