"""Guessing passwords or tokens is throttled per username and per client address; a
lockout is on record for admins, who can lift it."""

import uuid

import pytest

from inbox.models import LoginLockout
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "password123"  # the factories' own
LIMIT = 3


@pytest.fixture
def limit(settings):
    settings.LOGIN_FAILURE_LIMIT = LIMIT
    settings.LOGIN_LOCKOUT_SECONDS = 60


def an_address() -> str:
    # Each sign-in its own address, and each test its own usernames: the counts live in
    # the cache (Redis), across tests and runs.
    return f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


def a_user():
    return UserFactory(username=f"u-{uuid.uuid4().hex[:12]}")


def sign_in(client, path: str, username: str, password: str, address: str) -> bool:
    response = client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)
    return response.status_code == 302


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_a_username_is_locked_out_after_too_many_wrong_passwords(client, limit, path):
    user = a_user()
    user.is_staff = True
    user.save()
    for _ in range(LIMIT):
        assert not sign_in(client, path, user.username, "wrong", an_address())

    assert not sign_in(client, path, user.username, PASSWORD, an_address())
    lockout = LoginLockout.objects.get(scope="username", value=user.username)
    assert lockout.via == ("admin" if path.startswith("/admin/") else "login")


def test_an_address_is_locked_out_whichever_usernames_it_tries(client, limit):
    address, user = an_address(), a_user()
    for _ in range(LIMIT):
        sign_in(client, "/login/", f"nobody-{uuid.uuid4().hex}", "wrong", address)

    assert not sign_in(client, "/login/", user.username, PASSWORD, address)
    assert sign_in(client, "/login/", user.username, PASSWORD, an_address())
    assert LoginLockout.objects.filter(scope="address", value=address).exists()


def test_a_few_mistakes_lock_nobody_out(client, limit):
    user, address = a_user(), an_address()
    for _ in range(LIMIT - 1):
        sign_in(client, "/login/", user.username, "wrong", address)

    assert sign_in(client, "/login/", user.username, PASSWORD, address)
    assert not LoginLockout.objects.exists()


def test_wrong_api_tokens_lock_the_address_out(client, limit):
    address = an_address()
    answers = [
        client.get(
            "/api/v1/conversations/",
            HTTP_AUTHORIZATION=f"Token {uuid.uuid4().hex}",
            REMOTE_ADDR=address,
        ).status_code
        for _ in range(LIMIT + 1)
    ]

    assert answers == [401] * LIMIT + [429]
    assert LoginLockout.objects.filter(scope="address", value=address, via="api-token").exists()


def test_an_admin_sees_and_lifts_a_lockout(client, admin_client, limit):
    user = a_user()
    for _ in range(LIMIT):
        sign_in(client, "/login/", user.username, "wrong", an_address())
    lockout = LoginLockout.objects.get(scope="username", value=user.username)

    listing = admin_client.get("/admin/inbox/loginlockout/")
    assert user.username in listing.content.decode()
    admin_client.post(
        "/admin/inbox/loginlockout/",
        {"action": "lift", "_selected_action": [lockout.pk]},
    )

    assert not LoginLockout.objects.exists()
    assert sign_in(client, "/login/", user.username, PASSWORD, an_address())
