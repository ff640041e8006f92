"""Mail that arrives together is stored together: the SMTP server's workers and an IMAP
poll hand over the messages they have at hand, which are stored in one transaction (one
commit, and one round trip to the channel layer for all their broadcasts) instead of one
each.

Each message keeps the outcome it would have had alone. Its inbox work runs in a
savepoint of its own (`mail_receive` takes one), so a message the inbox trips on is kept
as a failed raw event without undoing the others; a message our side cannot store at all
(a database error that escapes it, such as a deadlock with another batch) rolls the batch
back, and every message of it is then stored alone, in its own transaction, as it would
have been without batching.
"""

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.db import DatabaseError, transaction

from inbox import realtime

logger = logging.getLogger(__name__)

Result = TypeVar("Result")


class _BatchAbandoned(Exception):
    """A unit left the transaction unusable: the batch is run again unit by unit."""


def store_together(units: Sequence[Callable[[], Result]]) -> list[Result | Exception]:
    """Run each unit of work, in order, in one transaction; returns each one's result or
    the exception it raised, as running it alone would have."""
    with realtime.broadcasts_gathered():
        try:
            return _in_one_transaction(units)
        except _BatchAbandoned:
            logger.info("a batch of %d mails is stored one by one", len(units))
        return [_outcome(unit) for unit in units]


def _in_one_transaction(units: Sequence[Callable[[], Result]]) -> list[Result | Exception]:
    outcomes: list[Result | Exception] = []
    try:
        with transaction.atomic():
            for unit in units:
                outcome = _outcome(unit)
                if isinstance(outcome, DatabaseError) or transaction.get_rollback():
                    raise _BatchAbandoned from (outcome if isinstance(outcome, Exception) else None)
                outcomes.append(outcome)
    except DatabaseError as error:
        # The commit itself failed: nothing of the batch is stored.
        raise _BatchAbandoned from error
    return outcomes


def _outcome(unit: Callable[[], Result]) -> Result | Exception:
    try:
        return unit()
    except Exception as error:
        return error
