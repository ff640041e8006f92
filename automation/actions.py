"""A rule's actions: their JSON shape, checked when a rule is saved, and doing them
through the inbox's own services (so each shows in the thread and live, as an
operator's would).

Shape: a list, done in order, of
    {"type": "assign_operator", "operator": <user id>}
    {"type": "assign_team", "team": <team id>}
    {"type": "assign_round_robin", "team": <team id>}  (the next online member by turns)
    {"type": "add_labels" | "remove_labels", "labels": [<label id>...]}
    {"type": "set_priority", "priority": "low" | "normal" | "high" | "urgent"}
    {"type": "send_canned_reply", "canned_response": <id>}
    {"type": "add_note", "body": "<text>"}
    {"type": "resolve"}
    {"type": "snooze", "minutes": <n>}  (at most a year)

A canned reply goes in the customer's language when a translation of it exists: a
shared canned response whose shortcut is the original's followed by "-<language>"
(`welcome` → `welcome-ru`, `welcome-pl`); else as it is.
"""

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext, ngettext

from automation.conditions import RuleInvalid
from inbox import services
from inbox.canned_responses import canned_body_filled, canned_response_list_for
from inbox.labels import conversation_labels_add, conversation_labels_remove
from inbox.models import CannedResponse, Conversation, Label, Priority, Team, User

_FIELDS: dict[str, dict[str, str]] = {
    "assign_operator": {"operator": "id"},
    "assign_team": {"team": "id"},
    "assign_round_robin": {"team": "id"},
    "add_labels": {"labels": "ids"},
    "remove_labels": {"labels": "ids"},
    "set_priority": {"priority": "priority"},
    "send_canned_reply": {"canned_response": "id"},
    "add_note": {"body": "text"},
    "resolve": {},
    "snooze": {"minutes": "minutes"},
}
ACTION_TYPES = tuple(_FIELDS)
# A turn-based assignment that found nobody: the conversation waits in the team's queue.
NOBODY_WITH_ROOM = "nobody online with room"
MAX_ACTIONS = 20
# A year: a longer snooze is a mistake, and one past the year 9999 cannot be done at all.
MAX_SNOOZE_MINUTES = 366 * 24 * 60


def check_actions(value: Any) -> list[dict]:
    if not isinstance(value, list) or not value:
        raise RuleInvalid(gettext("actions must be a list of at least one action"))
    if len(value) > MAX_ACTIONS:
        raise RuleInvalid(
            ngettext(
                "at most %(count)s action in a rule",
                "at most %(count)s actions in a rule",
                MAX_ACTIONS,
            )
            % {"count": MAX_ACTIONS}
        )
    for action in value:
        if not isinstance(action, dict) or action.get("type") not in _FIELDS:
            raise RuleInvalid(
                gettext("each action needs a type, one of %(choices)s")
                % {"choices": ", ".join(ACTION_TYPES)}
            )
        for field, kind in _FIELDS[action["type"]].items():
            if not _has_shape(action.get(field), kind):
                raise RuleInvalid(
                    gettext("the %(type)s action needs a valid %(field)s")
                    % {"type": action["type"], "field": field}
                )
    return value


def _has_shape(value: Any, kind: str) -> bool:
    if kind == "id":
        return isinstance(value, int) and not isinstance(value, bool) and value > 0
    if kind == "minutes":
        return _has_shape(value, "id") and value <= MAX_SNOOZE_MINUTES
    if kind == "ids":
        return isinstance(value, list) and bool(value) and all(_has_shape(v, "id") for v in value)
    if kind == "priority":
        return value in Priority.values
    return isinstance(value, str) and bool(value.strip())


def action_do(action: dict, conversation: Conversation, *, actor: User | None = None) -> str:
    """Do one action, as `actor` (an operator applying a macro) or as the system (a rule);
    a short account of what happened (for the run log). Raises
    services.ConversationActionInvalid (or LookupError for a row since deleted) when the
    action does not fit."""
    kind = action["type"]
    if kind == "assign_operator":
        operator = _get(User, action["operator"])
        services.conversation_assign(conversation=conversation, operator=operator, actor=actor)
        return f"assigned to {operator.username}"
    if kind == "assign_team":
        team = _get(Team, action["team"])
        services.conversation_assign(conversation=conversation, team=team, actor=actor)
        return f"team {team.name}"
    if kind == "assign_round_robin":
        team = _get(Team, action["team"])
        assigned = services.conversation_assign_by_turns(
            conversation=conversation, team=team, actor=actor
        )
        if assigned is None:
            return NOBODY_WITH_ROOM
        return f"assigned to {conversation.assignee.username}"  # type: ignore[union-attr]
    if kind in ("add_labels", "remove_labels"):
        return _labels_change(
            conversation, action["labels"], is_adding=kind == "add_labels", actor=actor
        )
    if kind == "set_priority":
        services.conversation_set_priority(
            conversation=conversation, priority=action["priority"], actor=actor
        )
        return f"priority {action['priority']}"
    if kind == "send_canned_reply":
        canned = _canned_in_language(
            _canned_for(actor, action["canned_response"]), conversation.customer.language
        )
        body = canned_body_filled(canned.body, customer=conversation.customer, operator=actor)
        message = services.message_reply(conversation=conversation, author=actor, body=body)
        return f"sent {canned.shortcut} (message {message.pk})"
    if kind == "add_note":
        message = services.message_reply(
            conversation=conversation, author=actor, body=action["body"], is_private=True
        )
        return f"note {message.pk}"
    if kind == "resolve":
        services.conversation_resolve(conversation=conversation, resolved_by=actor)
        return "resolved"
    if kind == "snooze":
        until = timezone.now() + timedelta(minutes=action["minutes"])
        services.conversation_snooze(conversation=conversation, until=until, actor=actor)
        return f"snoozed until {until.isoformat()}"
    raise LookupError(kind)


def _get(model, pk: int):
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise LookupError(f"{model._meta.model_name} {pk} no longer exists")
    return found


def _canned_for(actor: User | None, pk: int) -> CannedResponse:
    if actor is None:
        return _get(CannedResponse, pk)
    # An operator's macro sends only what they may read: the shared replies and their own,
    # never a colleague's personal one named by its id.
    found = canned_response_list_for(user=actor).filter(pk=pk).first()
    if found is None:
        raise LookupError(f"canned response {pk} is not {actor.username}'s to send")
    return found


def _labels_change(
    conversation: Conversation, label_ids: list[int], *, is_adding: bool, actor: User | None
) -> str:
    if is_adding:
        labels = list(Label.objects.filter(pk__in=label_ids))
        conversation_labels_add(conversation=conversation, labels=labels, actor=actor)
    else:
        conversation_labels_remove(conversation=conversation, label_ids=label_ids, actor=actor)
    names = sorted(label.name for label in conversation.labels.all())
    return f"labels {', '.join(names) or '-'}"


def _canned_in_language(canned: CannedResponse, language: str) -> CannedResponse:
    if not language:
        return canned
    translated = CannedResponse.objects.filter(
        is_shared=True, shortcut=f"{canned.shortcut}-{language}"
    ).first()
    return translated or canned
