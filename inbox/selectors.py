"""Reads on conversations and messages, always through what the user may see."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from inbox.models import Conversation, Message, Team, User

CONVERSATION_RELATIONS = ("customer", "channel", "assignee", "team", "resolved_by")


def channel_ids_visible_to(user: User) -> list[int] | None:
    """Channel ids served by the user's teams; None means every channel (supervisors, admins)."""
    if user.sees_all_conversations:
        return None
    return list(
        Team.objects.filter(members=user, channels__isnull=False)
        .values_list("channels", flat=True)
        .distinct()
    )


def conversations_visible_to(user: User) -> QuerySet[Conversation]:
    conversations = Conversation.objects.select_related(*CONVERSATION_RELATIONS)
    channel_ids = channel_ids_visible_to(user)
    if channel_ids is not None:
        conversations = conversations.filter(channel_id__in=channel_ids)
    return conversations


@dataclass(frozen=True)
class ConversationFilters:
    status: str = ""
    assignee: str = ""
    team: int | None = None
    channel: int | None = None
    customer: int | None = None
    query: str = ""


def conversation_list_for_user(
    *, user: User, filters: ConversationFilters
) -> QuerySet[Conversation]:
    """The inbox list, most recent activity first."""
    conversations = conversations_visible_to(user)
    if filters.status:
        conversations = conversations.filter(status=filters.status)
    if filters.assignee == "me":
        conversations = conversations.filter(assignee=user)
    elif filters.assignee == "none":
        conversations = conversations.filter(assignee__isnull=True)
    elif filters.assignee:
        conversations = conversations.filter(assignee_id=int(filters.assignee))
    if filters.team is not None:
        conversations = conversations.filter(team_id=filters.team)
    if filters.channel is not None:
        conversations = conversations.filter(channel_id=filters.channel)
    if filters.customer is not None:
        conversations = conversations.filter(customer_id=filters.customer)
    if filters.query.strip():
        text = filters.query.strip()
        matching_messages = Message.objects.filter(
            conversation=OuterRef("pk"), body__icontains=text, is_private=False
        )
        conversations = conversations.filter(
            Q(customer__name__icontains=text)
            | Q(customer__email__icontains=text)
            | Q(subject__icontains=text)
            | Exists(matching_messages)
        )
    return conversations.order_by("-last_message_at", "-id")


def conversation_get_for_user(*, user: User, conversation_id: int) -> Conversation:
    """Raises Conversation.DoesNotExist when absent or not visible to the user alike."""
    return conversations_visible_to(user).get(pk=conversation_id)


def message_list(*, conversation: Conversation) -> QuerySet[Message]:
    return (
        Message.objects.filter(conversation=conversation)
        .select_related("author")
        .prefetch_related("attachments")
    )


def message_for_delivery(*, message_id: int) -> Message | None:
    return (
        Message.objects.select_related("conversation", "conversation__channel", "author")
        .prefetch_related("attachments")
        .filter(pk=message_id)
        .first()
    )


def attachment_for_fetch(*, attachment_id: int):
    """An attachment still to be fetched from its platform, with its channel; or None."""
    from inbox.models import Attachment

    return (
        Attachment.objects.select_related("message__channel")
        .filter(pk=attachment_id, file="")
        .exclude(media_id="")
        .first()
    )


def customer_timeline(*, user: User, customer_id: int) -> QuerySet[Conversation]:
    """The customer's conversations across channels (those the user may see), newest first."""
    return conversations_visible_to(user).filter(customer_id=customer_id).order_by("-id")


def teams_with_members() -> QuerySet[Team]:
    return Team.objects.prefetch_related(
        Prefetch("members", queryset=User.objects.order_by("username"))
    ).order_by("name")


def operators_list() -> QuerySet[User]:
    return User.objects.filter(is_active=True).prefetch_related("teams").order_by("username")


def realtime_groups_for(user: User) -> list[str]:
    from inbox.realtime import ALL_CONVERSATIONS_GROUP, PRESENCE_GROUP, channel_group

    channel_ids = channel_ids_visible_to(user)
    if channel_ids is None:
        return [ALL_CONVERSATIONS_GROUP, PRESENCE_GROUP]
    return [channel_group(channel_id) for channel_id in channel_ids] + [PRESENCE_GROUP]
