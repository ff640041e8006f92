"""A rule's conditions: their JSON shape, checked when a rule is saved, and whether a
conversation meets them.

Shape (every key optional; all given must hold):
    {"channels": [<channel id>...], "teams": [<team id>...], "labels": [<label id>...]
     (any of them), "priorities": ["low", ...], "languages": ["ru", ...] (the customer's),
     "business_hours": {"id": <business hours id>, "open": true|false},
     "text_contains": ["refund", ...] (any, case-insensitive), "text_regex": "<pattern>",
     "customer_attributes": {"plan": "pro", ...} (each equal)}

The text is the triggering message's, else the conversation's last from the customer.
A regular expression gets REGEX_TIMEOUT_SECONDS over at most TEXT_LIMIT characters (the
`regex` package's timeout): one that takes longer does not match, and the run says so.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import regex
from django.utils.translation import gettext

from inbox.models import Conversation, Priority
from inbox.selectors.business_time import Calendar, business_time_is_open

REGEX_TIMEOUT_SECONDS = 0.05
TEXT_LIMIT = 20_000
_ID_LISTS = ("channels", "teams", "labels")
_KEYS = frozenset(
    {
        *_ID_LISTS,
        "priorities",
        "languages",
        "business_hours",
        "text_contains",
        "text_regex",
        "customer_attributes",
    }
)


class RuleInvalid(ValueError):
    """A rule's field does not have the shape it needs (the message says which)."""


def check_conditions(value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RuleInvalid(gettext("conditions must be an object"))
    unknown = sorted(set(value) - _KEYS)
    if unknown:
        raise RuleInvalid(gettext("unknown condition: %(name)s") % {"name": unknown[0]})
    for key in _ID_LISTS:
        if key in value and not _is_list_of(value[key], int):
            raise RuleInvalid(gettext("%(name)s must be a list of ids") % {"name": key})
    for key in ("priorities", "languages", "text_contains"):
        if key in value and not _is_list_of(value[key], str):
            raise RuleInvalid(gettext("%(name)s must be a list of texts") % {"name": key})
    if any(item not in Priority.values for item in value.get("priorities", [])):
        raise RuleInvalid(
            gettext("priority must be one of %(choices)s") % {"choices": ", ".join(Priority.values)}
        )
    if "text_regex" in value:
        pattern = value["text_regex"]
        if not isinstance(pattern, str) or not pattern:
            raise RuleInvalid(gettext("text_regex must be a regular expression"))
        try:
            regex.compile(pattern)
        except regex.error as error:
            raise RuleInvalid(
                gettext("text_regex is not a valid regular expression: %(error)s")
                % {"error": error}
            ) from error
    hours = value.get("business_hours")
    if hours is not None and not (
        isinstance(hours, dict)
        and isinstance(hours.get("id"), int)
        and isinstance(hours.get("open", True), bool)
    ):
        raise RuleInvalid(gettext('business_hours must be {"id": <id>, "open": true|false}'))
    attributes = value.get("customer_attributes")
    if attributes is not None and not isinstance(attributes, dict):
        raise RuleInvalid(gettext("customer_attributes must be an object"))
    return value


def _is_list_of(value: Any, kind: type) -> bool:
    return isinstance(value, list) and all(
        isinstance(item, kind) and not isinstance(item, bool) for item in value
    )


@dataclass(frozen=True)
class Subject:
    """What the conditions look at: the conversation (customer and labels loaded), the
    text, and the moment the business hours are judged at."""

    conversation: Conversation
    label_ids: frozenset[int]
    text: str
    at: datetime


class RegexTookTooLong(Exception):
    pass


def conditions_match(
    conditions: dict, subject: Subject, *, calendars: dict[int, Calendar | None]
) -> bool:
    """Whether the subject meets every condition. `calendars`: business hours by id
    (None: deleted, which no moment is within). RegexTookTooLong past the timeout."""
    conversation = subject.conversation
    if "channels" in conditions and conversation.channel_id not in conditions["channels"]:
        return False
    if "teams" in conditions and conversation.team_id not in conditions["teams"]:
        return False
    if "labels" in conditions and not subject.label_ids.intersection(conditions["labels"]):
        return False
    if "priorities" in conditions and conversation.priority not in conditions["priorities"]:
        return False
    if "languages" in conditions and conversation.customer.language not in conditions["languages"]:
        return False
    attributes = conversation.customer.attributes or {}
    for name, wanted in (conditions.get("customer_attributes") or {}).items():
        if attributes.get(name) != wanted:
            return False
    hours = conditions.get("business_hours")
    if hours is not None:
        calendar = calendars.get(hours["id"])
        is_open = calendar is not None and business_time_is_open(calendar, subject.at)
        if is_open != hours.get("open", True):
            return False
    text = subject.text[:TEXT_LIMIT]
    if "text_contains" in conditions:
        folded = text.casefold()
        if not any(word.casefold() in folded for word in conditions["text_contains"]):
            return False
    if "text_regex" in conditions:
        try:
            found = regex.search(conditions["text_regex"], text, timeout=REGEX_TIMEOUT_SECONDS)
        except TimeoutError as error:
            raise RegexTookTooLong from error
        if found is None:
            return False
    return True


def business_hours_ids(conditions: dict) -> set[int]:
    hours = conditions.get("business_hours")
    return {hours["id"]} if hours else set()
