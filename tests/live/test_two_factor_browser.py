"""Two-step sign-in in a real browser (Debian's Chromium) against the live server: an
operator sets an authenticator app up from Settings and signs in with its codes and a
recovery code; where an installation requires it, a supervisor sets the app up right
after the password, and an admin's sign-in page asks for the code too."""

import base64
import time

import pytest
from django_otp.oath import TOTP

from inbox.models import Role
from tests.live.conftest import LiveServer, free_port
from tests.live.test_inbox_browser import PASSWORD, operator_with_password, wait_live

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def code_from_the_app(secret_shown: str, *, steps_from_now: int = 0) -> str:
    """What an authenticator app that was given the page's key shows."""
    secret = secret_shown.replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key)
    totp.time = time.time() + 30 * steps_from_now
    return f"{totp.token():06d}"


def password_step(page, base_url: str, username: str, path: str = "/login/") -> None:
    page.goto(base_url + path)
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("[type=submit]")


def set_up_the_app(page) -> tuple[str, list[str]]:
    """Scans (reads) the key the page shows, confirms it with a code, and keeps the
    recovery codes the next page shows."""
    assert page.locator(".two-factor-qr-frame svg").is_visible()
    secret = page.locator("#two-factor-secret").inner_text()
    page.fill("#id_code", code_from_the_app(secret))
    page.click("#two-factor-set-up-form button[type=submit]")
    page.wait_for_selector("#recovery-codes")
    return secret, page.locator("#recovery-codes code").all_inner_texts()


def sign_in_with_a_code(page, base_url: str, code: str) -> None:
    page.click(".logout-form button")
    page.wait_for_url("**/login/")
    password_step(page, base_url, "anna")
    page.wait_for_url("**/login/code/")
    page.fill("#id_code", code)
    page.click("button[type=submit]")


def requests_seen(page) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def test_an_operator_turns_two_step_sign_in_on_and_signs_in_with_codes(
    live_server_url, open_pages, team
):
    operator_with_password("anna", "Anna", team)
    page = open_pages()
    requested = requests_seen(page)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    password_step(page, live_server_url, "anna")
    wait_live(page)

    page.goto(live_server_url + "/settings/")
    page.click("#two-factor-link")
    secret, recovery_codes = set_up_the_app(page)

    assert len(recovery_codes) == 10
    page.click("#recovery-codes-saved")
    page.wait_for_selector("#recovery-codes-form")
    assert "On:" in page.locator("#two-factor-state").inner_text()

    # Signing in again: the password, then the app's code (the next one: each code once).
    sign_in_with_a_code(page, live_server_url, code_from_the_app(secret, steps_from_now=1))
    wait_live(page)

    # And with a recovery code, which then no longer works.
    sign_in_with_a_code(page, live_server_url, recovery_codes[0])
    wait_live(page)
    sign_in_with_a_code(page, live_server_url, recovery_codes[0])
    assert "used already" in page.locator("#code-error").inner_text()
    assert "/login/code/" in page.url
    assert page.errors == []
    assert not [line for line in console if "Content Security Policy" in line]
    # The QR code and everything else came from this server alone.
    assert requested and all(url.startswith(live_server_url) for url in requested)


@pytest.fixture
def server_requiring_two_steps(live_environment, collected_static, tmp_path):
    port = free_port()
    env = {
        **live_environment,
        "TWO_FACTOR_REQUIRED_ROLES": "admin,supervisor",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    server = LiveServer(env, ["--workers", "1"], port, tmp_path / "asgi.log")
    try:
        yield server.wait_until_answering()
    finally:
        server.stop()


def test_a_role_that_requires_two_steps_sets_the_app_up_before_anything_else(
    server_requiring_two_steps, open_pages, team
):
    base_url = server_requiring_two_steps.url
    sam = operator_with_password("sam", "Sam", team)
    sam.role = Role.SUPERVISOR
    sam.save(update_fields=["role"])
    page = open_pages()

    page.goto(base_url + "/reports/csat/")
    password_step(page, base_url, "sam", path=page.url.removeprefix(base_url))
    page.wait_for_url("**/login/set-up/")
    # Nothing else answers until the app is set up.
    page.goto(base_url + "/settings/")
    assert "/login/" in page.url
    page.goto(base_url + "/login/set-up/")
    set_up_the_app(page)
    page.click("#recovery-codes-saved")

    page.wait_for_url("**/reports/csat/")
    assert page.errors == []

    # The admin's sign-in page asks the same second step.
    ada = operator_with_password("ada", "Ada", team)
    ada.role, ada.is_staff, ada.is_superuser = Role.ADMIN, True, True
    ada.save(update_fields=["role", "is_staff", "is_superuser"])
    admin_page = open_pages()
    password_step(admin_page, base_url, "ada", path="/admin/login/")
    admin_page.wait_for_url("**/login/set-up/")
    set_up_the_app(admin_page)
    admin_page.click("#recovery-codes-saved")
    admin_page.wait_for_url("**/admin/")
    assert admin_page.locator("#site-name").is_visible()
