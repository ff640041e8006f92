"""Running the rules for one event, in the worker.

The active rules of the event's triggers run by position. A rule whose conditions hold
records its run (unique per rule and event, in the same transaction as its actions: a
task run twice, or a rule run once by the event and again by a retry, does nothing
twice), then does its actions one by one; an action that does not fit (the conversation
is already resolved, a team gone) is noted in the run and the next one still runs.
The actions run inside `rules_acting`, so what they cause never runs the same rule again,
and nothing runs deeper than MAX_DEPTH rules (inbox.rule_events).
"""

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext

from automation.actions import action_do
from automation.conditions import (
    REGEX_TIMEOUT_SECONDS,
    RegexTookTooLong,
    Subject,
    business_hours_ids,
    conditions_match,
)
from automation.models import AutomationRule, AutomationRun
from automation.selectors import rules_active_for
from inbox.labels import LabelInvalid
from inbox.models import Conversation, Message, MessageDirection
from inbox.rule_events import MAX_DEPTH, rules_acting
from inbox.selectors.business_time import Calendar
from inbox.services import ConversationActionInvalid
from inbox.sla.business_hours import business_hours_calendar
from inbox.sla.models import BusinessHours

logger = logging.getLogger(__name__)

_CONVERSATION_RELATED = ("customer", "channel", "assignee", "team", "resolved_by", "sla_policy")


def automation_rules_run(*, event: dict) -> list[AutomationRun]:
    """Run the active rules of `event` (as inbox.rule_events queues it); the runs of the
    rules that matched."""
    caused_by = tuple(event.get("caused_by_rules") or ())
    if len(caused_by) >= MAX_DEPTH:
        logger.warning("rules %s reached the depth limit; event %s left", caused_by, event["key"])
        return []
    rules = [rule for rule in rules_active_for(event["triggers"]) if rule.pk not in caused_by]
    if not rules:
        return []
    text = None
    if event.get("message"):
        message = Message.objects.filter(pk=event["message"]).only("body").first()
        text = message.body if message is not None else None
    calendars = calendars_for(rules)
    runs: list[AutomationRun] = []
    for rule in rules:
        # Read again for each rule: the rules before it may have changed it.
        conversation = conversation_for_rules(event["conversation"])
        if conversation is None:
            return runs  # gone (erased or merged away) since
        if text is None:
            # Actions add no customer message: one read serves every rule.
            text = last_customer_text(conversation)
        run = rule_run(
            rule=rule,
            subject=subject_of(conversation, text=text, at=timezone.now()),
            event_key=event["key"],
            caused_by=caused_by,
            calendars=calendars,
        )
        if run is not None:
            runs.append(run)
    return runs


def conversation_for_rules(conversation_id: int) -> Conversation | None:
    return (
        Conversation.objects.select_related(*_CONVERSATION_RELATED)
        .prefetch_related("labels")
        .filter(pk=conversation_id)
        .first()
    )


def conversations_for_rules(conversation_ids: list[int]) -> dict[int, Conversation]:
    """conversation_for_rules for many at once, by id, each with its
    `last_customer_text` annotated (None without one): two queries for any number."""
    found = (
        Conversation.objects.select_related(*_CONVERSATION_RELATED)
        .prefetch_related("labels")
        .annotate(last_customer_text=last_customer_text_subquery())
        .filter(pk__in=conversation_ids)
    )
    return {conversation.pk: conversation for conversation in found}


def last_customer_text(conversation: Conversation) -> str:
    body = (
        Message.objects.filter(conversation=conversation, direction=MessageDirection.INBOUND)
        .order_by("-id")
        .values_list("body", flat=True)
        .first()
    )
    return body or ""


def last_customer_text_subquery() -> Subquery:
    """The body of the conversation's (OuterRef "pk") last customer message."""
    return Subquery(
        Message.objects.filter(conversation=OuterRef("pk"), direction=MessageDirection.INBOUND)
        .order_by("-id")
        .values("body")[:1]
    )


def subject_of(conversation: Conversation, *, text: str, at: datetime) -> Subject:
    return Subject(
        conversation=conversation,
        label_ids=frozenset(label.pk for label in conversation.labels.all()),
        text=text,
        at=at,
    )


def calendars_for(rules: list[AutomationRule]) -> dict[int, Calendar | None]:
    wanted = set().union(*(business_hours_ids(rule.conditions) for rule in rules))
    if not wanted:
        return {}
    found = {hours.pk: hours for hours in BusinessHours.objects.filter(pk__in=wanted)}
    return {pk: business_hours_calendar(found[pk]) if pk in found else None for pk in wanted}


def rule_run(
    *,
    rule: AutomationRule,
    subject: Subject,
    event_key: str,
    caused_by: tuple[int, ...] = (),
    calendars: dict[int, Calendar | None],
) -> AutomationRun | None:
    """Run one rule on one event: None when its conditions do not hold or it has run for
    this event already; else its run, with what each action did."""
    try:
        if not conditions_match(rule.conditions, subject, calendars=calendars):
            return None
    except RegexTookTooLong:
        return _run_record_failure(
            rule,
            subject,
            event_key,
            gettext("the regular expression took longer than %(seconds)s s; taken as no match")
            % {"seconds": REGEX_TIMEOUT_SECONDS},
        )
    conversation = subject.conversation
    try:
        with transaction.atomic():
            run = _run_claim(rule, conversation, event_key)
            if run is None:
                return None
            with rules_acting((*caused_by, rule.pk)):
                run.outcomes = [_action_outcome(action, conversation) for action in rule.actions]
            run.error = "; ".join(item["error"] for item in run.outcomes if "error" in item)
            run.save(update_fields=["outcomes", "error"])
            return run
    except Exception as error:
        logger.exception("automation rule %s failed on %s", rule.pk, event_key)
        return _run_record_failure(rule, subject, event_key, repr(error))


def _run_claim(
    rule: AutomationRule, conversation: Conversation, event_key: str
) -> AutomationRun | None:
    try:
        with transaction.atomic():
            return AutomationRun.objects.create(
                rule=rule, event_key=event_key, trigger=rule.trigger, conversation=conversation
            )
    except IntegrityError:
        return None  # this rule has run for this event already


def _action_outcome(action: dict, conversation: Conversation) -> dict:
    try:
        with transaction.atomic():
            return {"type": action["type"], "done": action_do(action, conversation)}
    except (ConversationActionInvalid, LabelInvalid, LookupError) as error:
        return {"type": action["type"], "error": str(error)}


def _run_record_failure(
    rule: AutomationRule, subject: Subject, event_key: str, error: str
) -> AutomationRun | None:
    run = _run_claim(rule, subject.conversation, event_key)
    if run is not None:
        run.error = error
        run.save(update_fields=["error"])
    return run
