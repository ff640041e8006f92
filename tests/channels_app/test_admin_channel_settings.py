"""A channel's settings as an admin edits them in the admin pages, for the kinds with a
form of their own (VK, Viber, Messenger, Instagram): a field per setting in the admin's
language, secrets write-only (never shown back, an empty field keeps the saved one),
checked as the API checks them before anything is saved."""

from dataclasses import dataclass, field

import pytest
from django import forms

from channels_app.adapters.vk import API_VERSION
from channels_app.models import Channel
from channels_app.services import channel_create
from inbox.audit.models import AuditAction, AuditRecord
from tests.channels_app.vk.helpers import CONFIRMATION_CODE, GROUP_ID, SECRET_KEY
from tests.fakes.meta_messaging import (
    INSTAGRAM_ACCESS_TOKEN,
    INSTAGRAM_ACCOUNT_ID,
    PAGE_ACCESS_TOKEN,
    PAGE_ID,
)
from tests.fakes.viber import AUTH_TOKEN
from tests.fakes.vk import ACCESS_TOKEN

pytestmark = pytest.mark.django_db

APP_SECRET = "9b2c4e1f0a7d6b5c3e8f1a2b4c6d8e0f"
VERIFY_TOKEN = "switchboard-meta-verify-7c2d"
KEEP_HELP = "Set. Leave empty to keep it; it is never shown again."
KEEP_HELP_RU = "Задано. Оставьте пустым, чтобы сохранить прежнее; оно больше не показывается."


@dataclass(frozen=True)
class Kind:
    account: str  # the setting that names the account, shown back
    saved_account: str
    new_account: str
    token: str  # the write-only secret an admin replaces most
    write_only: dict[str, str]  # the saved secrets never shown back
    required_secrets: tuple[str, ...]
    russian_labels: tuple[str, ...]
    added_config: dict = field(default_factory=dict)  # what a new channel's config has besides


def _meta_kind(account, saved_account, token, saved_token, russian_labels) -> Kind:
    write_only = {token: saved_token, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN}
    return Kind(
        account=account,
        saved_account=saved_account,
        new_account="123456789",
        token=token,
        write_only=write_only,
        required_secrets=tuple(write_only),
        russian_labels=(*russian_labels, "Секрет приложения", "Маркер подтверждения"),
        added_config={"human_agent_tag": False},
    )


KINDS = {
    "vk": Kind(
        account="group_id",
        saved_account=GROUP_ID,
        new_account="218000002",
        token="access_token",
        write_only={"access_token": ACCESS_TOKEN, "secret_key": SECRET_KEY},
        required_secrets=("access_token", "secret_key"),
        russian_labels=("ID сообщества",),
    ),
    "viber": Kind(
        account="sender_name",
        saved_account="Acme",
        new_account="Acme Support",
        token="auth_token",
        write_only={"auth_token": AUTH_TOKEN},
        required_secrets=("auth_token",),
        russian_labels=("Имя отправителя", "Приветствие (Русский)"),
    ),
    "messenger": _meta_kind(
        "page_id",
        PAGE_ID,
        "page_access_token",
        PAGE_ACCESS_TOKEN,
        ("ID страницы Facebook", "Маркер доступа страницы"),
    ),
    "instagram": _meta_kind(
        "instagram_account_id",
        INSTAGRAM_ACCOUNT_ID,
        "access_token",
        INSTAGRAM_ACCESS_TOKEN,
        ("ID аккаунта Instagram", "Маркер доступа"),
    ),
}


@pytest.fixture
def admin_browser(client, admin_user, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client.force_login(admin_user)
    return client


def make_channel(kind: str) -> Channel:
    spec = KINDS[kind]
    extra = {"confirmation_code": CONFIRMATION_CODE} if kind == "vk" else {}
    return channel_create(
        kind=kind,
        name=f"Acme {kind}",
        config={spec.account: spec.saved_account, **spec.write_only, **extra},
    )


@pytest.fixture(params=list(KINDS))
def kind(request) -> str:
    return request.param


@pytest.fixture
def channel_of_kind(kind, team) -> Channel:
    channel = make_channel(kind)
    channel.teams.set([team])
    return channel


@pytest.fixture
def vk(db) -> Channel:
    return make_channel("vk")


@pytest.fixture
def viber(db) -> Channel:
    return make_channel("viber")


def change_url(channel: Channel) -> str:
    return f"/admin/channels_app/channel/{channel.pk}/change/"


def page_of(client, channel: Channel) -> str:
    response = client.get(change_url(channel))
    assert response.status_code == 200
    return response.content.decode()


def form_data(response, **changes) -> dict:
    """What the page's form would post as it stands, with `changes` typed over it."""
    form = response.context["adminform"].form
    data = {}
    for name, form_field in form.fields.items():
        value = form[name].value()
        if isinstance(form_field, forms.BooleanField) and not value:
            continue
        data[name] = "" if value is None else value
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def save(client, channel: Channel, **changes):
    page = client.get(change_url(channel))
    return client.post(change_url(channel), form_data(page, **changes))


def test_the_page_has_a_field_per_setting_and_never_shows_a_secret(
    admin_browser, channel_of_kind, kind
):
    spec = KINDS[kind]

    page = page_of(admin_browser, channel_of_kind)

    for name in (spec.account, *spec.write_only, "api_base_url"):
        assert f'name="{name}"' in page, name
    assert f'value="{spec.saved_account}"' in page
    for secret in spec.write_only.values():
        assert secret not in page
    assert page.count(KEEP_HELP) == len(spec.write_only)
    assert 'name="config"' not in page


def test_vk_shows_its_confirmation_code_and_api_version(admin_browser, vk):
    page = page_of(admin_browser, vk)

    for label in ("Community ID", "Community access token", "Secret key", "VK API version"):
        assert label in page
    assert f'value="{API_VERSION}"' in page
    # The confirmation code is no credential: VK shows it on its own page too.
    assert f'value="{CONFIRMATION_CODE}"' in page


def test_the_page_speaks_the_admins_language(admin_browser, admin_user, channel_of_kind, kind):
    admin_user.language = "ru"
    admin_user.save(update_fields=["language"])

    page = page_of(admin_browser, channel_of_kind)

    for label in KINDS[kind].russian_labels:
        assert label in page, label
    assert KEEP_HELP_RU in page


def test_saving_without_typing_a_secret_keeps_the_saved_ones(admin_browser, channel_of_kind, kind):
    spec = KINDS[kind]
    secrets_before = channel_of_kind.secrets

    response = save(admin_browser, channel_of_kind, **{spec.account: spec.new_account})

    assert response.status_code == 302, response.context["adminform"].form.errors
    channel_of_kind.refresh_from_db()
    assert channel_of_kind.config[spec.account] == spec.new_account
    # VK's random_id_key among them: retries after the change would otherwise send twice.
    assert channel_of_kind.secrets == secrets_before
    record = AuditRecord.objects.get(action=AuditAction.CHANNEL_CHANGED)
    assert spec.account in record.details["config_keys"]


def test_a_typed_secret_replaces_the_saved_one_and_clears_its_refusal(
    admin_browser, channel_of_kind, kind
):
    token = KINDS[kind].token
    Channel.objects.filter(pk=channel_of_kind.pk).update(secrets_rejected="token expired")
    secrets_before = channel_of_kind.secrets

    response = save(admin_browser, channel_of_kind, **{token: "new-token"})

    assert response.status_code == 302
    channel_of_kind.refresh_from_db()
    assert channel_of_kind.secrets == {**secrets_before, token: "new-token"}
    assert channel_of_kind.secrets_rejected == ""


@pytest.mark.parametrize("kind", ["messenger", "instagram"])
def test_the_human_agent_permission_is_saved(admin_browser, channel_of_kind, kind):
    response = save(admin_browser, channel_of_kind, human_agent_tag="on")

    assert response.status_code == 302
    channel_of_kind.refresh_from_db()
    spec = KINDS[kind]
    assert channel_of_kind.config == {spec.account: spec.saved_account, "human_agent_tag": True}


@pytest.mark.parametrize(
    ("kind", "typed", "message"),
    [
        ("vk", {"group_id": "-218000001"}, "Enter the community's number: digits only."),
        ("vk", {"secret_key": "не латиница"}, "Use up to 50 Latin letters and digits."),
        ("vk", {"api_base_url": "ftp://vk.example"}, None),
        ("viber", {"sender_name": "A" * 29}, None),
        ("viber", {"sender_name": ""}, None),
        ("viber", {"sender_avatar": "not a link"}, None),
        ("viber", {"welcome_message_en": "x" * 7001}, None),
        ("messenger", {"page_id": "12ab34"}, "The numeric id Meta shows, digits only."),
        ("messenger", {"page_id": ""}, "This field is required."),
        (
            "instagram",
            {"instagram_account_id": "12ab34"},
            "The numeric id Meta shows, digits only.",
        ),
        ("instagram", {"api_base_url": "ftp://graph.example.com"}, "Enter a valid URL."),
    ],
)
def test_settings_the_platform_would_refuse_are_refused_and_nothing_is_saved(
    admin_browser, kind, typed, message
):
    channel = make_channel(kind)
    before = Channel.objects.values().get(pk=channel.pk)

    response = save(admin_browser, channel, **typed)

    assert response.status_code == 200
    [name] = typed
    errors = response.context["adminform"].form.errors[name]
    assert errors == [message] if message else errors
    assert Channel.objects.values().get(pk=channel.pk) == before


def test_a_channel_saved_without_a_token_is_told_it_needs_one(admin_browser, channel_of_kind, kind):
    Channel.objects.filter(pk=channel_of_kind.pk).update(secrets_encrypted="")
    channel_of_kind.refresh_from_db()

    response = save(admin_browser, channel_of_kind)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert {key: errors[key] for key in KINDS[kind].required_secrets} == {
        key: ["Required: none is saved yet."] for key in KINDS[kind].required_secrets
    }


def test_a_channel_is_added_with_its_settings_and_needs_every_secret(
    admin_browser, admin_user, kind, team
):
    spec = KINDS[kind]
    add_url = f"/admin/channels_app/channel/add/?kind={kind}"
    page = admin_browser.get(add_url)
    data = form_data(page, name="New account", teams=[team.pk], **{spec.account: "987654321"})

    missing = admin_browser.post(add_url, data)

    assert set(missing.context["adminform"].form.errors) == set(spec.required_secrets)
    assert not Channel.objects.exists()

    typed = {key: f"{key.replace('_', '')}1" for key in spec.required_secrets}
    added = admin_browser.post(add_url, {**data, **typed})

    assert added.status_code == 302
    channel = Channel.objects.get()
    assert (channel.kind, channel.config) == (kind, {spec.account: "987654321"} | spec.added_config)
    assert {key: channel.secrets[key] for key in typed} == typed
    assert list(channel.teams.all()) == [team]
    [created] = AuditRecord.objects.filter(action=AuditAction.CHANNEL_CREATED)
    assert (created.target_id, created.actor_id) == (str(channel.pk), admin_user.pk)


def test_choosing_the_kind_on_the_general_add_page_brings_its_settings_fields(admin_browser):
    add_url = "/admin/channels_app/channel/add/"
    general = form_data(admin_browser.get(add_url), kind="viber", name="Acme Viber", teams=None)

    viber_page = admin_browser.post(add_url, general)

    assert viber_page.status_code == 200
    assert set(viber_page.context["adminform"].form.errors) == {"auth_token", "sender_name"}
    assert 'name="config"' not in viber_page.content.decode()

    added = admin_browser.post(
        add_url, form_data(viber_page, auth_token=AUTH_TOKEN, sender_name="Acme")
    )

    assert added.status_code == 302
    channel = Channel.objects.get()
    assert (channel.kind, channel.config, channel.secrets) == (
        "viber",
        {"sender_name": "Acme"},
        {"auth_token": AUTH_TOKEN},
    )


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


def test_other_kinds_keep_the_general_form(admin_browser, channel):
    page = page_of(admin_browser, channel)

    assert 'name="config"' in page
    assert "Community ID" not in page
