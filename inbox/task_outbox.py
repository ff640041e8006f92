"""Tasks queued after commit, recorded with their cause so that a broker that is down
loses none of them.

A write that needs a task (a reply's delivery, a file to fetch, a conversation to
assign, a sender's name to ask) records a `PendingTask` row in its own transaction;
after commit the task is handed to the broker and the row deleted. When the broker
cannot take it (Redis down or not answering), the failure is logged and the row stays:
beat's sweep (`pending_tasks_send_due`, every OUTBOX_SWEEP_SECONDS) sends it once the
broker is back. Nothing is ever marked failed, and no request answers 500, because the
broker was away: the database holds what is still to be done. The hand-over after commit
waits on the broker no longer than BROKER_PUBLISH_DEADLINE_SECONDS in all, retries included,
and not at all while Redis is known to be silent (inbox.redis_silence): a hung Redis
delays a request by about a second, and the row makes up for the hand-over given up.

A row is deleted only after the broker took its task, so a task whose hand-over
provably did not happen is the only kind sent again; one waiting in the broker for a
scheduled retry, or running, has no row. The one window left (the process dies between
the broker taking the task and the row's deletion) sends the task twice: every task
queued this way is idempotent (a delivery is claimed before it is sent, a fetched file
or a named customer is not fetched or named again).
"""

import logging
import time
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from celery import current_app as celery_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inbox import redis_silence
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
    sent = recorded_tasks_publish(
        [(row.pk, row.task, row.args) for row in rows], countdown=countdown
    )
    if sent:
        PendingTask.objects.filter(pk__in=sent).delete()


def recorded_tasks_publish(
    rows: Sequence[tuple[int, str, list[Any]]], *, countdown: float | None = None
) -> list[int]:
    """Hand recorded tasks, (row id, task, args), to the broker in order; the ids of the
    rows it took, whose deletion is the caller's (no database here: the batched receiving
    path calls it off its event loop and deletes on its own connection)."""
    if not redis_silence.redis_worth_trying():
        logger.info(
            "Redis did not answer lately: %d tasks (%s) are left to the sweep",
            len(rows),
            rows[0][1],
        )
        return []
    deadline = _publish_deadline()
    sent: list[int] = []
    try:
        for row_id, task, args in rows:
            _publish(task, args, countdown=countdown, deadline=deadline)
            sent.append(row_id)
    except Exception as error:
        # The rows stay; beat's sweep sends them when the broker is back.
        redis_silence.redis_went_silent()
        logger.warning(
            "the broker did not take %d tasks (%s); they are sent again by the sweep: %r",
            len(rows) - len(sent),
            rows[len(sent)][1],
            error,
        )
    else:
        redis_silence.redis_answered()
    return sent


def task_publish_within_deadline(task: str, *, countdown: float | None = None) -> None:
    """Hand a task that may be lost (a wake-up that beat's schedule makes up for) straight
    to the broker, waiting no longer than BROKER_PUBLISH_DEADLINE_SECONDS."""
    _publish(task, [], countdown=countdown, deadline=_publish_deadline())


def _publish_deadline() -> float:
    return time.monotonic() + settings.BROKER_PUBLISH_DEADLINE_SECONDS


def _publish(task: str, args: list[Any], *, countdown: float | None, deadline: float) -> None:
    """Hand one task to the broker, trying again (BROKER_PUBLISH_RETRIES) only while the
    deadline allows: a broker that does not answer costs the request one socket timeout,
    not one per try."""

    def give_up_past_the_deadline(error: Exception, interval: float) -> None:
        if time.monotonic() + interval >= deadline:
            raise error

    celery_app.send_task(
        task,
        args=args,
        countdown=countdown,
        retry_policy={"errback": give_up_past_the_deadline},
    )


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
        redis_silence.redis_answered()
        logger.info("sent %d tasks the broker had not taken", len(sent))
    return len(sent)
