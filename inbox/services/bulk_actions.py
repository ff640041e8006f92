"""One action on many conversations at once (an operator's selection in the inbox, or
every conversation of a filtered view), each through the same service as the single
action, so that its events, realtime updates and SLA clocks follow as they would."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from inbox import labels as label_services
from inbox import selectors
from inbox.models import Conversation, Label, Team, User
from inbox.services.assignment import UNSET, conversation_assign
from inbox.services.conversation_actions import (
    ConversationActionInvalid,
    conversation_reopen,
    conversation_resolve,
    conversation_snooze,
)

# How many conversations one call may act on: each is its own transaction with its own
# events, so a call's time grows with it (about 5 ms each on PostgreSQL).
BULK_ACTION_MAX_CONVERSATIONS = 500

BULK_ACTIONS = ("assign", "label", "unlabel", "resolve", "snooze", "reopen")


@dataclass(frozen=True)
class BulkActionParameters:
    """What an action needs beyond the conversations: `operator` and/or `team` for assign
    (UNSET: leave it as it is; None: take it away), `labels` for label and unlabel,
    `until` for snooze."""

    operator: User | object | None = UNSET
    team: Team | object | None = UNSET
    labels: Sequence[Label] = field(default_factory=tuple)
    until: datetime | None = None


@dataclass(frozen=True)
class BulkActionResult:
    conversation_id: int
    is_done: bool
    error: str = ""


def conversations_bulk_act(
    *,
    user: User,
    conversation_ids: Sequence[int],
    action: str,
    parameters: BulkActionParameters,
) -> list[BulkActionResult]:
    """Apply `action` to each conversation the user may see, one transaction each: one
    refused (not visible, or not fitting its state) does not stop the others. Answers a
    result per id, in the order given (repeated ids once)."""
    if action not in BULK_ACTIONS:
        raise ValueError(f"unknown bulk action {action!r}")
    wanted = list(dict.fromkeys(conversation_ids))[:BULK_ACTION_MAX_CONVERSATIONS]
    # Loaded at once, with what the services and the realtime events read of each.
    found = {
        conversation.pk: conversation
        for conversation in selectors.conversations_for_bulk_action(
            user=user, conversation_ids=wanted
        )
    }
    act = _ACTIONS[action]
    results = []
    for conversation_id in wanted:
        conversation = found.get(conversation_id)
        if conversation is None:
            results.append(
                BulkActionResult(
                    conversation_id, is_done=False, error=gettext("No such conversation.")
                )
            )
            continue
        try:
            with transaction.atomic():
                act(conversation, user, parameters)
        except (ConversationActionInvalid, label_services.LabelInvalid) as error:
            results.append(BulkActionResult(conversation_id, is_done=False, error=str(error)))
        else:
            results.append(BulkActionResult(conversation_id, is_done=True))
    return results


def _assign(conversation: Conversation, actor: User, parameters: BulkActionParameters) -> None:
    conversation_assign(
        conversation=conversation, operator=parameters.operator, team=parameters.team, actor=actor
    )


def _label(conversation: Conversation, actor: User, parameters: BulkActionParameters) -> None:
    label_services.conversation_labels_add(
        conversation=conversation, labels=parameters.labels, actor=actor
    )


def _unlabel(conversation: Conversation, actor: User, parameters: BulkActionParameters) -> None:
    label_services.conversation_labels_remove(
        conversation=conversation,
        label_ids={label.pk for label in parameters.labels},
        actor=actor,
    )


def _resolve(conversation: Conversation, actor: User, parameters: BulkActionParameters) -> None:
    conversation_resolve(conversation=conversation, resolved_by=actor)


def _snooze(conversation: Conversation, actor: User, parameters: BulkActionParameters) -> None:
    if parameters.until is None:
        raise ConversationActionInvalid(gettext("snooze until a time in the future"))
    conversation_snooze(conversation=conversation, until=parameters.until, actor=actor)


def _reopen(conversation: Conversation, actor: User, parameters: BulkActionParameters) -> None:
    conversation_reopen(conversation=conversation, actor=actor)


_ACTIONS: dict[str, Callable[[Conversation, User, BulkActionParameters], Any]] = {
    "assign": _assign,
    "label": _label,
    "unlabel": _unlabel,
    "resolve": _resolve,
    "snooze": _snooze,
    "reopen": _reopen,
}
