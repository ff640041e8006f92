"""Who may see a conversation, and so serve it: one rule, read three ways.

A supervisor or an admin sees every conversation. An operator sees the conversations in
the channels their teams serve, whatever the conversation's own team or assignee; an
operator in no team serving its channel can neither open it nor be given it.

The same rule answers for one conversation in Python (`conversation_is_visible`), filters
a queryset (`only_visible`), bounds a statement written as SQL (`sql_visible_condition`)
and picks who may see a conversation among users (`users_who_see`);
`tests/inbox/test_visibility.py` holds them equal for every role and team.
"""

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from inbox import row_lookups
from inbox.models import Role, Team, User

# What the reads below learned about a request's user (see request_scoped).
_REQUEST_MEMO = "_inbox_request_memo"


def request_scoped(user: User) -> User:
    """Marks a user object loaded for one HTTP request: the reads below then keep what they
    learn about the user's access (their teams and the channels these serve) on it for the
    rest of the request instead of reading it again. Never for an object that outlives its
    request (an operator socket's user): an access change must reach it at once."""
    if getattr(user, _REQUEST_MEMO, None) is None:
        setattr(user, _REQUEST_MEMO, {})
    return user


def _teams_and_channels_of(user: User) -> tuple[list[int], list[int]]:
    memo = getattr(user, _REQUEST_MEMO, None)
    if memo is not None and "memberships" in memo:
        return memo["memberships"]
    memberships = row_lookups.teams_and_channels_of(user.pk)
    if memo is not None:
        memo["memberships"] = memberships
    return memberships


def team_ids_of(user: User) -> list[int]:
    return _teams_and_channels_of(user)[0]


def channel_ids_visible_to(user: User) -> list[int] | None:
    """Channel ids served by the user's teams; None means every channel (supervisors, admins)."""
    if user.sees_all_conversations:
        return None
    return _teams_and_channels_of(user)[1]


def conversation_is_visible(*, user: User, channel_id: int) -> bool:
    """Whether the user may see (and so serve) a conversation in this channel."""
    channel_ids = channel_ids_visible_to(user)
    return channel_ids is None or channel_id in channel_ids


def only_visible(conversations: QuerySet[Any], user: User) -> QuerySet[Any]:
    """The conversations (a queryset of Conversation, or of its rows) the user may see."""
    channel_ids = channel_ids_visible_to(user)
    if channel_ids is None:
        return conversations
    return conversations.filter(channel_id__in=channel_ids)


def users_who_see(users: QuerySet[User], *, channel_id: int) -> QuerySet[User]:
    """The users who may see a conversation in this channel, in the same statement (for a
    list of them: no statement per user)."""
    serving = Team.channels.through.objects.filter(
        channel_id=channel_id, team__members=OuterRef("pk")
    )
    return users.filter(
        Q(role__in=(Role.ADMIN, Role.SUPERVISOR)) | Q(is_superuser=True) | Exists(serving)
    )


def bounding_operator_id(user: User) -> int | None:
    """Whose teams' channels bound what the user sees in SQL (see sql_visible_condition):
    their own, or none (supervisors, admins)."""
    return None if user.sees_all_conversations else user.pk


def sql_visible_condition(operator_id: int, channel_column: str) -> tuple[str, int]:
    """An SQL condition (and its one parameter) true where the channel column holds a
    channel this operator's teams serve."""
    # The operator's channels read in the statement itself: no statement of their own,
    # and nothing kept that an access change would have to reach.
    return f"{channel_column} IN ({row_lookups.channels_served_by_query()})", operator_id
