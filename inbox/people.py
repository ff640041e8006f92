"""Services for operators, their roles and teams."""

from collections.abc import Sequence

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext
from rest_framework.authtoken.models import Token

from inbox.audit.models import AuditAction
from inbox.audit.records import SYSTEM, AuditActor, audit_record, ids
from inbox.models import Role, Team, User


class OperatorInvalid(ValueError):
    def __init__(self, message: str, *, field: str = "username") -> None:
        super().__init__(message)
        self.field = field


@transaction.atomic
def operator_create(
    *,
    username: str,
    role: str = Role.OPERATOR,
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    teams: Sequence[Team] = (),
    actor: AuditActor = SYSTEM,
) -> User:
    if role not in Role.values:
        raise OperatorInvalid(
            gettext("role must be one of %(roles)s") % {"roles": ", ".join(Role.values)}
        )
    if User.objects.filter(username=username).exists():
        raise OperatorInvalid(
            gettext("the username %(username)s is taken") % {"username": repr(username)}
        )
    user = User(
        username=username,
        role=role,
        email=email,
        first_name=first_name,
        last_name=last_name,
        # Admins also get Django's admin site.
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    if password:
        try:
            validate_password(password, user=user)
        except ValidationError as invalid:
            raise OperatorInvalid(" ".join(invalid.messages), field="password") from invalid
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    if teams:
        user.teams.set(teams)
    audit_record(
        action=AuditAction.OPERATOR_CREATED,
        actor=actor,
        target_type="operator",
        target_id=user.pk,
        details={"username": user.username, "role": role, "teams": ids(teams)},
    )
    return user


@transaction.atomic
def operator_update(
    *,
    operator: User,
    actor: AuditActor,
    role: str | None = None,
    teams: Sequence[Team] | None = None,
    is_active: bool | None = None,
) -> User:
    """Change an operator's role, teams or whether they may sign in, on the audit log."""
    details: dict[str, object] = {}
    if role is not None and role != operator.role:
        details["role"] = {"from": operator.role, "to": role}
        operator.role = role
        # As operator_create: admins also get Django's admin site.
        operator.is_staff = operator.is_superuser = role == Role.ADMIN
    if is_active is not None and is_active != operator.is_active:
        details["is_active"] = {"from": operator.is_active, "to": is_active}
        operator.is_active = is_active
    if details:
        operator.save(update_fields=["role", "is_staff", "is_superuser", "is_active"])
    if teams is not None:
        before, after = set(ids(operator.teams.all())), set(ids(teams))
        if before != after:
            operator.teams.set(teams)
            details["teams"] = {"added": sorted(after - before), "removed": sorted(before - after)}
    if details:
        audit_record(
            action=AuditAction.OPERATOR_CHANGED,
            actor=actor,
            target_type="operator",
            target_id=operator.pk,
            details={"username": operator.username, **details},
        )
    return operator


def team_get_or_create(*, name: str) -> Team:
    team, _ = Team.objects.get_or_create(name=name)
    return team


def operator_api_token(*, user: User) -> str:
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


def operator_personal_settings_update(
    *,
    user: User,
    language: str | None = None,
    time_zone: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    notification_settings: dict | None = None,
) -> User:
    """Change what an operator may set for themselves; the settings not given stay."""
    changes = {
        field: value
        for field, value in (
            ("language", language),
            ("time_zone", time_zone),
            ("first_name", first_name),
            ("last_name", last_name),
            ("notification_settings", notification_settings),
        )
        if value is not None
    }
    for field, value in changes.items():
        setattr(user, field, value)
    if changes:
        user.save(update_fields=list(changes))
    return user
