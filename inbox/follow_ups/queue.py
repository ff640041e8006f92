"""Asking for a follow-up: a poor answer records a task in the answer's transaction
(inbox.task_outbox), so the answer path itself only adds a row; the task opens it."""

from inbox import survey_kinds
from inbox.task_outbox import task_send_on_commit

FOLLOW_UP_OPEN_TASK = "inbox.tasks.survey_follow_up_open"


def is_poor_answer(*, kind: str, rating: int | None) -> bool:
    """CSAT 1-2, CES 1-3, NPS 0-6 (a detractor)."""
    return rating is not None and rating <= survey_kinds.scale_of(kind).poor_up_to


def survey_follow_up_request(*, survey_id: int) -> None:
    """Have the follow-up of this poorly answered survey opened after commit."""
    task_send_on_commit(FOLLOW_UP_OPEN_TASK, [survey_id])
