"""Who a widget visitor is: a server-signed anonymous token, and what they told us.

The token is the visitor's only credential. It is signed with the project's secret key
(salted per channel), so a browser can keep it but not forge or move it to another
channel. Identification (the pre-chat form, or a site vouching for its logged-in user
with an HMAC) is folded into a fresh token, so every later message carries it.
"""

import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass, replace
from enum import StrEnum

from django.core import signing
from django.utils.crypto import salted_hmac

TOKEN_SALT = "channels_app.widget.visitor"
FRAME_SIGNATURE_SALT = "channels_app.widget.frame"
# Long enough for years of returning visitors; the site can drop it from localStorage.
TOKEN_MAX_AGE_SECONDS = 365 * 24 * 3600


@dataclass(frozen=True)
class Visitor:
    visitor_id: str
    name: str = ""
    email: str = ""
    # Set only when the site proved who the visitor is (see identity_hash_check).
    user_id: str = ""
    # The site also signed the email (email_hash): only then may it join another profile.
    is_email_verified: bool = False

    @property
    def is_verified(self) -> bool:
        return bool(self.user_id)


def _salt(public_id: str) -> str:
    return f"{TOKEN_SALT}:{public_id}"


def visitor_new() -> Visitor:
    return Visitor(visitor_id=secrets.token_hex(16))


def visitor_token(*, public_id: str, visitor: Visitor) -> str:
    fields = {key: value for key, value in asdict(visitor).items() if value}
    return signing.dumps(fields, salt=_salt(public_id), compress=True)


def visitor_from_token(*, public_id: str, token: str) -> Visitor | None:
    """The visitor the token was issued to on this channel, or None if it is not ours."""
    try:
        fields = signing.loads(token, salt=_salt(public_id), max_age=TOKEN_MAX_AGE_SECONDS)
    except (signing.BadSignature, UnicodeError):
        return None
    if not isinstance(fields, dict) or not isinstance(fields.get("visitor_id"), str):
        return None
    return Visitor(
        visitor_id=fields["visitor_id"],
        name=str(fields.get("name", "")),
        email=str(fields.get("email", "")),
        user_id=str(fields.get("user_id", "")),
        is_email_verified=fields.get("is_email_verified") is True,
    )


def visitor_with_claims(visitor: Visitor, *, name: str, email: str) -> Visitor:
    """What the visitor typed: shown to operators, never trusted for merging."""
    if visitor.is_verified:
        # A proven identity is not overwritten by what somebody types afterwards.
        return replace(visitor, name=visitor.name or name)
    return replace(visitor, name=name or visitor.name, email=email or visitor.email)


def visitor_verified(
    visitor: Visitor, *, user_id: str, name: str, email: str, is_email_verified: bool
) -> Visitor:
    return replace(
        visitor,
        user_id=user_id,
        name=name or visitor.name,
        email=email,
        is_email_verified=bool(email) and is_email_verified,
    )


class IdentityKind(StrEnum):
    """What a site signs. The kind is part of the signed message, so a signature for a
    user id never verifies an email (a site whose users choose their ids would otherwise
    let one pick `victim@example.com` and pass it off as that address)."""

    USER = "user"
    EMAIL = "email"


class IdentityHashCheck(StrEnum):
    VALID = "valid"
    # The earlier form: HMAC of the bare value, the same for a user id and an email.
    LEGACY = "legacy"
    INVALID = "invalid"


def identity_signature(*, identity_secret: str, kind: IdentityKind, value: str) -> str:
    """hex HMAC-SHA256(identity_secret, "<kind>:<value>"), what the site computes."""
    message = f"{kind.value}:{value}".encode()
    return hmac.new(identity_secret.encode(), message, hashlib.sha256).hexdigest()


def identity_hash_check(
    *, identity_secret: str, kind: IdentityKind, value: str, given: str, accept_legacy: bool
) -> IdentityHashCheck:
    if not identity_secret or not value or not given:
        return IdentityHashCheck.INVALID
    try:
        given_bytes = given.strip().lower().encode()
        expected = identity_signature(identity_secret=identity_secret, kind=kind, value=value)
        legacy = hmac.new(identity_secret.encode(), value.encode(), hashlib.sha256).hexdigest()
    except UnicodeError:
        return IdentityHashCheck.INVALID
    if hmac.compare_digest(expected.encode(), given_bytes):
        return IdentityHashCheck.VALID
    if accept_legacy and hmac.compare_digest(legacy.encode(), given_bytes):
        return IdentityHashCheck.LEGACY
    return IdentityHashCheck.INVALID


def frame_signature(*, public_id: str, body: bytes) -> str:
    """Marks a message body as built by our widget socket, not posted by a stranger."""
    return salted_hmac(f"{FRAME_SIGNATURE_SALT}:{public_id}", body, algorithm="sha256").hexdigest()


def frame_body(fields: dict[str, object]) -> bytes:
    return json.dumps(fields, separators=(",", ":"), sort_keys=True).encode()
