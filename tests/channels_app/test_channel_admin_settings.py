"""A Messenger or Instagram channel's settings on its admin page: a field for each setting,
labelled in the admin's language, checked as the API checks them; tokens and secrets
write-only (never shown back, an empty field keeps the stored one)."""

import pytest
from django import forms

from channels_app.models import Channel
from channels_app.services import channel_create
from inbox.audit.models import AuditAction, AuditRecord
from tests.fakes.meta_messaging import (
    INSTAGRAM_ACCESS_TOKEN,
    INSTAGRAM_ACCOUNT_ID,
    PAGE_ACCESS_TOKEN,
    PAGE_ID,
)

pytestmark = pytest.mark.django_db

APP_SECRET = "9b2c4e1f0a7d6b5c3e8f1a2b4c6d8e0f"
VERIFY_TOKEN = "switchboard-meta-verify-7c2d"
SECRETS = {
    "messenger": {"page_access_token": PAGE_ACCESS_TOKEN},
    "instagram": {"access_token": INSTAGRAM_ACCESS_TOKEN},
}
ACCOUNTS = {
    "messenger": ("page_id", PAGE_ID),
    "instagram": ("instagram_account_id", INSTAGRAM_ACCOUNT_ID),
}


@pytest.fixture
def admin_pages(client, admin_user, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client.force_login(admin_user)
    return client


@pytest.fixture(params=["messenger", "instagram"])
def kind(request) -> str:
    return request.param


@pytest.fixture
def meta_channel(kind, team) -> Channel:
    key, account = ACCOUNTS[kind]
    channel = channel_create(
        kind=kind,
        name=f"Lumen {kind}",
        config={
            key: account,
            **SECRETS[kind],
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
        },
    )
    channel.teams.set([team])
    return channel


def change_url(channel: Channel) -> str:
    return f"/admin/channels_app/channel/{channel.pk}/change/"


def form_data(response, **changes) -> dict:
    """What the page's form would post as it stands, with `changes`."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field, forms.BooleanField) and not value:
            continue
        data[name] = "" if value is None else value
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def test_the_change_page_has_a_field_for_each_setting_and_never_shows_a_secret(
    admin_pages, meta_channel, kind
):
    page = admin_pages.get(change_url(meta_channel)).content.decode()

    key, account = ACCOUNTS[kind]
    token_key = next(iter(SECRETS[kind]))
    for name in (key, token_key, "app_secret", "verify_token", "human_agent_tag", "api_base_url"):
        assert f'name="{name}"' in page, name
    assert f'value="{account}"' in page
    for secret in (*SECRETS[kind].values(), APP_SECRET, VERIFY_TOKEN):
        assert secret not in page
    assert page.count("Set. Leave empty to keep it; it is never shown again.") == 3
    assert "Human Agent permission" in page
    assert 'name="config"' not in page


def test_saving_with_empty_secret_fields_keeps_the_secrets(admin_pages, meta_channel, kind):
    page = admin_pages.get(change_url(meta_channel))
    key, _ = ACCOUNTS[kind]

    response = admin_pages.post(
        change_url(meta_channel),
        form_data(page, **{key: "123456789", "human_agent_tag": "on"}),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    meta_channel.refresh_from_db()
    assert meta_channel.config == {key: "123456789", "human_agent_tag": True}
    assert meta_channel.secrets == {
        **SECRETS[kind],
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
    }
    record = AuditRecord.objects.get(action=AuditAction.CHANNEL_CHANGED)
    assert record.details["config_keys"] == ["human_agent_tag", key]


def test_a_new_token_replaces_the_old_one_and_clears_its_refusal(admin_pages, meta_channel, kind):
    Channel.objects.filter(pk=meta_channel.pk).update(secrets_rejected="token expired")
    page = admin_pages.get(change_url(meta_channel))
    token_key = next(iter(SECRETS[kind]))

    response = admin_pages.post(
        change_url(meta_channel), form_data(page, **{token_key: "new-token"})
    )

    assert response.status_code == 302
    meta_channel.refresh_from_db()
    assert meta_channel.secrets[token_key] == "new-token"
    assert meta_channel.secrets["app_secret"] == APP_SECRET
    assert meta_channel.secrets_rejected == ""


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("account", "12ab34", "The numeric id Meta shows, digits only."),
        ("account", "", "This field is required."),
        ("api_base_url", "ftp://graph.example.com", "Enter a valid URL."),
    ],
)
def test_wrong_settings_are_refused_by_field_and_nothing_changes(
    admin_pages, meta_channel, kind, field, value, error
):
    page = admin_pages.get(change_url(meta_channel))
    name = ACCOUNTS[kind][0] if field == "account" else field
    before = (dict(meta_channel.config), meta_channel.secrets)

    response = admin_pages.post(change_url(meta_channel), form_data(page, **{name: value}))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[name] == [error]
    meta_channel.refresh_from_db()
    assert (meta_channel.config, meta_channel.secrets) == before


def test_a_channel_is_added_with_its_settings_and_needs_every_secret(admin_pages, kind, team):
    add_url = f"/admin/channels_app/channel/add/?kind={kind}"
    page = admin_pages.get(add_url)
    key, account = ACCOUNTS[kind]
    token_key = next(iter(SECRETS[kind]))
    data = form_data(page, kind=kind, name="New account", teams=[team.pk], **{key: account})

    missing = admin_pages.post(add_url, data)

    errors = missing.context["adminform"].form.errors
    assert set(errors) == {token_key, "app_secret", "verify_token"}
    assert not Channel.objects.exists()

    added = admin_pages.post(
        add_url,
        {**data, token_key: "token-1", "app_secret": "secret-1", "verify_token": "verify-1"},
    )

    assert added.status_code == 302
    channel = Channel.objects.get()
    assert (channel.kind, channel.config) == (kind, {key: account, "human_agent_tag": False})
    assert channel.secrets == {
        token_key: "token-1",
        "app_secret": "secret-1",
        "verify_token": "verify-1",
    }


RUSSIAN_LABELS = {
    "messenger": ["ID страницы Facebook", "Маркер доступа страницы"],
    "instagram": ["ID аккаунта Instagram", "Маркер доступа"],
}


def test_the_labels_read_in_the_admins_language(admin_pages, admin_user, meta_channel, kind):
    admin_user.language = "ru"
    admin_user.save(update_fields=["language"])

    page = admin_pages.get(change_url(meta_channel)).content.decode()

    for label in [*RUSSIAN_LABELS[kind], "Секрет приложения", "Маркер подтверждения"]:
        assert label in page, label
    assert "Задано. Оставьте пустым, чтобы сохранить прежнее; оно больше не показывается." in page
