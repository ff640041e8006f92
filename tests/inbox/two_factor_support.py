"""What the two-step sign-in tests share: users with an authenticator app, the codes
their app would show, and signing in step by step through the pages."""

import time
import uuid

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from inbox.two_factor.recovery_codes import recovery_codes_replace
from tests.factories import UserFactory

PASSWORD = "password123"  # the factories' own


def an_address() -> str:
    # Each test its own addresses and usernames: failure counts live in Redis.
    return f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


def a_user(**fields):
    return UserFactory(username=f"u-{uuid.uuid4().hex[:12]}", **fields)


def app_code(device: TOTPDevice, *, steps_from_now: int = 0) -> str:
    """The code the user's app shows now (or that many 30-second steps away)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, 0)
    totp.time = time.time() + steps_from_now * device.step
    return f"{totp.token():06d}"


def with_app(user) -> tuple[TOTPDevice, list[str]]:
    """The user has set an authenticator app up: its device and their recovery codes."""
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return device, recovery_codes_replace(user=user)


def password_step(client, user, *, address: str, path: str = "/login/", next_url: str = ""):
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(path, data, REMOTE_ADDR=address)


def code_step(client, code: str, *, address: str):
    return client.post("/login/code/", {"code": code}, REMOTE_ADDR=address)


def is_signed_in(client) -> bool:
    return client.get("/").status_code == 200
