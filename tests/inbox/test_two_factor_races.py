"""One app code signs in once even when two requests bring it at the same moment: the
device's row is locked while the code is checked (PostgreSQL)."""

import threading

import pytest
from django.db import connection

from inbox.audit.records import AuditActor
from inbox.two_factor.services import sign_in_code_check
from tests.inbox.two_factor_support import a_user, an_address, app_code, with_app
from tests.live.conftest import hold_in_another_transaction, wait_until_blocked

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def test_two_requests_with_the_same_code_sign_in_once():
    user = a_user()
    device, _ = with_app(user)
    code = app_code(device)
    accepted: list[bool] = []

    def bring_the_code() -> None:
        try:
            check = sign_in_code_check(
                user=user, code=code, actor=AuditActor(address=an_address()), via="login"
            )
            accepted.append(check.is_accepted)
        finally:
            connection.close()

    # Both requests arrive while the device's row is busy, and go on together after.
    holder = hold_in_another_transaction(
        "SELECT 1 FROM otp_totp_totpdevice WHERE id = %s FOR UPDATE", (device.pk,)
    )
    requests = [threading.Thread(target=bring_the_code) for _ in range(2)]
    for request in requests:
        request.start()
    wait_until_blocked()
    holder.rollback()
    holder.close()
    for request in requests:
        request.join(timeout=10)

    assert sorted(accepted) == [False, True]
