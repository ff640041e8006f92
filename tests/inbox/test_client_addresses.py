"""The client address every per-sender limit counts: the right-most X-Forwarded-For entry
that is not one of our own proxies (TRUSTED_PROXIES), never what a client wrote there."""

import ipaddress
import uuid

import pytest

from inbox.client_addresses import client_address
from inbox.models import LoginLockout
from tests.factories import UserFactory

PROXY = "10.0.0.5"


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24", "127.0.0.1"]


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        # A client talking to us directly: whatever it writes in the header is ignored.
        ("198.51.100.7", ["203.0.113.9"], "198.51.100.7"),
        # Through our proxy: the address the proxy appended, not the client's own entries.
        (PROXY, ["1.2.3.4, 198.51.100.7"], "198.51.100.7"),
        (PROXY, ["1.2.3.4", "198.51.100.7"], "198.51.100.7"),
        # Through two proxies of ours.
        (PROXY, ["1.2.3.4, 198.51.100.7, 127.0.0.1"], "198.51.100.7"),
        # Proxies write addresses with ports and IPv6 in brackets.
        (PROXY, ["[2001:db8::1]:4711"], "2001:db8::1"),
        (PROXY, ["198.51.100.7:4711"], "198.51.100.7"),
        # Nothing forwarded: the proxy itself; garbage where our proxy writes: the last hop.
        (PROXY, [], PROXY),
        (PROXY, ["not-an-address"], PROXY),
        ("", [], "unknown"),
    ],
)
def test_the_client_address_is_the_last_one_not_a_trusted_proxy(
    behind_proxy, peer, forwarded_for, expected
):
    assert client_address(peer=peer, forwarded_for=forwarded_for) == expected


def test_with_no_trusted_proxies_the_header_counts_for_nothing(settings):
    settings.TRUSTED_PROXIES = []

    assert client_address(peer="127.0.0.1", forwarded_for=["203.0.113.9"]) == "127.0.0.1"


@pytest.mark.django_db
def test_sign_in_throttling_counts_each_client_behind_the_proxy_apart(
    client, behind_proxy, settings
):
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.LOGIN_LOCKOUT_SECONDS = 60
    guesser = str(ipaddress.ip_address(f"2001:db8::{uuid.uuid4().hex[:4]}:1"))
    user = UserFactory(username=f"u-{uuid.uuid4().hex[:12]}")

    def sign_in(username: str, password: str, forwarded_for: str) -> int:
        return client.post(
            "/login/",
            {"username": username, "password": password},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=forwarded_for,
        ).status_code

    for _ in range(2):
        sign_in(f"nobody-{uuid.uuid4().hex}", "wrong", guesser)

    # Another visitor behind the same proxy signs in; the guesser, even writing someone
    # else's address first, stays locked out.
    assert sign_in(user.username, "password123", "198.51.100.20") == 302
    client.logout()
    assert sign_in(user.username, "password123", f"198.51.100.20, {guesser}") != 302
    assert LoginLockout.objects.filter(scope="address", value=guesser).exists()
    assert not LoginLockout.objects.filter(scope="address", value=PROXY).exists()
