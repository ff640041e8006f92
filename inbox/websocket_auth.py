"""Websocket authentication: a browser's session cookie, or `Authorization: Token <key>`.

The user is resolved once, at the handshake, and is all a socket keeps: no session or
cookie objects stay in its scope for the hours an operator's tab stays open.
"""

from importlib import import_module
from urllib.parse import urlparse

from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.http.cookie import parse_cookie
from rest_framework.authtoken.models import Token

from inbox.two_factor.sign_in import session_meets_two_factor_requirement


def _header(headers, name: bytes) -> str:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return ""


@database_sync_to_async
def _user_for_handshake(headers):
    scheme, _, key = _header(headers, b"authorization").partition(" ")
    if scheme.lower() == "token" and key.strip():
        token = Token.objects.select_related("user").filter(key=key.strip()).first()
        if token is None or not token.user.is_active:
            return AnonymousUser()
        return token.user
    session_key = parse_cookie(_header(headers, b"cookie")).get(settings.SESSION_COOKIE_NAME)
    if not session_key:
        return AnonymousUser()
    session_store = import_module(settings.SESSION_ENGINE).SessionStore
    # Django's own reading of a session's user: backend, active account, password hash.
    request = HttpRequest()
    request.session = session_store(session_key)
    user = get_user(request)
    if not session_meets_two_factor_requirement(user, request.session):
        return AnonymousUser()
    return user


class OperatorAuthMiddleware:
    """Puts the handshake's user in the scope (AnonymousUser when there is none)."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope, receive, send):
        user = await _user_for_handshake(scope.get("headers", ()))
        return await self.inner({**scope, "user": user}, receive, send)


class BrowserOriginValidator(OriginValidator):
    """Refuse cross-site browser sockets; let clients that send no Origin (not browsers) in.

    Browsers always send Origin, and only they carry ambient cookies, so a missing
    Origin carries no cross-site risk; API clients authenticate with a token header.
    A browser's Origin must be one of this site's own full origins (scheme, host and
    port): PUBLIC_BASE_URL's or one of CSRF_TRUSTED_ORIGINS (where `https://*.example.com`
    stands for the subdomains of example.com). Read at each handshake, so a settings
    change needs no new application.
    """

    def __init__(self, application) -> None:
        super().__init__(application, allowed_origins=[])

    def valid_origin(self, parsed_origin) -> bool:
        if parsed_origin is None:
            return True
        origin = _full_origin(parsed_origin)
        return origin is not None and any(
            _origin_matches(origin, trusted) for trusted in trusted_origins()
        )


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _full_origin(parsed) -> tuple[str, str, int] | None:
    scheme = (parsed.scheme or "").lower()
    try:
        port = parsed.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    host = (parsed.hostname or "").lower()
    if not host or port is None:
        return None
    return scheme, host, port


def trusted_origins() -> list[tuple[str, str, int]]:
    """The full origins this site's pages are served from."""
    urls = [settings.PUBLIC_BASE_URL, *settings.CSRF_TRUSTED_ORIGINS]
    return [origin for origin in (_full_origin(urlparse(url)) for url in urls) if origin]


def _origin_matches(origin: tuple[str, str, int], trusted: tuple[str, str, int]) -> bool:
    scheme, host, port = origin
    trusted_scheme, trusted_host, trusted_port = trusted
    if (scheme, port) != (trusted_scheme, trusted_port):
        return False
    if trusted_host.startswith("*."):
        return host.endswith(trusted_host[1:])
    return host == trusted_host
