"""VK and Viber channels' settings as an admin edits them in the admin pages: a field
per setting in the admin's language, secrets write-only, checked before anything is saved."""

import json

import pytest

from channels_app.adapters.vk import API_VERSION
from channels_app.models import Channel
from channels_app.services import channel_create
from inbox.audit.models import AuditAction, AuditRecord
from tests.channels_app.vk.helpers import CONFIRMATION_CODE, GROUP_ID, SECRET_KEY
from tests.fakes.viber import AUTH_TOKEN
from tests.fakes.vk import ACCESS_TOKEN

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser(client, admin_user, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client.force_login(admin_user)
    return client


@pytest.fixture
def vk(db):
    return channel_create(
        kind="vk",
        name="Acme VK",
        config={
            "group_id": GROUP_ID,
            "access_token": ACCESS_TOKEN,
            "secret_key": SECRET_KEY,
            "confirmation_code": CONFIRMATION_CODE,
        },
    )


@pytest.fixture
def viber(db):
    return channel_create(
        kind="viber",
        name="Acme Viber",
        config={"auth_token": AUTH_TOKEN, "sender_name": "Acme"},
    )


def page_of(client, channel) -> str:
    response = client.get(f"/admin/channels_app/channel/{channel.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def save(client, channel, **settings):
    """The change form as the browser sends it: the channel's own fields as shown, and
    `settings` typed over them."""
    form = client.get(f"/admin/channels_app/channel/{channel.pk}/change/").context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form.initial.get(name, field.initial)
        if name == "csat":
            value = json.dumps(value)
        elif name == "teams":
            value = [team.pk for team in value or []]
        data[name] = "" if value is None else value
    data.update(settings)
    data["is_active"] = "on" if data.get("is_active") else ""
    if not data["is_active"]:
        del data["is_active"]
    return client.post(f"/admin/channels_app/channel/{channel.pk}/change/", data)


def test_a_vk_channels_page_has_a_field_per_setting_and_never_shows_the_secrets(admin_browser, vk):
    page = page_of(admin_browser, vk)

    for label in ("Community ID", "Community access token", "Secret key", "VK API version"):
        assert label in page
    assert f'value="{GROUP_ID}"' in page
    assert f'value="{API_VERSION}"' in page
    assert ACCESS_TOKEN not in page
    assert SECRET_KEY not in page
    # The confirmation code is no credential: VK shows it on its own page too.
    assert f'value="{CONFIRMATION_CODE}"' in page


def test_the_page_speaks_the_admins_language(admin_browser, admin_user, vk, viber):
    admin_user.language = "ru"
    admin_user.save(update_fields=["language"])

    assert "ID сообщества" in page_of(admin_browser, vk)
    viber_page = page_of(admin_browser, viber)
    assert "Имя отправителя" in viber_page
    assert "Приветствие (Русский)" in viber_page


def test_saving_without_typing_a_secret_keeps_the_saved_one(admin_browser, vk):
    response = save(admin_browser, vk, group_id="218000002")

    assert response.status_code == 302
    vk.refresh_from_db()
    assert vk.config["group_id"] == "218000002"
    assert (vk.secrets["access_token"], vk.secrets["secret_key"]) == (ACCESS_TOKEN, SECRET_KEY)
    assert vk.secrets["random_id_key"]
    [change] = AuditRecord.objects.filter(action=AuditAction.CHANNEL_CHANGED)
    assert "group_id" in json.dumps(change.details)


def test_a_typed_secret_replaces_the_saved_one(admin_browser, vk):
    random_id_key = vk.secrets["random_id_key"]

    save(admin_browser, vk, access_token="vk1.a.new-token", secret_key="newKey2027")

    vk.refresh_from_db()
    assert (vk.secrets["access_token"], vk.secrets["secret_key"]) == (
        "vk1.a.new-token",
        "newKey2027",
    )
    # What names our messages to VK stays, or retries after the change would send twice.
    assert vk.secrets["random_id_key"] == random_id_key


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"group_id": "-218000001"}, "group_id", "Enter the community's number: digits only."),
        ({"secret_key": "не латиница"}, "secret_key", "Use up to 50 Latin letters and digits."),
        ({"api_base_url": "ftp://vk.example"}, "api_base_url", None),
    ],
)
def test_settings_vk_would_refuse_are_refused_and_nothing_is_saved(
    admin_browser, vk, typed, field, message
):
    before = Channel.objects.values().get(pk=vk.pk)

    response = save(admin_browser, vk, **typed)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors[field]
    assert errors == [message] if message else errors
    assert Channel.objects.values().get(pk=vk.pk) == before


def test_a_channel_made_without_a_token_is_told_it_needs_one(admin_browser, vk):
    Channel.objects.filter(pk=vk.pk).update(secrets_encrypted="")
    vk.refresh_from_db()

    response = save(admin_browser, vk)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["access_token"] == ["Required: none is saved yet."]
    assert errors["secret_key"] == ["Required: none is saved yet."]


def test_a_viber_channels_sender_avatar_and_welcome_messages_are_saved(admin_browser, viber):
    response = save(
        admin_browser,
        viber,
        sender_name="Acme Support",
        sender_avatar="https://acme.example/logo.jpg",
        welcome_message_en="Hello! Write us your question.",
        welcome_message_ru="Здравствуйте! Напишите ваш вопрос.",
        welcome_message_pl="",
    )

    assert response.status_code == 302
    viber.refresh_from_db()
    assert viber.config == {
        "sender_name": "Acme Support",
        "sender_avatar": "https://acme.example/logo.jpg",
        "welcome_message": {
            "en": "Hello! Write us your question.",
            "ru": "Здравствуйте! Напишите ваш вопрос.",
        },
    }
    assert viber.secrets["auth_token"] == AUTH_TOKEN
    page = page_of(admin_browser, viber)
    assert AUTH_TOKEN not in page
    assert "Здравствуйте! Напишите ваш вопрос." in page


def test_clearing_the_avatar_and_welcome_messages_removes_them(admin_browser, viber):
    save(
        admin_browser,
        viber,
        sender_avatar="https://acme.example/logo.jpg",
        welcome_message_en="Hello!",
    )

    save(admin_browser, viber, sender_avatar="", welcome_message_en="")

    viber.refresh_from_db()
    assert viber.config == {"sender_name": "Acme"}


@pytest.mark.parametrize(
    ("typed", "field"),
    [
        ({"sender_name": "A" * 29}, "sender_name"),
        ({"sender_name": ""}, "sender_name"),
        ({"sender_avatar": "not a link"}, "sender_avatar"),
        ({"welcome_message_en": "x" * 7001}, "welcome_message_en"),
    ],
)
def test_settings_viber_would_refuse_are_refused(admin_browser, viber, typed, field):
    before = Channel.objects.values().get(pk=viber.pk)

    response = save(admin_browser, viber, **typed)

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert Channel.objects.values().get(pk=viber.pk) == before


def test_other_kinds_keep_the_general_form(admin_browser, channel):
    page = page_of(admin_browser, channel)

    assert 'name="config"' in page
    assert "Community ID" not in page
