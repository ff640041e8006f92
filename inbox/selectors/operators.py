"""Reads on operators: teams and their members, who is online, whom a team's next
conversation goes to, and which realtime groups an operator's socket joins."""

import logging
import time
from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from redis.exceptions import RedisError

from inbox.models import ConversationStatus, Team, User
from inbox.visibility import channel_ids_visible_to

logger = logging.getLogger(__name__)


def teams_with_members() -> QuerySet[Team]:
    return Team.objects.prefetch_related(
        Prefetch("members", queryset=User.objects.order_by("username"))
    ).order_by("name")


def operators_list() -> QuerySet[User]:
    return User.objects.filter(is_active=True).prefetch_related("teams").order_by("username")


def realtime_groups_for(user: User) -> list[str]:
    from inbox.realtime import (
        ALL_CONVERSATIONS_GROUP,
        PRESENCE_GROUP,
        channel_group,
        operator_group,
    )

    own = [PRESENCE_GROUP, operator_group(user.pk)]
    channel_ids = channel_ids_visible_to(user)
    if channel_ids is None:
        return [ALL_CONVERSATIONS_GROUP, *own]
    return [channel_group(channel_id) for channel_id in channel_ids] + own


# Operator presence ----------------------------------------------------------------------

PRESENCE_TTL_SECONDS = 90
PRESENCE_KEY_PREFIX = "inbox.presence."


def presence_cache_key(operator_id: int) -> str:
    return f"{PRESENCE_KEY_PREFIX}{operator_id}"


def presence_live_sockets(recorded: Any, *, now: float) -> dict[str, list]:
    """An operator's sockets whose entry has not lapsed, as `{socket: [status, expires]}`."""
    if not isinstance(recorded, dict):
        return {}
    return {socket: entry for socket, entry in recorded.items() if entry[1] > now}


def presence_status_of(sockets: dict[str, list]) -> str:
    """Online if any socket is, else away if any is, else offline."""
    statuses = {status for status, _ in sockets.values()}
    for status in ("online", "away"):
        if status in statuses:
            return status
    return "offline"


def operator_presence_list() -> list[dict[str, Any]]:
    """Active operators who are online or away, as `{"operator", "status"}`, by name."""
    from inbox.representations import operator_representation

    operators = list(User.objects.filter(is_active=True).order_by("first_name", "username"))
    statuses = presence_statuses([operator.pk for operator in operators])
    return [
        {"operator": operator_representation(operator), "status": statuses[operator.pk]}
        for operator in operators
        if statuses[operator.pk] != "offline"
    ]


def presence_statuses(operator_ids: Sequence[int]) -> dict[int, str]:
    """Each operator's status: online, away or offline."""
    from django.core.cache import cache

    try:
        recorded = cache.get_many([presence_cache_key(pk) for pk in operator_ids])
    except RedisError:
        # Presence lives in Redis alone: while it is away nobody is known to be online.
        logger.warning("presence unknown: the cache is unreachable", exc_info=True)
        recorded = {}
    now = time.time()
    return {
        pk: presence_status_of(presence_live_sockets(recorded.get(presence_cache_key(pk)), now=now))
        for pk in operator_ids
    }


# Automatic assignment -------------------------------------------------------------------

AUTO_ASSIGN_TURN_KEY_PREFIX = "inbox.auto_assign.last."


def auto_assign_candidates(*, team: Team) -> list[User]:
    """The team's active members who are online and below its open-conversation limit,
    fewest open conversations first (ties in id order)."""
    members = list(
        team.members.filter(is_active=True)
        .annotate(
            open_assigned=Count(
                "assigned_conversations",
                filter=Q(assigned_conversations__status=ConversationStatus.OPEN),
            )
        )
        .order_by("open_assigned", "pk")
    )
    statuses = presence_statuses([member.pk for member in members])
    limit = team.auto_assign_limit
    return [
        member
        for member in members
        if statuses[member.pk] == "online" and (limit is None or member.open_assigned < limit)
    ]
