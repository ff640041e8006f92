"""A message's failure reason as an English reader sees it, for tests that check what
operators read."""

from django.utils import translation

from inbox.delivery_failures import failure_text


def reason_text(message) -> str:
    with translation.override("en"):
        return failure_text(message.error)
