"""API token authentication that reads the token and its user in one plain query."""

from functools import cache

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from customers.plain_sql import converted, fetch_all, quoted_column, quoted_table
from inbox import login_throttle
from inbox.audit.api_tokens import api_token_failure_record
from inbox.client_addresses import request_client_address
from inbox.models import User


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication (the same `Authorization: Token <key>` header, the same
    answers) with the token and its user read in one query written out: the ORM's
    `select_related("user").get(key=...)` costs ~1,300 Python calls, a fifth of a whole
    list request."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed as refused:
            # Counted per address only where a token was wrong: a valid token costs no
            # lookup more, and no one guesses a 160-bit token anyway.
            address = request_client_address(request)
            api_token_failure_record(
                address=address,
                reason=getattr(refused, "reason", "malformed"),
                user=getattr(refused, "user", None),
            )
            locked_out = login_throttle.login_is_locked_out(username=None, address=address)
            login_throttle.login_failure_record(username=None, address=address, via="api-token")
            if locked_out:
                raise exceptions.Throttled(
                    wait=settings.LOGIN_LOCKOUT_SECONDS,
                    detail=str(_("Too many failed sign-ins from this address; try again later.")),
                ) from None
            raise

    def authenticate_credentials(self, key):
        token_fields, user_fields, sql = _token_and_user_query()
        rows = fetch_all(sql, [key])
        if not rows:
            unknown = exceptions.AuthenticationFailed(_("Invalid token."))
            unknown.reason = "unknown"  # type: ignore[attr-defined]
            raise unknown
        row = rows[0]
        [token_values] = converted(Token, token_fields, [row[: len(token_fields)]])
        [user_values] = converted(User, user_fields, [row[len(token_fields) :]])
        token = Token.from_db(connection.alias, token_fields, token_values)
        user = User.from_db(connection.alias, user_fields, user_values)
        token.user = user
        if not user.is_active:
            inactive = exceptions.AuthenticationFailed(_("User inactive or deleted."))
            inactive.reason, inactive.user = "inactive", user  # type: ignore[attr-defined]
            raise inactive
        return (user, token)


@cache
def _token_and_user_query() -> tuple[list[str], list[str], str]:
    # Written once per process: the statement's text is also the key of its prepared plan.
    token_fields = [field.attname for field in Token._meta.concrete_fields]
    user_fields = [field.attname for field in User._meta.concrete_fields]
    columns = [f"t.{quoted_column(Token, name)}" for name in token_fields]
    columns += [f"u.{quoted_column(User, name)}" for name in user_fields]
    sql = (
        f"SELECT {', '.join(columns)} FROM {quoted_table(Token)} t "
        f"JOIN {quoted_table(User)} u ON u.{quoted_column(User, 'id')} = "
        f"t.{quoted_column(Token, 'user')} WHERE t.{quoted_column(Token, 'key')} = %s"
    )
    return token_fields, user_fields, sql
