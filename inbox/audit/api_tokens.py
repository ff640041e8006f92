"""Refused API tokens on the audit log, sparingly: a flood of wrong tokens (the login
throttle answers it with 429s) must not fill the table. At most one record per client
address a minute, and at most API_TOKEN_FAILURE_RECORDS_PER_MINUTE in all: a record
stands for its address's refusals of the minute that follows it (`once_a_minute`), and
the lockouts (LoginLockout) show the rest."""

from django.core.cache import cache

from inbox.audit.models import AuditAction
from inbox.audit.records import AuditActor, audit_record
from inbox.models import User

API_TOKEN_FAILURE_RECORDS_PER_MINUTE = 60


def _is_within_a_minutes_share(key: str, *, limit: int = 1) -> bool:
    # The minute starts with its first refusal.
    cache.add(key, 0, timeout=60)
    try:
        return cache.incr(key) <= limit
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=60)
        return True


def api_token_failure_record(*, address: str, reason: str, user: User | None = None) -> bool:
    """Whether a record was written. `reason`: "unknown", "inactive" or "malformed"."""
    if not _is_within_a_minutes_share(f"audit-api-token-failure:{address}"):
        return False
    if not _is_within_a_minutes_share(
        "audit-api-token-failure:all", limit=API_TOKEN_FAILURE_RECORDS_PER_MINUTE
    ):
        return False
    audit_record(
        action=AuditAction.API_TOKEN_FAILED,
        actor=AuditActor(user=user, address=address),
        target_type="operator" if user is not None else "",
        target_id=user.pk if user is not None else "",
        details={"via": "api-token", "reason": reason, "once_a_minute": True},
    )
    return True
