"""One way to run a unit of work that may race with its own twin, and how to tell a lost
database connection from an error of the work itself.

It lives in the lowest app so that every app may use it without importing `config`."""

from collections.abc import Callable
from typing import TypeVar

import psycopg
from django.db import DatabaseError, IntegrityError, transaction

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


# Connection exceptions, and the server shutting down or not accepting connections yet.
_CONNECTION_LOST_STATES = ("08", "57P01", "57P02", "57P03")


def is_connection_lost(error: BaseException) -> bool:
    """The database connection went away under the work (a restart, a failover), not the
    work's own failure: idempotent work can run again on a new connection."""
    if not isinstance(error, DatabaseError):
        return False
    cause = error.__cause__
    if not isinstance(cause, psycopg.OperationalError | psycopg.InterfaceError):
        return False
    # The driver's own "connection is closed" / "server closed the connection" carry none.
    return cause.sqlstate is None or cause.sqlstate.startswith(_CONNECTION_LOST_STATES)


# Deadlock detected, serialization failure, lock not available.
_LOCK_CONFLICT_STATES = ("40P01", "40001", "55P03")


def is_lock_conflict(error: BaseException) -> bool:
    """Two transactions got in each other's way: the work succeeds when run again."""
    if not isinstance(error, DatabaseError):
        return False
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    return sqlstate in _LOCK_CONFLICT_STATES
