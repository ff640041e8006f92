"""The sweep that marks missed SLA targets: beat runs it every few seconds.

Due times live on the conversations (`sla_next_due_at`, the earliest running target not
yet marked, indexed for this), not in Celery countdowns. Each sweep locks the
conversations due with SKIP LOCKED, so sweeps running at once share the work and none
marks a target another has marked: a breach is named once, and operators are told once
(`conversation.updated`, after commit).
"""

from typing import Any

from django.db import transaction
from django.utils import timezone

from inbox import realtime
from inbox.models import Conversation
from inbox.outgoing_webhooks.emitting import conversation_event, webhook_events_emit
from inbox.rule_events import Trigger, rule_event, rule_events_on_commit
from inbox.sla.clock import sla_mark_breaches

SWEEP_TASK = "inbox.tasks.sla_breaches_mark"
BATCH_SIZE = 500


def sla_breaches_mark(*, batch_size: int = BATCH_SIZE) -> int:
    """Mark the targets due by now as breached; the number of conversations marked."""
    now = timezone.now()
    marked = 0
    with transaction.atomic():
        due = list(
            Conversation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(sla_next_due_at__lte=now)
            .select_related("customer", "channel", "assignee", "team", "resolved_by", "sla_policy")
            # Read by the events of the conversations breached.
            .prefetch_related("labels")
            .order_by("sla_next_due_at")[:batch_size]
        )
        webhook_events = []
        rule_events: list[dict[str, Any] | None] = []
        for conversation in due:
            if conversation.sla_policy_id is None:
                # Its policy was deleted: nothing counts its clocks any more.
                conversation.sla_next_due_at = None
                conversation.save(update_fields=["sla_next_due_at"])
                continue
            newly_breached = sla_mark_breaches(conversation, now=now)
            fields = [f"{target}_breached" for target in newly_breached]
            conversation.save(update_fields=[*fields, "sla_next_due_at", "updated_at"])
            if newly_breached:
                realtime.conversation_changed(conversation)
                webhook_events.append(conversation_event(conversation))
                marked += 1
            rule_events.extend(
                rule_event(
                    triggers=[Trigger.SLA_BREACHED],
                    key=f"sla:{conversation.pk}:{target}",
                    conversation_id=conversation.pk,
                    detail=target,
                )
                for target in newly_breached
            )
        webhook_events_emit(webhook_events)
        rule_events_on_commit(rule_events)
    return marked
