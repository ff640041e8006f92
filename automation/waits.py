"""Rules fired by the clock: no customer reply for a while after ours, no operator reply
for a while after the customer's. Beat runs the sweep every WAIT_SWEEP_SECONDS.

Each rule keeps `swept_until`: waits that ended up to then have been looked at. A sweep
looks at the conversations whose wait ended since (indexed on their last message times),
oldest first, at most BATCH_SIZE a rule, and runs the rule on each; the event is the
wait itself (the conversation and the message time it waits after), so a wait fires a
rule once however many sweeps see it, and a new wait after the next message fires again.
A rule switched on looks only at waits ending after that moment. The rule's row is locked
(SKIP LOCKED) while swept: two sweeps at once share the rules, not the conversations.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from automation.engine import calendars_for, conversations_for_rules, rule_run, subject_of
from automation.models import AutomationRule
from inbox.models import Conversation, ConversationStatus
from inbox.rule_events import SWEPT_TRIGGERS, Trigger

SWEEP_TASK = "automation.tasks.automation_waits_sweep"
BATCH_SIZE = 200


def automation_waits_sweep(*, batch_size: int = BATCH_SIZE) -> int:
    """Run the clock's rules on the waits that ended since their last sweep; the number
    of runs."""
    now = timezone.now()
    runs = 0
    rule_ids = AutomationRule.objects.filter(
        is_active=True, trigger__in=SWEPT_TRIGGERS, wait_minutes__isnull=False
    ).values_list("pk", flat=True)
    for rule_id in list(rule_ids):
        with transaction.atomic():
            rule = (
                AutomationRule.objects.select_for_update(skip_locked=True)
                .filter(pk=rule_id, is_active=True)
                .first()
            )
            if rule is not None:
                runs += _sweep_rule(rule, now=now, batch_size=batch_size)
    return runs


def _sweep_rule(rule: AutomationRule, *, now: datetime, batch_size: int) -> int:
    if rule.swept_until is None:
        rule.swept_until = now
        rule.save(update_fields=["swept_until"])
        return 0
    wait = timedelta(minutes=rule.wait_minutes or 0)
    anchor = "last_message_at" if rule.trigger == Trigger.NO_CUSTOMER_REPLY else "last_inbound_at"
    waiting = Conversation.objects.filter(
        status=ConversationStatus.OPEN,
        **{f"{anchor}__gt": rule.swept_until - wait, f"{anchor}__lte": now - wait},
    )
    if rule.trigger == Trigger.NO_CUSTOMER_REPLY:
        # Our reply came last (private notes do not move last_message_at).
        waiting = waiting.filter(
            Q(last_inbound_at__isnull=True) | Q(last_inbound_at__lt=F("last_message_at"))
        )
    else:
        waiting = waiting.filter(last_message_at=F("last_inbound_at"))
    found = list(waiting.order_by(anchor, "pk").values_list("pk", anchor)[:batch_size])
    calendars = calendars_for([rule])
    conversations = conversations_for_rules([conversation_id for conversation_id, _ in found])
    runs = 0
    for conversation_id, anchored_at in found:
        conversation = conversations.get(conversation_id)
        if conversation is None:
            continue
        text = conversation.last_customer_text or ""  # type: ignore[attr-defined]
        run = rule_run(
            rule=rule,
            subject=subject_of(conversation, text=text, at=now),
            event_key=f"wait:{conversation_id}:{anchored_at.isoformat()}",
            calendars=calendars,
        )
        runs += run is not None
    # A full batch leaves the rest for the next sweep, from where this one stopped.
    rule.swept_until = found[-1][1] + wait if len(found) == batch_size else now
    rule.save(update_fields=["swept_until"])
    return runs
