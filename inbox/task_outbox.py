"""Tasks queued after commit, recorded with their cause so that a broker that is down
loses none of them.

A write that needs a task (a reply's delivery, a file to fetch, a conversation to
assign, a sender's name to ask) records a `PendingTask` row in its own transaction;
after commit the task is handed to the broker and the row deleted. When the broker
cannot take it (Redis down or not answering), the failure is logged and the row stays:
beat's sweep (`pending_tasks_send_due`, every OUTBOX_SWEEP_SECONDS) sends it once the
broker is back. Nothing is ever marked failed, and no request answers 500, because the
broker was away: the database holds what is still to be done.

A row is deleted only after the broker took its task, so a task whose hand-over
provably did not happen is the only kind sent again; one waiting in the broker for a
scheduled retry, or running, has no row. The one window left (the process dies between
the broker taking the task and the row's deletion) sends the task twice: every task
queued this way is idempotent (a delivery is claimed before it is sent, a fetched file
or a named customer is not fetched or named again).
"""

import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from celery import current_app as celery_app
from django.db import transaction
from django.utils import timezone

from inbox.models import PendingTask

logger = logging.getLogger(__name__)

SWEEP_TASK = "inbox.tasks.pending_tasks_send_due"
# At most this many rows are sent by one sweep (the next takes the rest).
SWEEP_BATCH = 500


def task_send_on_commit(task: str, args: Sequence[Any], *, countdown: float | None = None) -> None:
    """Record `task(*args)` in the current transaction and hand it to the broker after
    commit; outside a transaction the row is written (and the task sent) at once."""
    tasks_send_on_commit([(task, list(args))], countdown=countdown)


def tasks_send_on_commit(
    tasks: Iterable[tuple[str, list[Any]]], *, countdown: float | None = None
) -> None:
    """`task_send_on_commit` for several tasks, recorded in one statement."""
    not_before = timezone.now() + timedelta(seconds=countdown) if countdown else None
    rows = PendingTask.objects.bulk_create(
        [PendingTask(task=task, args=args, not_before=not_before) for task, args in tasks]
    )
    if rows:
        transaction.on_commit(lambda: _send_and_forget(rows, countdown=countdown), robust=True)


def _send_and_forget(rows: list[PendingTask], *, countdown: float | None) -> None:
    sent: list[int] = []
    try:
        for row in rows:
            celery_app.send_task(row.task, args=row.args, countdown=countdown)
            sent.append(row.pk)
    except Exception as error:
        # The rows stay; beat's sweep sends them when the broker is back.
        logger.warning(
            "the broker did not take %d tasks (%s); they are sent again by the sweep: %r",
            len(rows) - len(sent),
            rows[len(sent)].task,
            error,
        )
    if sent:
        PendingTask.objects.filter(pk__in=sent).delete()


def pending_tasks_send_due(*, older_than: timedelta, limit: int = SWEEP_BATCH) -> int:
    """Hand the broker the recorded tasks that it never took (rows older than
    `older_than`, so a hand-over still under way after its commit is left to finish),
    oldest first; returns how many went. Stops at the first refusal: the broker is away
    again, and the rest wait for the next sweep."""
    now = timezone.now()
    sent: list[int] = []
    with transaction.atomic():
        due = list(
            PendingTask.objects.select_for_update(skip_locked=True)
            .filter(created_at__lt=now - older_than)
            .exclude(not_before__gt=now)
            .order_by("pk")[:limit]
        )
        try:
            for row in due:
                celery_app.send_task(row.task, args=row.args)
                sent.append(row.pk)
        except Exception as error:
            logger.warning("the broker still takes no tasks (%d waiting): %r", len(due), error)
        PendingTask.objects.filter(pk__in=sent).delete()
    if sent:
        logger.info("sent %d tasks the broker had not taken", len(sent))
    return len(sent)
