"""A conversation's SLA clocks, set on the conversation as it changes; callers save the
fields answered in the same transaction as the change itself.

- Opening attaches the first matching policy (inbox.sla.policies): the first response
  and resolution clocks start at the opening.
- An operator's reply meets the first response and the next response: their due times
  go null (a reply after the due time leaves the target named as breached).
- A customer's message after an operator's answer starts the next response clock; more
  messages before the next answer do not move it.
- Snoozed or pending, the resolution clock stands still (the customer is being waited
  for); the business time it stood still moves its due time later when the conversation
  opens again. The response clocks keep running: a customer who wrote is still waiting.
- Resolving decides the resolution target and stops the response clocks; reopening
  starts a new resolution clock, with the full target, from the reopening (and the
  first response clock again, from the reopening, if nobody had answered yet).
- A change of team, channel or priority looks for the matching policy again. When
  another one applies, the clocks still running are counted again under it from when
  they started (the opening, the customer's message, the last reopening, with the time
  stood still kept), so an escalation to "urgent" shortens the wait already running;
  targets it does not have stop, and breaches already marked stay marked.
"""

from datetime import datetime

from inbox.models import Conversation, ConversationStatus
from inbox.selectors.business_time import business_seconds_between, business_time_add
from inbox.sla.policies import PolicyInForce, policies_in_force, policy_in_force, policy_matching

PAUSED_STATUSES = (ConversationStatus.SNOOZED, ConversationStatus.PENDING)
TARGETS = ("first_response", "next_response", "resolution")

# Every field the clocks keep, for saving after a change of status or policy (made
# under the conversation's row lock).
CLOCK_FIELDS = [
    "sla_policy",
    "first_response_due_at",
    "next_response_due_at",
    "next_response_started_at",
    "resolution_due_at",
    "resolution_started_at",
    "sla_paused_at",
    "sla_paused_seconds",
    "first_response_breached",
    "next_response_breached",
    "resolution_breached",
    "sla_next_due_at",
]
# The clocks' columns read again under the row lock (inbox.services.conversation_actions).
SLA_CLOCK_COLUMNS = [field for field in CLOCK_FIELDS if field != "sla_policy"]
_RESPONSE_FIELDS = [
    "first_response_due_at",
    "first_response_breached",
    "next_response_due_at",
    "next_response_breached",
    "next_response_started_at",
    "sla_next_due_at",
]


def sla_attach_on_open(
    conversation: Conversation, *, now: datetime, policies: tuple[PolicyInForce, ...]
) -> None:
    """Set the clocks of a conversation being opened (unsaved), from `policies`."""
    matching = policy_matching(
        policies,
        channel_id=conversation.channel_id,
        team_id=conversation.team_id,
        priority=conversation.priority,
    )
    if matching is None:
        return
    conversation.sla_policy = matching.policy
    conversation.resolution_started_at = now
    _count_running_clocks(conversation, matching)
    _next_due_again(conversation)


def sla_meet_on_reply(conversation: Conversation, *, now: datetime) -> list[str]:
    """An operator answered: the first and next responses are met (or missed)."""
    if conversation.sla_policy_id is None:
        return []
    for target in ("first_response", "next_response"):
        _decide(conversation, target, now)
    conversation.next_response_started_at = None
    _next_due_again(conversation)
    # Only what a reply changes: a breach the sweep marked meanwhile stays marked.
    if conversation.first_response_at == now:
        conversation.first_response_business_seconds = _business_seconds_since_opening(
            conversation, now
        )
        return [*_RESPONSE_FIELDS, "first_response_business_seconds"]
    return _RESPONSE_FIELDS


def sla_wait_on_customer_message(conversation: Conversation, *, now: datetime) -> list[str]:
    """The customer wrote: after an operator's answer, the next response clock starts."""
    if not is_next_response_to_start(conversation):
        return []
    conversation.next_response_started_at = now
    in_force = policy_in_force(conversation.sla_policy_id)
    if in_force is not None and in_force.policy.next_response_minutes:
        conversation.next_response_due_at = business_time_add(
            in_force.calendar, now, in_force.policy.next_response_minutes * 60
        )
    _next_due_again(conversation)
    return ["next_response_started_at", "next_response_due_at", "sla_next_due_at"]


def is_next_response_to_start(conversation: Conversation) -> bool:
    """Whether a customer's message now starts a next response clock (the batched
    receiving path leaves such messages to the regular one)."""
    return (
        conversation.sla_policy_id is not None
        and conversation.first_response_at is not None
        and conversation.next_response_started_at is None
    )


def sla_on_status_change(conversation: Conversation, *, was: str, now: datetime) -> list[str]:
    """The conversation's status went from `was` to its current one."""
    if conversation.sla_policy_id is None or was == conversation.status:
        return []
    is_status = conversation.status
    if is_status == ConversationStatus.RESOLVED:
        _resume(conversation, now)
        _decide(conversation, "resolution", now)
        conversation.first_response_due_at = None
        conversation.next_response_due_at = None
        conversation.next_response_started_at = None
        conversation.resolution_started_at = None
        conversation.resolution_business_seconds = _business_seconds_since_opening(
            conversation, now
        )
        _next_due_again(conversation)
        return [*CLOCK_FIELDS, "resolution_business_seconds"]
    elif was == ConversationStatus.RESOLVED:
        conversation.resolution_started_at = now
        conversation.sla_paused_seconds = 0
        in_force = policy_in_force(conversation.sla_policy_id)
        if in_force is not None:
            _count_running_clocks(conversation, in_force)
        if is_status in PAUSED_STATUSES:
            conversation.sla_paused_at = now
    elif is_status in PAUSED_STATUSES and conversation.sla_paused_at is None:
        conversation.sla_paused_at = now
    elif is_status not in PAUSED_STATUSES:
        _resume(conversation, now)
    _next_due_again(conversation)
    return CLOCK_FIELDS


def sla_reevaluate(conversation: Conversation, *, now: datetime) -> list[str]:
    """The conversation's team, channel or priority changed: the matching policy again."""
    matching = policy_matching(
        policies_in_force(),
        channel_id=conversation.channel_id,
        team_id=conversation.team_id,
        priority=conversation.priority,
    )
    matching_id = matching.policy.pk if matching is not None else None
    if matching_id == conversation.sla_policy_id:
        return []
    conversation.sla_policy = matching.policy if matching is not None else None
    if matching is None:
        for target in TARGETS:
            setattr(conversation, f"{target}_due_at", None)
    else:
        if conversation.resolution_started_at is None and (
            conversation.status != ConversationStatus.RESOLVED
        ):
            conversation.resolution_started_at = conversation.created_at or now
        if conversation.sla_paused_at is not None:
            _resume(conversation, now, calendar_of=matching)
            conversation.sla_paused_at = now
        _count_running_clocks(conversation, matching)
    _next_due_again(conversation)
    return CLOCK_FIELDS


def sla_mark_breaches(conversation: Conversation, *, now: datetime) -> list[str]:
    """Name every running target past its due time as breached; the names newly marked."""
    newly = []
    for target in TARGETS:
        due = getattr(conversation, f"{target}_due_at")
        if target == "resolution" and conversation.sla_paused_at is not None:
            continue
        if due is not None and due <= now and not getattr(conversation, f"{target}_breached"):
            setattr(conversation, f"{target}_breached", True)
            newly.append(target)
    _next_due_again(conversation)
    return newly


def _count_running_clocks(conversation: Conversation, in_force: PolicyInForce) -> None:
    """Each running clock's due time under `in_force`, counted from when it started."""
    policy, calendar = in_force.policy, in_force.calendar
    # The opening, or the reopening of a conversation resolved before any answer.
    opened_at = conversation.resolution_started_at or conversation.created_at
    is_resolved = conversation.status == ConversationStatus.RESOLVED
    first_running = conversation.first_response_at is None and not is_resolved
    conversation.first_response_due_at = (
        business_time_add(calendar, opened_at, policy.first_response_minutes * 60)
        if first_running and policy.first_response_minutes
        else None
    )
    waiting_since = conversation.next_response_started_at
    conversation.next_response_due_at = (
        business_time_add(calendar, waiting_since, policy.next_response_minutes * 60)
        if waiting_since is not None and policy.next_response_minutes
        else None
    )
    resolution_from = conversation.resolution_started_at
    conversation.resolution_due_at = (
        business_time_add(
            calendar,
            resolution_from,
            policy.resolution_minutes * 60 + conversation.sla_paused_seconds,
        )
        if resolution_from is not None and policy.resolution_minutes and not is_resolved
        else None
    )


def _decide(conversation: Conversation, target: str, now: datetime) -> None:
    """The target's clock stops now: missed if past due, and no longer due either way."""
    due = getattr(conversation, f"{target}_due_at")
    if due is not None and due < now:
        setattr(conversation, f"{target}_breached", True)
    setattr(conversation, f"{target}_due_at", None)


def _resume(
    conversation: Conversation, now: datetime, *, calendar_of: PolicyInForce | None = None
) -> None:
    """The resolution clock runs again: the business time it stood still moves it later."""
    paused_at = conversation.sla_paused_at
    if paused_at is None:
        return
    conversation.sla_paused_at = None
    in_force = calendar_of or policy_in_force(conversation.sla_policy_id)
    if in_force is None:
        return
    stood_still = int(business_seconds_between(in_force.calendar, paused_at, now))
    conversation.sla_paused_seconds += max(0, stood_still)
    due = conversation.resolution_due_at
    if due is not None and due > paused_at:
        # Not yet missed when it stopped: due later by the time it stood still.
        conversation.resolution_due_at = business_time_add(in_force.calendar, due, stood_still)


def _business_seconds_since_opening(conversation: Conversation, now: datetime) -> int | None:
    """Business time from the opening to `now` in the policy's calendar (None without one:
    the report's wall times are then the whole story)."""
    in_force = policy_in_force(conversation.sla_policy_id)
    if in_force is None or in_force.calendar is None or conversation.created_at is None:
        return None
    return max(0, round(business_seconds_between(in_force.calendar, conversation.created_at, now)))


def _next_due_again(conversation: Conversation) -> None:
    candidates = [
        getattr(conversation, f"{target}_due_at")
        for target in TARGETS
        if not getattr(conversation, f"{target}_breached")
        and not (target == "resolution" and conversation.sla_paused_at is not None)
    ]
    conversation.sla_next_due_at = min((due for due in candidates if due is not None), default=None)
