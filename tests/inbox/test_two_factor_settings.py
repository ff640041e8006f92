"""An operator's own two-step sign-in under Settings (setting an app up, new recovery
codes, turning it off) and an admin's reset of it, each on the audit log."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from inbox.audit.models import AuditAction, AuditRecord
from inbox.models import Role
from inbox.two_factor.models import RecoveryCode
from tests.inbox.two_factor_support import (
    PASSWORD,
    a_user,
    an_address,
    app_code,
    code_step,
    is_signed_in,
    password_step,
    with_app,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client):
    user = a_user()
    client.force_login(user)
    return user


def records(action: AuditAction) -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(action=action).order_by("id"))


def test_the_set_up_page_shows_a_qr_code_and_the_secret_and_keeps_them_on_reload(client, signed_in):
    first = client.get("/settings/two-factor/")
    again = client.get("/settings/two-factor/")

    page = first.content.decode()
    assert first.status_code == 200
    assert "<svg" in page and "<script" not in page.split("<body", 1)[1]
    device = TOTPDevice.objects.get(user=signed_in)
    assert not device.confirmed
    secret = page.split('id="two-factor-secret">', 1)[1].split("<", 1)[0]
    assert len(secret.replace(" ", "")) == 32
    assert secret in again.content.decode()
    assert TOTPDevice.objects.filter(user=signed_in).count() == 1


def test_a_wrong_first_code_turns_nothing_on(client, signed_in):
    client.get("/settings/two-factor/")

    answer = client.post("/settings/two-factor/", {"code": "000000"})

    assert "did not match" in answer.content.decode()
    assert not TOTPDevice.objects.filter(user=signed_in, confirmed=True).exists()
    assert not RecoveryCode.objects.exists()
    assert not records(AuditAction.TWO_FACTOR_ENABLED)


def test_the_first_code_turns_it_on_and_shows_ten_recovery_codes_once(client, signed_in):
    client.get("/settings/two-factor/")
    device = TOTPDevice.objects.get(user=signed_in)

    answer = client.post("/settings/two-factor/", {"code": app_code(device)})

    page = answer.content.decode()
    assert page.count("<li><code>") == 10
    assert RecoveryCode.objects.filter(user=signed_in, used_at=None).count() == 10
    [record] = records(AuditAction.TWO_FACTOR_ENABLED)
    assert record.actor_id == signed_in.pk
    later = client.get("/settings/two-factor/").content.decode()
    assert "<li><code>" not in later and "10 recovery codes left." in later
    assert "Manage two-step sign-in" in client.get("/settings/").content.decode()


def test_it_is_turned_off_with_the_password_not_a_wrong_one(client, signed_in):
    with_app(signed_in)

    client.post("/settings/two-factor/turn-off/", {"password": "not-it"})
    assert TOTPDevice.objects.filter(user=signed_in).exists()
    [wrong_password] = records(AuditAction.LOGIN_FAILED)
    assert wrong_password.details == {"via": "two-factor-off"}
    answer = client.post("/settings/two-factor/turn-off/", {"password": PASSWORD}, follow=True)

    assert "Two-step sign-in is off." in answer.content.decode()
    # The page it returns to offers a new set-up (a device not yet confirmed).
    assert not TOTPDevice.objects.filter(user=signed_in, confirmed=True).exists()
    assert not RecoveryCode.objects.filter(user=signed_in).exists()
    [record] = records(AuditAction.TWO_FACTOR_DISABLED)
    assert record.details == {"username": signed_in.username, "with": "password"}


def test_it_is_turned_off_with_a_current_code_and_a_wrong_one_is_recorded(
    client, signed_in, settings
):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device, _ = with_app(signed_in)

    client.post("/settings/two-factor/turn-off/", {"code": "000000"})
    assert TOTPDevice.objects.filter(user=signed_in).exists()
    client.post("/settings/two-factor/turn-off/", {"code": app_code(device)})

    assert not TOTPDevice.objects.filter(user=signed_in).exists()
    [failed] = records(AuditAction.TWO_FACTOR_CODE_FAILED)
    assert failed.details == {"via": "two-factor-off", "kind": "app"}
    assert records(AuditAction.TWO_FACTOR_DISABLED)[0].details["with"] == "code"


def test_a_role_that_requires_it_cannot_turn_it_off(client, settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["supervisor"]
    supervisor, address = a_user(role=Role.SUPERVISOR), an_address()
    device, _ = with_app(supervisor)
    password_step(client, supervisor, address=address)
    code_step(client, app_code(device), address=address)

    page = client.get("/settings/two-factor/").content.decode()
    answer = client.post("/settings/two-factor/turn-off/", {"password": PASSWORD}, follow=True)

    assert 'id="two-factor-required"' in page and 'id="turn-off-form"' not in page
    assert "Your role must sign in with two steps." in answer.content.decode()
    assert TOTPDevice.objects.filter(user=supervisor).exists()


def test_new_recovery_codes_replace_the_old_ones(client, signed_in):
    device, old_codes = with_app(signed_in)

    answer = client.post("/settings/two-factor/recovery-codes/", {"code": app_code(device)})

    assert answer.content.decode().count("<li><code>") == 10
    assert old_codes[0] not in answer.content.decode()
    assert len(records(AuditAction.RECOVERY_CODES_RENEWED)) == 1
    client.post("/logout/")
    address = an_address()
    password_step(client, signed_in, address=address)
    code_step(client, old_codes[0], address=address)
    assert not is_signed_in(client)


def test_an_admin_resets_an_operators_app_through_the_api(client, admin_client_api, admin_user):
    operator = a_user()
    with_app(operator)
    assert admin_client_api.get(f"/api/v1/operators/{operator.pk}/two-factor/").json() == {
        "enabled": True,
        "required_for_role": False,
        "recovery_codes_remaining": 10,
    }

    answer = admin_client_api.post(
        f"/api/v1/operators/{operator.pk}/two-factor/reset/", REMOTE_ADDR="192.0.2.8"
    )

    assert answer.status_code == 200
    assert answer.json() == {
        "enabled": False,
        "required_for_role": False,
        "recovery_codes_remaining": 0,
    }
    [record] = records(AuditAction.TWO_FACTOR_RESET)
    assert (record.actor_id, record.client_address) == (admin_user.pk, "192.0.2.8")
    assert (record.target_type, record.target_id) == ("operator", str(operator.pk))
    assert record.details == {"username": operator.username, "had_two_factor": True}
    password_step(client, operator, address=an_address())
    assert is_signed_in(client)


def test_an_operator_cannot_reset_anyones_app(operator_client):
    other = a_user()
    with_app(other)

    answer = operator_client.post(f"/api/v1/operators/{other.pk}/two-factor/reset/")

    assert answer.status_code == 403
    assert TOTPDevice.objects.filter(user=other).exists()
    assert not records(AuditAction.TWO_FACTOR_RESET)


def test_an_admin_resets_it_in_the_admin_site(admin_client, admin_user):
    operator = a_user()
    with_app(operator)
    listing = admin_client.get("/admin/inbox/user/").content.decode()
    assert "Two-step sign-in" in listing

    admin_client.post(
        "/admin/inbox/user/", {"action": "reset_two_factor", "_selected_action": [operator.pk]}
    )

    assert not TOTPDevice.objects.filter(user=operator).exists()
    [record] = records(AuditAction.TWO_FACTOR_RESET)
    assert record.actor_id == admin_user.pk
    # django-otp's own pages, which show secrets and change them unrecorded, are not there.
    assert admin_client.get("/admin/otp_totp/totpdevice/").status_code == 404
