"""A conversation event as one line of the thread ("Anna assigned this to Ben"), worded
in the active language and time zone: the reader's, as each page, API answer and
operator socket activates it (the event's data stays in the source language).

Every line is one whole sentence of the catalogue; names are lists, so a label line
chooses the singular or plural sentence by whether one name or several are listed.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext, gettext_lazy, pgettext

from inbox.models import ConversationEvent, ConversationEventKind, Priority


def conversation_event_text(event: ConversationEvent) -> str:
    actor = event.actor.display_name if event.actor_id and event.actor is not None else ""
    data = event.data or {}
    wording = WORDINGS.get(event.kind)
    return wording(actor, data) if wording is not None else event.kind


def _assigned(actor: str, data: dict[str, Any]) -> str:
    operator = data.get("operator", "")
    if actor and actor == operator:
        return gettext("%(actor)s took this conversation") % {"actor": actor}
    if actor:
        return gettext("%(actor)s assigned this to %(operator)s") % {
            "actor": actor,
            "operator": operator,
        }
    return gettext("Assigned to %(name)s") % {"name": operator}


def _unassigned(actor: str, data: dict[str, Any]) -> str:
    operator = data.get("operator", "")
    if actor:
        return gettext("%(actor)s unassigned %(operator)s") % {"actor": actor, "operator": operator}
    return gettext("%(operator)s was unassigned") % {"operator": operator}


def _team_changed(actor: str, data: dict[str, Any]) -> str:
    team = data.get("team")
    if not team:
        if actor:
            return gettext("%(actor)s removed the team") % {"actor": actor}
        return gettext("The team was removed")
    if actor:
        return gettext("%(actor)s moved this to %(team)s") % {"actor": actor, "team": team}
    return gettext("Moved to %(team)s") % {"team": team}


def _resolved(actor: str, data: dict[str, Any]) -> str:
    if actor:
        return gettext("%(actor)s resolved this") % {"actor": actor}
    return pgettext("conversation event", "Resolved")


def _reopened(actor: str, data: dict[str, Any]) -> str:
    if data.get("reason") == "customer_wrote":
        return gettext("Reopened: the customer wrote again")
    if data.get("reason") == "snooze_ended":
        return gettext("Snooze ended")
    if actor:
        return gettext("%(actor)s reopened this") % {"actor": actor}
    return pgettext("conversation event", "Reopened")


def _moment(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    # The zone is named: live events are worded once for every reader's zone.
    return formats.date_format(timezone.localtime(moment), "d M H:i T")


def _snoozed(actor: str, data: dict[str, Any]) -> str:
    until = _moment(data.get("until", ""))
    if actor:
        return gettext("%(actor)s snoozed this until %(until)s") % {"actor": actor, "until": until}
    return gettext("Snoozed until %(until)s") % {"until": until}


def _priority_changed(actor: str, data: dict[str, Any]) -> str:
    value = data.get("priority", "")
    priority = str(Priority(value).label) if value in Priority.values else value
    if actor:
        return gettext("%(actor)s set the priority to %(priority)s") % {
            "actor": actor,
            "priority": priority,
        }
    return gettext("Priority: %(priority)s") % {"priority": priority}


def _labels_changed(actor: str, data: dict[str, Any]) -> str:
    added, removed = data.get("added") or [], data.get("removed") or []
    by_actor, unattributed = LABEL_SENTENCES[(_number(added), _number(removed))]
    return str(by_actor if actor else unattributed) % {
        "actor": actor,
        "added": ", ".join(added),
        "removed": ", ".join(removed),
    }


def _number(names: list[str]) -> str:
    return "" if not names else "one" if len(names) == 1 else "several"


# By how many labels were added and removed: the sentence with who did it, and without.
LABEL_SENTENCES = {
    ("one", ""): (
        gettext_lazy("%(actor)s added the label %(added)s"),
        gettext_lazy("Added the label %(added)s"),
    ),
    ("several", ""): (
        gettext_lazy("%(actor)s added the labels %(added)s"),
        gettext_lazy("Added the labels %(added)s"),
    ),
    ("", "one"): (
        gettext_lazy("%(actor)s removed the label %(removed)s"),
        gettext_lazy("Removed the label %(removed)s"),
    ),
    ("", "several"): (
        gettext_lazy("%(actor)s removed the labels %(removed)s"),
        gettext_lazy("Removed the labels %(removed)s"),
    ),
    ("one", "one"): (
        gettext_lazy("%(actor)s added the label %(added)s and removed the label %(removed)s"),
        gettext_lazy("Added the label %(added)s and removed the label %(removed)s"),
    ),
    ("one", "several"): (
        gettext_lazy("%(actor)s added the label %(added)s and removed the labels %(removed)s"),
        gettext_lazy("Added the label %(added)s and removed the labels %(removed)s"),
    ),
    ("several", "one"): (
        gettext_lazy("%(actor)s added the labels %(added)s and removed the label %(removed)s"),
        gettext_lazy("Added the labels %(added)s and removed the label %(removed)s"),
    ),
    ("several", "several"): (
        gettext_lazy("%(actor)s added the labels %(added)s and removed the labels %(removed)s"),
        gettext_lazy("Added the labels %(added)s and removed the labels %(removed)s"),
    ),
    ("", ""): (gettext_lazy("%(actor)s changed the labels"), gettext_lazy("Changed the labels")),
}


def _merged(actor: str, data: dict[str, Any]) -> str:
    names = {"actor": actor, "merged": data.get("merged", ""), "survivor": data.get("survivor", "")}
    if actor:
        return gettext("%(actor)s merged customer %(merged)s into %(survivor)s") % names
    return gettext("Merged customer %(merged)s into %(survivor)s") % names


WORDINGS: dict[str, Callable[[str, dict[str, Any]], str]] = {
    ConversationEventKind.ASSIGNED: _assigned,
    ConversationEventKind.UNASSIGNED: _unassigned,
    ConversationEventKind.TEAM_CHANGED: _team_changed,
    ConversationEventKind.RESOLVED: _resolved,
    ConversationEventKind.REOPENED: _reopened,
    ConversationEventKind.SNOOZED: _snoozed,
    ConversationEventKind.PRIORITY_CHANGED: _priority_changed,
    ConversationEventKind.LABELS_CHANGED: _labels_changed,
    ConversationEventKind.MERGED: _merged,
}
