"""Who serves a conversation: an operator and/or a team, by hand or automatically."""

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from inbox import realtime, selectors, visibility
from inbox.events import conversation_event_record
from inbox.models import (
    Conversation,
    ConversationEventKind,
    ConversationStatus,
    Team,
    User,
)
from inbox.notifications.services import notification_for_assignment
from inbox.outgoing_webhooks.emitting import conversation_event_emit
from inbox.services.conversation_actions import ConversationActionInvalid
from inbox.sla.clock import sla_reevaluate

logger = logging.getLogger(__name__)


UNSET = object()


def conversation_assign(
    *,
    conversation: Conversation,
    operator: User | object | None = UNSET,
    team: Team | object | None = UNSET,
    actor: User | None = None,
) -> Conversation:
    """Give the conversation to an operator and/or a team; None takes it away."""
    fields = ["updated_at"]
    events: list[tuple[str, dict]] = []
    newly_assigned: User | None = None
    if operator is not UNSET:
        if isinstance(operator, User) and not operator.is_active:
            raise ConversationActionInvalid(gettext("that operator is deactivated"))
        if isinstance(operator, User) and not operator_can_serve(operator, conversation):
            raise ConversationActionInvalid(
                gettext("that operator's teams do not serve this channel")
            )
        previous = conversation.assignee if conversation.assignee_id else None
        if isinstance(operator, User) and operator.pk != conversation.assignee_id:
            events.append((ConversationEventKind.ASSIGNED, {"operator": operator.display_name}))
            newly_assigned = operator
        elif operator is None and previous is not None:
            events.append((ConversationEventKind.UNASSIGNED, {"operator": previous.display_name}))
        conversation.assignee = operator  # type: ignore[assignment]
        fields.append("assignee")
    if team is not UNSET:
        if isinstance(team, Team) and not team.channels.filter(pk=conversation.channel_id).exists():
            # Its members could neither open the conversation nor be given it.
            raise ConversationActionInvalid(gettext("that team does not serve this channel"))
        new_team_id = team.pk if isinstance(team, Team) else None
        if new_team_id != conversation.team_id:
            events.append(
                (
                    ConversationEventKind.TEAM_CHANGED,
                    {"team": team.name if isinstance(team, Team) else ""},
                )
            )
        conversation.team = team  # type: ignore[assignment]
        fields.append("team")
        if events and events[-1][0] == ConversationEventKind.TEAM_CHANGED:
            fields += sla_reevaluate(conversation, now=timezone.now())
    with transaction.atomic():
        conversation.save(update_fields=fields)
        for kind, data in events:
            conversation_event_record(conversation=conversation, kind=kind, actor=actor, **data)
        if newly_assigned is not None:
            notification_for_assignment(
                conversation=conversation, operator=newly_assigned, actor=actor
            )
        realtime.conversation_changed(conversation)
        conversation_event_emit(conversation)
    return conversation


def conversation_auto_assign(*, conversation_id: int) -> Conversation | None:
    """Give a new conversation, still open and unassigned, to the next operator of its
    team (conversation_assign_by_turns) when the team assigns automatically. None when it
    was taken meanwhile or nobody online has room; it then waits in the team's queue."""
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("customer", "channel", "assignee", "team", "resolved_by", "sla_policy")
            .filter(
                pk=conversation_id,
                assignee__isnull=True,
                status=ConversationStatus.OPEN,
                team__auto_assign=True,
            )
            .first()
        )
        if conversation is None or conversation.team is None:
            return None
        return conversation_assign_by_turns(conversation=conversation, team=conversation.team)


def conversation_assign_by_turns(
    *, conversation: Conversation, team: Team, actor: User | None = None
) -> Conversation | None:
    """Give the conversation to the team's next operator: the online member with the
    fewest open conversations (below the team's limit), taking turns among equals, as
    `actor` (an operator applying a macro) or as the system. None when nobody online has
    room."""
    from django.core.cache import cache

    with transaction.atomic():
        candidates = selectors.auto_assign_candidates(team=team)
        if not candidates:
            return None
        fewest = candidates[0].open_assigned  # type: ignore[attr-defined]
        equals = [member for member in candidates if member.open_assigned == fewest]  # type: ignore[attr-defined]
        # Among equals, turns go round in id order from the one who was given the last.
        turn_key = f"{selectors.AUTO_ASSIGN_TURN_KEY_PREFIX}{team.pk}"
        last_id = cache.get(turn_key) or 0
        operator = next((member for member in equals if member.pk > last_id), equals[0])
        try:
            conversation_assign(conversation=conversation, operator=operator, actor=actor)
        except ConversationActionInvalid:
            return None  # the team does not serve this conversation's channel
        cache.set(turn_key, operator.pk, timeout=None)
    return conversation


def operator_can_serve(operator: User, conversation: Conversation) -> bool:
    """Who may be given a conversation: whoever may see it."""
    return visibility.conversation_is_visible(user=operator, channel_id=conversation.channel_id)
