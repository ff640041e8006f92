"""Which SLA policy applies to a conversation: the first by position whose conditions
its channel, team and priority meet.

Every policy is read at once and kept by the process a few seconds, with its calendar in
arithmetic form: the receiving paths open conversations and start clocks without a query
of their own (the batched path, on the event loop, never queries: without a fresh copy it
leaves the message to the regular path). A change reaches other processes within
POLICY_CACHE_SECONDS; this process forgets its copy at once.
"""

from dataclasses import dataclass

from inbox.kept_copies import KeptCopy
from inbox.selectors.business_time import Calendar
from inbox.sla.business_hours import business_hours_calendar
from inbox.sla.models import SlaPolicy

POLICY_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class PolicyInForce:
    """A policy as the clocks use it: the model row (for its id and name) and its calendar
    (None: round the clock)."""

    policy: SlaPolicy
    calendar: Calendar | None

    def matches(self, *, channel_id: int, team_id: int | None, priority: str) -> bool:
        policy = self.policy
        return (
            (not policy.channels or channel_id in policy.channels)
            and (not policy.teams or team_id in policy.teams)
            and (not policy.priorities or priority in policy.priorities)
        )


def _policies_read() -> tuple[PolicyInForce, ...]:
    return tuple(
        PolicyInForce(
            policy=policy,
            calendar=business_hours_calendar(policy.business_hours)
            if policy.business_hours is not None
            else None,
        )
        for policy in SlaPolicy.objects.select_related("business_hours").order_by("position", "id")
    )


_policies = KeptCopy(_policies_read, seconds=POLICY_CACHE_SECONDS)


def policies_in_force() -> tuple[PolicyInForce, ...]:
    """Every policy by position (one query at most every few seconds per process)."""
    return _policies.get()


def policies_in_force_cached() -> tuple[PolicyInForce, ...] | None:
    """As policies_in_force if this process read them moments ago; never queries (async
    callers), None otherwise."""
    return _policies.fresh()


def policies_forget_cached() -> None:
    """This process reads the policies again on next use (it has just changed them)."""
    _policies.forget()


def policy_matching(
    policies: tuple[PolicyInForce, ...], *, channel_id: int, team_id: int | None, priority: str
) -> PolicyInForce | None:
    return next(
        (
            policy
            for policy in policies
            if policy.matches(channel_id=channel_id, team_id=team_id, priority=priority)
        ),
        None,
    )


def policy_in_force(policy_id: int | None) -> PolicyInForce | None:
    """The policy with this id as the clocks use it (None for none, or one deleted)."""
    if policy_id is None:
        return None
    return next((item for item in policies_in_force() if item.policy.pk == policy_id), None)


def policy_targets() -> dict[int, dict[str, int | None]]:
    """Each policy's targets in minutes by name (first_response, next_response,
    resolution), for the inbox's countdowns. One query: read fresh, as the page's."""
    return {
        policy_id: {"first_response": first, "next_response": after, "resolution": resolution}
        for policy_id, first, after, resolution in SlaPolicy.objects.values_list(
            "id", "first_response_minutes", "next_response_minutes", "resolution_minutes"
        )
    }
