"""The beat sweep that warns operators of a target coming due: `conversation.sla_due_soon`.

A conversation whose next due time (`sla_next_due_at`, indexed) falls within
SLA_DUE_NOTICE_MINUTES is announced to the operators of its team and to its assignee;
when it has neither, to everyone who may see it. The due time announced is kept on the
conversation (`sla_due_notice_for`), so each target's due time is announced once: sweeps
running at once lock what they announce with SKIP LOCKED and never announce the same due
time twice. A clock started again (a new customer message, a reopening) has a new due
time, and is announced again when it comes near.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from inbox import realtime
from inbox.models import Conversation, Role, Team
from inbox.notifications.services import notifications_for_due_soon
from inbox.sla.clock import TARGETS

SWEEP_TASK = "inbox.tasks.sla_due_soon_notify"
EVENT_TYPE = "conversation.sla_due_soon"
BATCH_SIZE = 500


def sla_due_soon_notify(*, batch_size: int = BATCH_SIZE) -> int:
    """Announce the due times coming within SLA_DUE_NOTICE_MINUTES not yet announced; the
    number of conversations announced."""
    now = timezone.now()
    soon = now + timedelta(minutes=settings.SLA_DUE_NOTICE_MINUTES)
    with transaction.atomic():
        coming = list(
            Conversation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(sla_next_due_at__gt=now, sla_next_due_at__lte=soon)
            .filter(
                Q(sla_due_notice_for__isnull=True)
                | Q(sla_due_notice_for__lt=F("sla_next_due_at"))
                | Q(sla_due_notice_for__gt=F("sla_next_due_at"))
            )
            .select_related("customer")
            .order_by("sla_next_due_at")[:batch_size]
        )
        if not coming:
            return 0
        Conversation.objects.filter(pk__in=[conversation.pk for conversation in coming]).update(
            sla_due_notice_for=F("sla_next_due_at")
        )
        members = _team_members_seeing(coming)
        for conversation in coming:
            realtime.broadcast_on_commit(
                _recipient_groups(conversation, members), due_soon_payload(conversation)
            )
        notifications_for_due_soon(coming)
    return len(coming)


def due_soon_payload(conversation: Conversation) -> dict[str, Any]:
    due_at = conversation.sla_next_due_at
    target = next(
        (name for name in TARGETS if getattr(conversation, f"{name}_due_at") == due_at), None
    )
    # Who and when, enough for the notice: the list already holds the conversation.
    return {
        "type": EVENT_TYPE,
        "conversation_id": conversation.pk,
        "target": target,
        "due_at": due_at.isoformat().replace("+00:00", "Z") if due_at else None,
        "customer": {"id": conversation.customer_id, "name": conversation.customer.name},
    }


def _recipient_groups(
    conversation: Conversation, members: dict[tuple[int, int], list[int]]
) -> list[str]:
    """The team's operators who may see it and its assignee; without either, all who see it."""
    if conversation.team_id is None and conversation.assignee_id is None:
        return realtime.groups_for_channel(conversation.channel_id)
    operator_ids: set[int] = set()
    if conversation.team_id is not None:
        operator_ids.update(members.get((conversation.team_id, conversation.channel_id), []))
    if conversation.assignee_id is not None:
        operator_ids.add(conversation.assignee_id)
    return [realtime.operator_group(operator_id) for operator_id in sorted(operator_ids)]


def _team_members_seeing(conversations: list[Conversation]) -> dict[tuple[int, int], list[int]]:
    """For each (team, channel) of the conversations: the team's active members who may see
    the channel's conversations (supervisors and admins see all). Two queries at most."""
    wanted = {(c.team_id, c.channel_id) for c in conversations if c.team_id is not None}
    if not wanted:
        return {}
    membership = Team.members.through
    members = list(
        membership.objects.filter(
            team_id__in={team for team, _ in wanted}, user__is_active=True
        ).values_list("team_id", "user_id", "user__role", "user__is_superuser")
    )
    served = set(
        membership.objects.filter(
            user_id__in={row[1] for row in members},
            team__channels__in={channel for _, channel in wanted},
        ).values_list("user_id", "team__channels")
    )
    seeing: dict[tuple[int, int], list[int]] = {}
    for team_id, user_id, role, is_superuser in members:
        sees_all = is_superuser or role in (Role.ADMIN, Role.SUPERVISOR)
        for key in wanted:
            if key[0] == team_id and (sees_all or (user_id, key[1]) in served):
                seeing.setdefault(key, []).append(user_id)
    return seeing
