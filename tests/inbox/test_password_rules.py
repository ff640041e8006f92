"""Django's password rules hold wherever a password is set: the command, the API and the
admin site."""

import pytest
from django.core.management import CommandError, call_command

from inbox.models import User

pytestmark = pytest.mark.django_db

WEAK = ["password", "12345678901", "qwertyuiop"]


@pytest.mark.parametrize("password", WEAK)
def test_the_command_refuses_a_weak_password(password):
    with pytest.raises(CommandError, match="password"):
        call_command("create_operator", "olga", "--password", password)

    assert not User.objects.filter(username="olga").exists()


@pytest.mark.parametrize("password", WEAK)
def test_the_api_refuses_a_weak_password(admin_client_api, password):
    response = admin_client_api.post(
        "/api/v1/operators/",
        {"username": "ben", "role": "operator", "password": password},
        format="json",
    )

    assert response.status_code == 400
    assert "password" in response.json()["fields"]
    assert not User.objects.filter(username="ben").exists()


def test_a_password_like_the_username_is_refused(admin_client_api):
    response = admin_client_api.post(
        "/api/v1/operators/",
        {"username": "margaret.hamilton", "password": "margaret.hamilton"},
        format="json",
    )

    assert response.status_code == 400
    assert "password" in response.json()["fields"]


def test_the_admin_site_refuses_a_weak_password(admin_client):
    admin_client.post(
        "/admin/inbox/user/add/",
        {"username": "eve", "password1": "password", "password2": "password", "role": "operator"},
    )

    assert not User.objects.filter(username="eve").exists()


def test_a_good_password_is_taken():
    call_command("create_operator", "olga", "--password", "correct horse battery staple")

    assert User.objects.get(username="olga").check_password("correct horse battery staple")
