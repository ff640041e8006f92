"""Events automation rules answer, queued for the worker after commit.

The inbox does not know the rules (the `automation` app, above it, does): that app
registers, once at start, a reader of which triggers have an active rule. Each process
keeps the answer WATCHED_CACHE_SECONDS, so a path storing a message asks nothing of the
database, and nothing at all is queued while no active rule has the trigger. An event
that a rule watches queues one task (through the outbox) carrying every trigger it
fired, with a key naming the event so that each rule runs at most once for it.

A rule's own actions run inside `rules_acting`: the events they cause carry the chain
of rules that led to them and its depth, and the worker does not run a rule on its own
consequences, nor anything beyond MAX_DEPTH.
"""

import contextvars
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from inbox.kept_copies import KeptCopy
from inbox.task_outbox import tasks_send_on_commit

RULES_RUN_TASK = "automation.tasks.automation_rules_run"
# Several events in one task, in order: the batched receiving path queues its batch's so.
RULES_RUN_EVENTS_TASK = "automation.tasks.automation_rules_run_events"
WATCHED_CACHE_SECONDS = 5.0
# A rule's action may fire another rule, whose action may fire a third; no further.
MAX_DEPTH = 3


class Trigger(models.TextChoices):
    CONVERSATION_CREATED = "conversation_created", _("conversation created")
    MESSAGE_CREATED = "message_created", _("message from the customer")
    CONVERSATION_RESOLVED = "conversation_resolved", _("conversation resolved")
    CONVERSATION_REOPENED = "conversation_reopened", _("conversation reopened")
    SURVEY_ANSWERED = "survey_answered", _("survey answered")
    SLA_BREACHED = "sla_breached", _("SLA target missed")
    SNOOZE_ENDED = "snooze_ended", _("snoozed past its time")
    NO_CUSTOMER_REPLY = "no_customer_reply", _("no customer reply for a while")
    NO_OPERATOR_REPLY = "no_operator_reply", _("no operator reply for a while")


# Triggers the beat sweep fires by the clock rather than an action.
SWEPT_TRIGGERS = frozenset({Trigger.NO_CUSTOMER_REPLY, Trigger.NO_OPERATOR_REPLY})


# The rules whose actions are running, innermost last.
_acting: contextvars.ContextVar[tuple[int, ...]] = contextvars.ContextVar(
    "rules_acting", default=()
)
_watched_reader: Callable[[], frozenset[str]] | None = None


def _watched_read() -> frozenset[str]:
    return _watched_reader() if _watched_reader is not None else frozenset()


_watched = KeptCopy(_watched_read, seconds=WATCHED_CACHE_SECONDS)


def watched_triggers_reader_register(reader: Callable[[], frozenset[str]]) -> None:
    """The app holding the rules tells the inbox how to read which triggers are watched."""
    global _watched_reader
    _watched_reader = reader
    _watched.forget()


def watched_triggers() -> frozenset[str]:
    """Triggers with an active rule (one query at most every few seconds per process)."""
    return _watched.get()


def watched_triggers_cached() -> frozenset[str] | None:
    """As watched_triggers if this process read them moments ago; never queries (the
    batched path, on the event loop), None otherwise."""
    if _watched_reader is None:
        return frozenset()
    return _watched.fresh()


def watched_triggers_forget_cached() -> None:
    _watched.forget()


def rule_event_on_commit(
    *,
    triggers: Sequence[str],
    key: str,
    conversation_id: int,
    message_id: int | None = None,
    detail: str = "",
) -> None:
    """Queue the rules of the watched ones among `triggers` for the event named `key`
    (unique per event: a message, a resolve, a breach), after the caller's commit."""
    rule_events_on_commit(
        [
            rule_event(
                triggers=triggers,
                key=key,
                conversation_id=conversation_id,
                message_id=message_id,
                detail=detail,
            )
        ]
    )


def rule_event(
    *,
    triggers: Sequence[str],
    key: str,
    conversation_id: int,
    message_id: int | None = None,
    detail: str = "",
) -> dict[str, Any] | None:
    """The event as the worker takes it (see rule_event_on_commit), None when no active
    rule watches any of its triggers."""
    watched = watched_triggers()
    fired = [trigger for trigger in triggers if trigger in watched]
    if not fired:
        return None
    return {
        "triggers": fired,
        "key": key,
        "conversation": conversation_id,
        "message": message_id,
        "detail": detail,
        "caused_by_rules": list(_acting.get()),
    }


def rule_events_on_commit(events: Iterable[dict[str, Any] | None]) -> None:
    """Queue several events of rule_event (a task each) in one statement, after commit."""
    tasks_send_on_commit((RULES_RUN_TASK, [event]) for event in events if event is not None)


@contextmanager
def rules_acting(rule_ids: tuple[int, ...]) -> Iterator[None]:
    """Mark what runs inside as the actions of these rules (see the module docstring)."""
    token = _acting.set(rule_ids)
    try:
        yield
    finally:
        _acting.reset(token)
