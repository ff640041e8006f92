"""Signing in in two steps. After the password the session holds a pending sign-in (who,
which step is next, where to go after), not a signed-in user: nothing of the product
answers it until the code (or, where the role requires it, setting an app up) completes
the sign-in. A session then says whether it passed the second step, which is what a role
that requires it is checked against on every request and socket."""

import time
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.contrib.auth import login
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

from inbox import login_throttle
from inbox.models import User
from inbox.two_factor.services import two_factor_is_required_for

_PENDING_KEY = "two_factor_pending"
_VERIFIED_KEY = "two_factor_verified"


class NextStep(StrEnum):
    CODE = "code"
    SET_UP = "set-up"


@dataclass(frozen=True)
class PendingSignIn:
    user: User
    next_step: NextStep
    # "login" or "admin": which sign-in page it started on.
    via: str
    next_url: str


def sign_in_pending_start(
    request: HttpRequest, *, user: User, next_step: NextStep, via: str, next_url: str
) -> None:
    request.session.cycle_key()
    request.session[_PENDING_KEY] = {
        "user": user.pk,
        # Django's digest of the password it was checked against: changed since, void.
        "password": user.get_session_auth_hash(),
        "next_step": next_step.value,
        "via": via,
        "next_url": next_url,
        "started": time.time(),
    }


def sign_in_pending(request: HttpRequest, *, next_step: NextStep) -> PendingSignIn | None:
    """The session's pending sign-in at that step, if it is still good."""
    pending = request.session.get(_PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("next_step") != next_step.value:
        return None
    if time.time() - float(pending.get("started", 0)) > settings.TWO_FACTOR_PENDING_SECONDS:
        request.session.pop(_PENDING_KEY, None)
        return None
    user_id = pending.get("user")
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None or user.get_session_auth_hash() != pending.get("password"):
        request.session.pop(_PENDING_KEY, None)
        return None
    return PendingSignIn(
        user=user,
        next_step=next_step,
        via=str(pending.get("via", "login")),
        next_url=str(pending.get("next_url", "/")),
    )


def sign_in_complete(request: HttpRequest, *, user: User, via: str, second_step: str = "") -> None:
    """Signs the user in (Django's login: a new session key, the audit record).
    `second_step`: "app", "recovery-code", "set-up" or "" (none)."""
    request.session.pop(_PENDING_KEY, None)
    details = {"via": via, "second_step": second_step} if second_step else {"via": via}
    request.sign_in_details = details  # type: ignore[attr-defined]
    login(request, user, backend="inbox.login_throttle.ThrottledModelBackend")
    passed_second_step = bool(second_step)
    session_second_step_passed(request, passed=passed_second_step)
    login_throttle.login_success_record(username=user.username)


def session_second_step_passed(request: HttpRequest, *, passed: bool = True) -> None:
    request.session[_VERIFIED_KEY] = passed


def session_meets_two_factor_requirement(user, session: SessionBase) -> bool:
    """False for a signed-in user whose role requires two steps and whose session did
    not pass them (signed in before the requirement, or before they had an app)."""
    if not getattr(user, "is_authenticated", False) or not two_factor_is_required_for(user):
        return True
    return session.get(_VERIFIED_KEY) is True
