"""Writing the audit log: one function per kind of thing worth a record, each called by
the service that does the thing, inside its transaction (a change and its record are
committed together or not at all)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from inbox.audit.models import AuditAction, AuditRecord
from inbox.client_addresses import request_client_address
from inbox.models import User


@dataclass(frozen=True)
class AuditActor:
    """Who did it and from where; `user` None is the system (a beat task, a command)."""

    user: User | None = None
    address: str = ""


SYSTEM = AuditActor()


def audit_actor(request: HttpRequest) -> AuditActor:
    user = getattr(request, "user", None)
    return AuditActor(
        user=user if user is not None and user.is_authenticated else None,
        address=request_client_address(request),
    )


def audit_record(
    *,
    action: AuditAction,
    actor: AuditActor,
    target_type: str = "",
    target_id: object = "",
    details: Mapping[str, Any] | None = None,
    actor_username: str = "",
) -> AuditRecord:
    user = actor.user
    return AuditRecord.objects.create(
        action=action,
        actor=user,
        actor_username=user.username if user is not None else actor_username[:150],
        client_address=actor.address[:64],
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else "",
        details=dict(details or {}),
    )


_ABSENT = object()


def changed_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The names of the keys added, removed or given another value; never the values."""
    keys = set(before) | set(after)
    return sorted(key for key in keys if before.get(key, _ABSENT) != after.get(key, _ABSENT))


def ids(values: Iterable[Any]) -> list[int]:
    return sorted(int(getattr(value, "pk", value)) for value in values)
