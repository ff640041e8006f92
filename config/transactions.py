"""One way to run a unit of work that may race with its own twin."""

from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, transaction

T = TypeVar("T")


def atomic_retrying_conflicts(
    work: Callable[[], T], *, is_whole_unit: bool = False, attempts: int = 2
) -> T:
    """Run `work` in a transaction; a unique-constraint conflict (a concurrent insert of
    the same message or identity) runs it again, when the second pass finds the row.

    Inside a caller's transaction no savepoint is taken (they cost round trips on the hot
    path): the conflict propagates and the caller that runs the whole unit of work
    (`is_whole_unit=True`, always its own transaction or savepoint) retries it all.
    """
    if not is_whole_unit and transaction.get_connection().in_atomic_block:
        with transaction.atomic(savepoint=False):
            return work()
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                return work()
        except IntegrityError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")
