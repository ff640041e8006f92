"""Signing in with two steps: the password, then a code from the authenticator app
(one 30-second step early or late, each code once) or a recovery code (each once); the
code step throttled like the password; the admin's sign-in page asks the same; roles an
installation requires it for cannot get in without it; API tokens are not asked."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from inbox.audit.models import AuditAction, AuditRecord
from inbox.models import LoginLockout, Role
from inbox.two_factor.models import RecoveryCode
from tests.conftest import client_for
from tests.inbox.two_factor_support import (
    a_user,
    an_address,
    app_code,
    code_step,
    is_signed_in,
    password_step,
    with_app,
)

pytestmark = pytest.mark.django_db

LIMIT = 3


@pytest.fixture
def limit(settings):
    settings.LOGIN_FAILURE_LIMIT = LIMIT
    settings.LOGIN_LOCKOUT_SECONDS = 60


@pytest.fixture
def no_device_wait(settings):
    # The device's own doubling wait after a wrong code is tested on its own below.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def actions() -> list[str]:
    return list(AuditRecord.objects.order_by("id").values_list("action", flat=True))


def test_the_password_alone_does_not_sign_in_a_user_with_an_app(client):
    user, address = a_user(), an_address()
    device, _ = with_app(user)

    answer = password_step(client, user, address=address, next_url="/settings/")

    assert answer.status_code == 302 and answer["Location"] == "/login/code/"
    assert not is_signed_in(client)
    assert client.get("/api/v1/operators/me/").status_code == 401
    assert AuditAction.LOGIN not in actions()

    answer = code_step(client, app_code(device), address=address)

    assert answer.status_code == 302 and answer["Location"] == "/settings/"
    assert is_signed_in(client)
    assert actions().count(AuditAction.LOGIN) == 1


def test_a_user_without_an_app_signs_in_with_the_password(client):
    user = a_user()

    answer = password_step(client, user, address=an_address())

    assert answer.status_code == 302 and answer["Location"] == "/"
    assert is_signed_in(client)


def test_the_code_step_without_a_password_step_goes_back_to_the_sign_in_page(client):
    answer = client.post("/login/code/", {"code": "123456"})

    assert answer.status_code == 302 and answer["Location"] == "/login/"


@pytest.mark.parametrize(
    ("steps_from_now", "is_accepted"), [(-2, False), (-1, True), (0, True), (1, True), (2, False)]
)
def test_a_code_is_accepted_one_step_early_or_late_and_no_further(
    client, no_device_wait, steps_from_now, is_accepted
):
    user, address = a_user(), an_address()
    device, _ = with_app(user)
    password_step(client, user, address=address)

    code_step(client, app_code(device, steps_from_now=steps_from_now), address=address)

    assert is_signed_in(client) is is_accepted


def test_a_code_signs_in_once(client, django_user_model, no_device_wait):
    user, address = a_user(), an_address()
    device, _ = with_app(user)
    code = app_code(device)
    password_step(client, user, address=address)
    code_step(client, code, address=address)
    assert is_signed_in(client)
    client.post("/logout/")

    password_step(client, user, address=address)
    answer = code_step(client, code, address=address)

    assert answer.status_code == 200
    assert "used already" in answer.content.decode()
    assert not is_signed_in(client)
    # Nor does the code of the step before the one used.
    code_step(client, app_code(device, steps_from_now=-1), address=address)
    assert not is_signed_in(client)
    record = AuditRecord.objects.filter(action=AuditAction.TWO_FACTOR_CODE_FAILED).last()
    assert record is not None and record.actor_id == user.pk
    assert record.details == {"via": "login", "kind": "app"}
    assert code not in str(record.details)


def test_wrong_codes_lock_the_username_out_whatever_the_address(client, limit, no_device_wait):
    user = a_user()
    device, _ = with_app(user)
    password_step(client, user, address=an_address())
    for _ in range(LIMIT):
        assert code_step(client, "000000", address=an_address()).status_code == 200

    answer = code_step(client, app_code(device), address=an_address())

    assert answer.status_code == 429
    assert not is_signed_in(client)
    lockout = LoginLockout.objects.get(scope="username", value=user.username)
    assert lockout.via == "login-code"
    assert AuditRecord.objects.filter(action=AuditAction.TWO_FACTOR_CODE_FAILED).count() == LIMIT


def test_typing_the_password_again_buys_no_more_guesses_at_the_code(client, limit, no_device_wait):
    user = a_user()
    device, _ = with_app(user)
    for _ in range(LIMIT):
        password_step(client, user, address=an_address())
        code_step(client, "000000", address=an_address())

    password_step(client, user, address=an_address())
    answer = code_step(client, app_code(device), address=an_address())

    assert answer.status_code == 429
    assert not is_signed_in(client)


def test_wrong_codes_from_one_address_lock_it_out_for_every_user(client, limit, no_device_wait):
    address = an_address()
    for _ in range(LIMIT):
        user = a_user()
        with_app(user)
        password_step(client, user, address=address)
        code_step(client, "000000", address=address)
    other = a_user()
    device, _ = with_app(other)

    password_step(client, other, address=address)
    answer = code_step(client, app_code(device), address=address)

    assert answer.status_code == 429
    assert LoginLockout.objects.filter(scope="address", value=address).exists()


def test_after_a_wrong_code_the_device_asks_to_wait_before_the_next(client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    user, address = a_user(), an_address()
    device, recovery_codes = with_app(user)
    password_step(client, user, address=address)
    code_step(client, "000000", address=address)

    answer = code_step(client, app_code(device), address=address)

    assert answer.status_code == 429
    assert "Wait 60 seconds" in answer.content.decode()
    assert not is_signed_in(client)
    # A recovery code still works: a stranger's wrong codes do not keep the user out.
    code_step(client, recovery_codes[0], address=address)
    assert is_signed_in(client)


def test_a_recovery_code_signs_in_once(client):
    user, address = a_user(), an_address()
    _, recovery_codes = with_app(user)
    password_step(client, user, address=address)

    # Typed in capitals, without its dashes.
    code_step(client, recovery_codes[3].replace("-", "").upper(), address=address)

    assert is_signed_in(client)
    [record] = AuditRecord.objects.filter(action=AuditAction.RECOVERY_CODE_USED)
    assert record.actor_id == user.pk and record.details == {"via": "login", "remaining": 9}
    client.post("/logout/")
    password_step(client, user, address=address)
    answer = code_step(client, recovery_codes[3], address=address)
    assert answer.status_code == 200 and not is_signed_in(client)
    failed = AuditRecord.objects.get(action=AuditAction.TWO_FACTOR_CODE_FAILED)
    assert failed.details == {"via": "login", "kind": "recovery"}


def test_recovery_codes_are_kept_only_as_digests(db):
    user = a_user()
    _, recovery_codes = with_app(user)

    kept = list(RecoveryCode.objects.filter(user=user).values_list("code_digest", flat=True))

    assert len(recovery_codes) == len(set(recovery_codes)) == len(kept) == 10
    for code in recovery_codes:
        assert all(code.replace("-", "") not in digest for digest in kept)


def test_the_admin_sign_in_page_asks_for_the_code_too(client):
    admin = a_user(role=Role.ADMIN, is_staff=True, is_superuser=True)
    device, _ = with_app(admin)
    address = an_address()

    answer = password_step(client, admin, address=address, path="/admin/login/")

    assert answer.status_code == 302 and answer["Location"] == "/login/code/"
    assert client.get("/admin/").status_code == 302
    answer = code_step(client, app_code(device), address=address)
    assert answer.status_code == 302 and answer["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert AuditRecord.objects.get(action=AuditAction.LOGIN).details == {
        "via": "admin",
        "second_step": "app",
    }


@pytest.fixture
def required_for_supervisors_and_admins(settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["admin", "supervisor"]


def test_a_role_that_requires_it_sets_an_app_up_before_anything_else(
    client, required_for_supervisors_and_admins
):
    supervisor, address = a_user(role=Role.SUPERVISOR), an_address()

    answer = password_step(client, supervisor, address=address, next_url="/reports/csat/")

    assert answer.status_code == 302 and answer["Location"] == "/login/set-up/"
    assert not is_signed_in(client)
    assert client.get("/api/v1/conversations/").status_code == 401
    page = client.get("/login/set-up/").content.decode()
    assert "<svg" in page and 'id="two-factor-secret"' in page
    device = TOTPDevice.objects.get(user=supervisor, confirmed=False)

    answer = client.post("/login/set-up/", {"code": app_code(device)}, REMOTE_ADDR=address)

    assert answer.status_code == 200
    assert answer.content.decode().count("<li><code>") == 10
    assert 'href="/reports/csat/"' in answer.content.decode()
    assert client.get("/reports/csat/").status_code == 200
    assert TOTPDevice.objects.get(user=supervisor).confirmed
    assert actions() == [AuditAction.TWO_FACTOR_ENABLED, AuditAction.LOGIN]


def test_a_role_that_does_not_require_it_signs_in_with_the_password(
    client, required_for_supervisors_and_admins
):
    operator = a_user(role=Role.OPERATOR)

    password_step(client, operator, address=an_address())

    assert is_signed_in(client)


def test_a_session_signed_in_before_the_requirement_is_signed_out(
    client, required_for_supervisors_and_admins
):
    admin = a_user(role=Role.ADMIN, is_staff=True, is_superuser=True)
    client.force_login(admin)

    page = client.get("/")
    api = client.get("/api/v1/operators/me/")

    assert page.status_code == 302 and page["Location"].startswith("/login/")
    assert api.status_code == 401
    assert not is_signed_in(client)


def test_api_tokens_are_not_asked_for_a_code(required_for_supervisors_and_admins):
    admin = a_user(role=Role.ADMIN, is_staff=True, is_superuser=True)
    with_app(admin)

    assert client_for(admin).get("/api/v1/operators/me/").status_code == 200


def test_a_pending_sign_in_lapses(client, settings):
    user, address = a_user(), an_address()
    device, _ = with_app(user)
    password_step(client, user, address=address)
    settings.TWO_FACTOR_PENDING_SECONDS = -1

    answer = code_step(client, app_code(device), address=address)

    assert answer.status_code == 302 and answer["Location"] == "/login/"
    assert not is_signed_in(client)
