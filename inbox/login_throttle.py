"""Login throttling: failures are counted per username and per client address (in the
cache, Redis in production); past LOGIN_FAILURE_LIMIT within LOGIN_LOCKOUT_SECONDS the
username or address is locked out for LOGIN_LOCKOUT_SECONDS, on the sign-in page, the
admin's, the two-step sign-in's code and API tokens alike. Each lockout is recorded for
admins (LoginLockout)."""

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from inbox.client_addresses import request_client_address
from inbox.models import LoginLockout

logger = logging.getLogger(__name__)

Scope = LoginLockout.Scope


def _failures_key(scope: str, value: str) -> str:
    digest = hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]
    return f"login-failures:{scope}:{digest}"


def _subjects(*, username: str | None, address: str) -> list[tuple[str, str]]:
    subjects = [(Scope.ADDRESS.value, address)]
    if username:
        subjects.append((Scope.USERNAME.value, username.strip().lower()))
    return subjects


def login_is_locked_out(*, username: str | None, address: str) -> bool:
    keys = [_failures_key(*subject) for subject in _subjects(username=username, address=address)]
    return any(count >= settings.LOGIN_FAILURE_LIMIT for count in cache.get_many(keys).values())


def login_failure_record(*, username: str | None, address: str, via: str) -> None:
    for scope, value in _subjects(username=username, address=address):
        key = _failures_key(scope, value)
        cache.add(key, 0, timeout=settings.LOGIN_LOCKOUT_SECONDS)
        try:
            failures = cache.incr(key)
        except ValueError:  # expired between add and incr
            failures = 1
            cache.set(key, failures, timeout=settings.LOGIN_LOCKOUT_SECONDS)
        if failures == settings.LOGIN_FAILURE_LIMIT:
            # The lockout lasts its full time from the failure that started it.
            cache.set(key, failures, timeout=settings.LOGIN_LOCKOUT_SECONDS)
            LoginLockout.objects.create(
                scope=scope,
                value=value,
                via=via,
                locked_until=timezone.now() + timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS),
            )
            logger.warning("sign-in locked out for %s %s after %s failures", scope, value, failures)


def login_success_record(*, username: str) -> None:
    cache.delete(_failures_key(Scope.USERNAME.value, username.strip().lower()))


def login_lockout_lift(*, lockout: LoginLockout) -> None:
    cache.delete(_failures_key(lockout.scope, lockout.value))
    LoginLockout.objects.filter(scope=lockout.scope, value=lockout.value).delete()


class ThrottledModelBackend(ModelBackend):
    """Django's username-and-password check, refused while the username or the address
    is locked out; the answer is the same as for a wrong password."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return super().authenticate(request, username=username, password=password, **kwargs)
        address = request_client_address(request)
        if login_is_locked_out(username=username, address=address):
            raise PermissionDenied
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            via = "admin" if request.path.startswith("/admin/") else "login"
            login_failure_record(username=username, address=address, via=via)
        # A right password clears nothing yet: the username's count is cleared when the
        # sign-in completes (inbox.two_factor.sign_in), after its code where one is asked,
        # so knowing the password never buys more guesses at the code.
        return user
