"""Two-step sign-in: turning it on (an authenticator app confirmed by its first code),
off, an admin's reset, and checking a code at sign-in. Every change and every wrong code
goes on the audit log."""

import math
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from inbox import login_throttle
from inbox.audit.models import AuditAction
from inbox.audit.records import AuditActor, audit_record
from inbox.models import Role, User
from inbox.two_factor.models import RecoveryCode
from inbox.two_factor.recovery_codes import (
    recovery_code_normalized,
    recovery_code_use,
    recovery_codes_remaining,
    recovery_codes_replace,
)


class TwoFactorRefused(ValueError):
    """What to tell the person, in their language."""


def two_factor_is_required_for(user: User) -> bool:
    """Whether the user's role must sign in with a code (TWO_FACTOR_REQUIRED_ROLES)."""
    required = settings.TWO_FACTOR_REQUIRED_ROLES
    if not required:
        return False
    role = Role.ADMIN.value if user.is_admin else user.role
    return role in required


def _app_code(typed: str) -> str:
    digits = "".join(char for char in typed if not char.isspace())
    return digits if len(digits) == 6 and digits.isascii() and digits.isdigit() else ""


def _device_code_check(device_id: int, code: str) -> tuple[bool, int]:
    """Whether the code is the device's (one step early or late at most, never one it
    took before), and else how long its own throttle asks to wait (seconds)."""
    with transaction.atomic():
        # Locked: two requests with the same code cannot both pass the check of last_t.
        device = TOTPDevice.objects.select_for_update().get(pk=device_id)
        is_allowed, refusal = device.verify_is_allowed()
        if not is_allowed:
            locked_until = (refusal or {}).get("locked_until")
            wait = (locked_until - timezone.now()).total_seconds() if locked_until else 1
            return False, max(1, math.ceil(wait))
        return device.verify_token(code), 0


def two_factor_enable(*, user: User, device: TOTPDevice, code: str, actor: AuditActor) -> list[str]:
    """Confirms the device being set up with its first code and makes recovery codes
    (returned: they are never shown again)."""
    app_code = _app_code(code)
    if device.user_id != user.pk or device.confirmed:
        raise TwoFactorRefused(gettext("Start the set-up again."))
    # Checked outside the change: a wrong code's wait is kept.
    if not app_code or not _device_code_check(device.pk, app_code)[0]:
        raise TwoFactorRefused(
            gettext("That code did not match. Check the time on your phone and try again.")
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        codes = recovery_codes_replace(user=user)
        audit_record(
            action=AuditAction.TWO_FACTOR_ENABLED,
            actor=actor,
            target_type="operator",
            target_id=user.pk,
            details={"username": user.username},
        )
    return codes


def _current_code_or_password_checked(
    *, user: User, code: str, password: str, via: str, actor: AuditActor
) -> None:
    if password:
        if login_throttle.login_is_locked_out(username=user.username, address=actor.address):
            raise TwoFactorRefused(gettext("Too many failed attempts. Try again later."))
        if not user.check_password(password):
            login_throttle.login_failure_record(
                username=user.username, address=actor.address, via=via
            )
            audit_record(
                action=AuditAction.LOGIN_FAILED,
                actor=actor,
                target_type="operator",
                target_id=user.pk,
                details={"via": via},
            )
            raise TwoFactorRefused(gettext("That password is not right."))
        return
    check = sign_in_code_check(user=user, code=code, actor=actor, via=via)
    if not check.is_accepted:
        raise TwoFactorRefused(check.refusal)


def two_factor_disable(
    *, user: User, actor: AuditActor, code: str = "", password: str = ""
) -> None:
    """The user turns it off with a current code (or a recovery code) or their password;
    not while their role requires it."""
    if two_factor_is_required_for(user):
        raise TwoFactorRefused(gettext("Your role must sign in with two steps."))
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise TwoFactorRefused(gettext("Two-step sign-in is off already."))
    _current_code_or_password_checked(
        user=user, code=code, password=password, via="two-factor-off", actor=actor
    )
    # The check stays outside the change: a wrong code is recorded whatever follows.
    with transaction.atomic():
        _second_factor_remove(user)
        audit_record(
            action=AuditAction.TWO_FACTOR_DISABLED,
            actor=actor,
            target_type="operator",
            target_id=user.pk,
            details={"username": user.username, "with": "password" if password else "code"},
        )


@transaction.atomic
def two_factor_reset(*, operator: User, actor: AuditActor) -> bool:
    """An admin removes an operator's authenticator app and recovery codes (a lost phone):
    the operator signs in with their password alone, or sets a new app up where their
    role requires one. Whether there was anything to remove."""
    had_two_factor = TOTPDevice.objects.filter(user=operator, confirmed=True).exists()
    _second_factor_remove(operator)
    audit_record(
        action=AuditAction.TWO_FACTOR_RESET,
        actor=actor,
        target_type="operator",
        target_id=operator.pk,
        details={"username": operator.username, "had_two_factor": had_two_factor},
    )
    return had_two_factor


def _second_factor_remove(user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()


def recovery_codes_renew(*, user: User, code: str, actor: AuditActor) -> list[str]:
    """New recovery codes for a current code; the old ones stop working."""
    _current_code_or_password_checked(
        user=user, code=code, password="", via="recovery-codes", actor=actor
    )
    with transaction.atomic():
        codes = recovery_codes_replace(user=user)
        audit_record(
            action=AuditAction.RECOVERY_CODES_RENEWED,
            actor=actor,
            target_type="operator",
            target_id=user.pk,
            details={"username": user.username},
        )
    return codes


@dataclass(frozen=True)
class CodeCheck:
    is_accepted: bool
    refusal: str = ""
    is_locked_out: bool = False
    is_recovery_code: bool = False


def sign_in_code_check(*, user: User, code: str, actor: AuditActor, via: str) -> CodeCheck:
    """A code from the authenticator app or a recovery code, throttled like passwords
    (per username and per address, shared with the password's count) and, for app codes,
    by the device's own doubling wait after each wrong one."""
    if login_throttle.login_is_locked_out(username=user.username, address=actor.address):
        return CodeCheck(
            is_accepted=False,
            is_locked_out=True,
            refusal=gettext("Too many failed attempts. Try again later."),
        )
    app_code = _app_code(code)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
    if app_code and device is not None:
        is_accepted, wait = _device_code_check(device.pk, app_code)
        if wait:
            return CodeCheck(
                is_accepted=False,
                is_locked_out=True,
                refusal=ngettext(
                    "Too many wrong codes. Wait %(seconds)s second, or use a recovery code.",
                    "Too many wrong codes. Wait %(seconds)s seconds, or use a recovery code.",
                    wait,
                )
                % {"seconds": wait},
            )
        kind = "app"
    else:
        # Recovery codes skip the device's wait: 60 random bits are not guessed, and a
        # stranger's wrong codes must not keep the user out.
        is_accepted = bool(recovery_code_normalized(code)) and recovery_code_use(
            user=user, typed=code
        )
        kind = "recovery"
    if is_accepted:
        if kind == "recovery":
            audit_record(
                action=AuditAction.RECOVERY_CODE_USED,
                actor=actor,
                target_type="operator",
                target_id=user.pk,
                details={"via": via, "remaining": recovery_codes_remaining(user=user)},
            )
        return CodeCheck(is_accepted=True, is_recovery_code=kind == "recovery")
    login_throttle.login_failure_record(
        username=user.username, address=actor.address, via=f"{via}-code"
    )
    audit_record(
        action=AuditAction.TWO_FACTOR_CODE_FAILED,
        actor=actor,
        target_type="operator",
        target_id=user.pk,
        details={"via": via, "kind": kind},
    )
    return CodeCheck(
        is_accepted=False,
        refusal=gettext("That code is not right, or it was used already."),
    )
