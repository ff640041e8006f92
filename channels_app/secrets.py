"""Channel secrets are stored encrypted (Fernet) with a key from the environment."""

import base64
import hashlib
import json
import logging
import os
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

logger = logging.getLogger(__name__)


@cache
def _fernet() -> Fernet:
    key_material = os.environ.get("CHANNEL_SECRETS_KEY") or settings.SECRET_KEY
    key = base64.urlsafe_b64encode(hashlib.sha256(key_material.encode()).digest())
    return Fernet(key)


def encrypt_secrets(values: dict[str, str]) -> str:
    if not values:
        return ""
    return _fernet().encrypt(json.dumps(values).encode()).decode()


def decrypt_secrets(token: str) -> dict[str, str]:
    """The channel's secrets; {} (logged) when the key changed, so the channel answers
    as one without secrets (webhooks refused, sends failed with a reason) until an admin
    sets them again."""
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        logger.error(
            "channel secrets cannot be decrypted: CHANNEL_SECRETS_KEY (or SECRET_KEY) changed; "
            "set the channel's secrets again"
        )
        return {}
