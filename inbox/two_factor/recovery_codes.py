"""Recovery codes: made ten at a time, shown once, kept as digests, each good for one
sign-in. Twelve characters of a 32-letter alphabet without look-alikes (60 bits)."""

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from inbox.models import User
from inbox.two_factor.models import RecoveryCode

RECOVERY_CODE_COUNT = 10
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_LENGTH = 12
# What a person may type for what they read: case aside, O for 0, I and L for 1.
_TYPED = str.maketrans({"o": "0", "i": "1", "l": "1"})


def _digest(normalized: str) -> str:
    return hashlib.sha256(normalized.encode("ascii")).hexdigest()


def recovery_code_normalized(typed: str) -> str:
    """The code's letters alone, lower-cased, look-alikes read as meant ("" if it cannot
    be one)."""
    letters = "".join(char for char in typed.lower() if char.isascii() and char.isalnum())
    letters = letters.translate(_TYPED)
    if len(letters) != _LENGTH or any(char not in _ALPHABET for char in letters):
        return ""
    return letters


@transaction.atomic
def recovery_codes_replace(*, user: User) -> list[str]:
    """New codes for the user, in place of any earlier ones; the only time they are seen."""
    normalized = [
        "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    RecoveryCode.objects.filter(user=user).delete()
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_digest=_digest(code)) for code in normalized
    )
    return [
        "-".join(code[start : start + 4] for start in range(0, _LENGTH, 4)) for code in normalized
    ]


def recovery_code_use(*, user: User, typed: str) -> bool:
    """Marks the code used if it is one of the user's unused codes; two requests racing
    with the same code: one wins."""
    normalized = recovery_code_normalized(typed)
    if not normalized:
        return False
    used = RecoveryCode.objects.filter(
        user=user, code_digest=_digest(normalized), used_at__isnull=True
    ).update(used_at=timezone.now())
    return used == 1


def recovery_codes_remaining(*, user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
