"""Replies sent with an `Idempotency-Key`: a client that sends the same reply again (a
double click, a retry after a timeout whose answer it never saw) gets the first answer
back, and nothing is stored or sent twice.

The key is claimed by inserting its row, unique per operator, in the reply's own
transaction: of two requests with the same key at once, the second waits on the first's
row and, once the first commits, reads its answer; if the first failed (bad input, say),
its row went with it and the second proceeds.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from inbox.models import ReplyIdempotencyKey, User

IDEMPOTENCY_KEY_LIFETIME = timedelta(hours=24)
# A request waits on another holding the same key, then reads it; if that one rolled back
# in between, the key is free again and this one tries once more.
_CLAIM_ATTEMPTS = 3


@dataclass(frozen=True)
class ReplyAnswer:
    status_code: int
    body: dict[str, Any]
    message_id: int | None = None
    is_replayed: bool = False


class IdempotencyKeyReused(Exception):
    """The key was given before for another request (another body, files or conversation)."""


def message_reply_once(
    *,
    operator: User,
    key: str,
    request_hash: str,
    reply: Callable[[], ReplyAnswer],
) -> ReplyAnswer:
    """Run `reply` unless this operator used `key` within its lifetime; then answer what
    the first request got. Raises IdempotencyKeyReused if the key came with another
    request (a different `request_hash`)."""
    for _ in range(_CLAIM_ATTEMPTS):
        with transaction.atomic():
            now = timezone.now()
            ReplyIdempotencyKey.objects.filter(
                operator=operator, key=key, created_at__lt=now - IDEMPOTENCY_KEY_LIFETIME
            ).delete()
            try:
                with transaction.atomic():
                    claimed = ReplyIdempotencyKey.objects.create(
                        operator=operator, key=key, request_hash=request_hash, created_at=now
                    )
            except IntegrityError:
                earlier = ReplyIdempotencyKey.objects.filter(operator=operator, key=key).first()
                if earlier is None:
                    continue
                if earlier.request_hash != request_hash:
                    raise IdempotencyKeyReused(key) from None
                return ReplyAnswer(
                    status_code=earlier.response_status or 200,
                    body=earlier.response_body or {},
                    message_id=earlier.message_id,
                    is_replayed=True,
                )
            answer = reply()
            claimed.response_status = answer.status_code
            claimed.response_body = answer.body
            claimed.message_id = answer.message_id
            claimed.save(update_fields=["response_status", "response_body", "message"])
            return answer
    raise IdempotencyKeyReused(key)


def reply_idempotency_keys_forget_expired() -> int:
    """Drop keys past their lifetime (beat): their replies are answered anew."""
    deleted, _ = ReplyIdempotencyKey.objects.filter(
        created_at__lt=timezone.now() - IDEMPOTENCY_KEY_LIFETIME
    ).delete()
    return deleted
