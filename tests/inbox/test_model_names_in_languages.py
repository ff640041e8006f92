"""What the admin pages and forms name our models, fields and choices is marked for
translation and reads in the admin's language."""

import pytest
from django.apps import apps
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import override

from tests.factories import ConversationFactory, CustomerFactory

pytestmark = pytest.mark.django_db

OUR_APPS = ("customers", "channels_app", "inbox", "automation")
# Fields Django declares (the user's name, password, permissions): Django translates them.
DJANGO_FIELDS = {field.name for field in AbstractUser._meta.get_fields() if field.concrete}


def our_models() -> list[type[models.Model]]:
    return [model for app in OUR_APPS for model in apps.get_app_config(app).get_models()]


def test_every_model_field_and_choice_of_ours_is_marked_for_translation():
    unmarked = []
    for model in our_models():
        options = model._meta
        for name in ("verbose_name", "verbose_name_plural"):
            if not isinstance(options.original_attrs.get(name), Promise):
                unmarked.append(f"{options.label}.Meta.{name}")
        for field in options.get_fields(include_hidden=False):
            # Django names the id and the fields it declares itself, in every language.
            is_djangos = issubclass(model, AbstractUser) and field.name in DJANGO_FIELDS
            if not field.concrete or field.auto_created or is_djangos:
                continue
            if not isinstance(field.verbose_name, Promise):
                unmarked.append(f"{options.label}.{field.name}")
            for _value, label in field.flatchoices if field.choices else ():
                if not isinstance(label, Promise):
                    unmarked.append(f"{options.label}.{field.name} choice {label!r}")
    for app in OUR_APPS:
        if not isinstance(apps.get_app_config(app).verbose_name, Promise):
            unmarked.append(app)
    assert unmarked == []


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ru", ["Клиенты", "Каналы", "Входящие", "Диалоги", "Шаблоны ответов", "События вебхуков"]),
        (
            "pl",
            [
                "Klienci",
                "Kanały",
                "Skrzynka",
                "Rozmowy",
                "Gotowe odpowiedzi",
                "Zdarzenia webhooków",
            ],
        ),
    ],
)
def test_the_admin_index_names_apps_and_models_in_the_admins_language(
    client, admin_user, settings, language, expected
):
    admin_user.language = language
    admin_user.save(update_fields=["language"])
    client.force_login(admin_user)

    page = client.get("/admin/").content.decode()

    for name in expected:
        assert name in page, name


def test_a_form_labels_its_fields_in_the_admins_language(client, admin_user):
    admin_user.language = "ru"
    admin_user.save(update_fields=["language"])
    client.force_login(admin_user)

    page = client.get("/admin/customers/customer/add/").content.decode()

    for label in ("Имя", "Эл. почта", "Телефон", "Язык", "Атрибуты"):
        assert f">{label}:</label>" in page, label
    with override("ru"):
        assert "Full name" not in page and ">Phone:<" not in page


def test_rows_are_named_in_the_admins_language(client, admin_user):
    nameless = CustomerFactory(name="", email="", phone="")
    conversation = ConversationFactory(customer=nameless)
    admin_user.language = "pl"
    admin_user.save(update_fields=["language"])
    client.force_login(admin_user)

    listed = client.get("/admin/inbox/conversation/").content.decode()
    changing = client.get(f"/admin/inbox/conversation/{conversation.pk}/change/").content.decode()

    assert f"Klient {nameless.pk}" in listed
    assert f"Rozmowa {conversation.pk}" in changing
