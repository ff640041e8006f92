"""Trying a rule on past conversations before switching it on: how many of the last N
would it have matched, without doing anything."""

from dataclasses import dataclass

from django.utils import timezone

from automation.conditions import RegexTookTooLong, conditions_match
from automation.engine import calendars_for, last_customer_text_subquery, subject_of
from automation.models import AutomationRule
from inbox.models import Conversation

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
SAMPLE_SIZE = 20


@dataclass(frozen=True)
class TryOutcome:
    examined: int
    matched: int
    timed_out: int
    sample: list[int]


def rule_try(*, rule: AutomationRule, limit: int = DEFAULT_LIMIT) -> TryOutcome:
    """The rule's conditions over the latest `limit` conversations, each with its last
    customer message as the text and business hours judged at that message's time."""
    conversations = (
        Conversation.objects.select_related("customer")
        .prefetch_related("labels")
        .annotate(last_customer_text=last_customer_text_subquery())
        .order_by("-id")[:limit]
    )
    calendars = calendars_for([rule])
    matched: list[int] = []
    examined = timed_out = 0
    for conversation in conversations:
        examined += 1
        subject = subject_of(
            conversation,
            text=conversation.last_customer_text or "",  # type: ignore[attr-defined]
            at=conversation.last_inbound_at or conversation.created_at or timezone.now(),
        )
        try:
            if conditions_match(rule.conditions, subject, calendars=calendars):
                matched.append(conversation.pk)
        except RegexTookTooLong:
            timed_out += 1
    return TryOutcome(
        examined=examined, matched=len(matched), timed_out=timed_out, sample=matched[:SAMPLE_SIZE]
    )
