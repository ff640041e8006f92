"""Services for operators, their roles and teams."""

from collections.abc import Sequence

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext
from rest_framework.authtoken.models import Token

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
    return user


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
) -> User:
    """Change what an operator may set for themselves; the settings not given stay."""
    changes = {
        field: value
        for field, value in (
            ("language", language),
            ("time_zone", time_zone),
            ("first_name", first_name),
            ("last_name", last_name),
        )
        if value is not None
    }
    for field, value in changes.items():
        setattr(user, field, value)
    if changes:
        user.save(update_fields=list(changes))
    return user
