"""Channel secrets are stored encrypted (Fernet) with keys of their own.

CHANNEL_SECRETS_KEYS lists them (see config.settings): the first encrypts, any of them
decrypts, so a key is rotated by putting a new one first, re-encrypting every channel
(`manage.py channel_secrets_rotate`) and then dropping the old one.
"""

import base64
import hashlib
import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class ChannelSecretsUnreadable(Exception):
    """None of the configured keys decrypts the stored secrets."""

    reason = (
        "the channel's secrets cannot be decrypted with any of CHANNEL_SECRETS_KEYS: "
        "add the key they were stored with, or set the secrets again"
    )

    def __str__(self) -> str:
        return self.reason


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    # Any string is a key: Fernet's own key is the SHA-256 of it.
    return MultiFernet(
        [Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest())) for key in keys]
    )


def _fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.CHANNEL_SECRETS_KEYS))


def encrypt_secrets(values: dict[str, str]) -> str:
    if not values:
        return ""
    return _fernet().encrypt(json.dumps(values).encode()).decode()


def decrypt_secrets(token: str) -> dict[str, str]:
    """The channel's secrets; raises ChannelSecretsUnreadable when no key opens them."""
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise ChannelSecretsUnreadable from None


def reencrypt_secrets(token: str) -> str:
    """The same secrets encrypted with the first key; raises ChannelSecretsUnreadable."""
    if not token:
        return token
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise ChannelSecretsUnreadable from None
