"""What the operator web inbox reads: a page of its list (a view, a status tab, a channel,
a label), the counts of its tabs, search results with snippets, and the pane of one
conversation (thread and customer profile). Always through what the user may see
(inbox.selectors)."""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Count, ExpressionWrapper, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Substr

from customers.models import Customer
from customers.selectors import customer_get_for_profile
from inbox import row_lookups, selectors
from inbox.models import (
    Conversation,
    ConversationEvent,
    Message,
    Team,
    User,
)

INBOX_PAGE_SIZE = 25
THREAD_MESSAGE_LIMIT = 100
TIMELINE_LIMIT = 20
PREVIEW_LENGTH = 160
# Statuses whose conversations still need work: only these are counted, so counting
# stays as cheap as the list however many resolved conversations pile up.
COUNTED_STATUSES = ("open", "pending", "snoozed")
SEARCH_RESULT_LIMIT = 50
SNIPPET_LENGTH = 160
# How much of a matching message the query fetches to cut the snippet from.
SNIPPET_SOURCE_LENGTH = 2000
# Views of conversations by their SLA (see selectors.conversation_sla_condition).
SLA_VIEW_NAMES = ("breached", "due_soon")
# What a list row carries beside the conversation's own fields (see _completed).
PREVIEW_FIELDS = ("preview", "preview_direction", "waiting_since")


@dataclass(frozen=True)
class InboxView:
    """The slice of the inbox a page shows: a view (mine, unassigned, all, one team, or
    the conversations whose SLA was breached or is due soon), one status and optionally
    one channel."""

    name: str = "all"
    team_id: int | None = None
    status: str = "open"
    channel_id: int | None = None
    label_id: int | None = None

    @property
    def key(self) -> str:
        return f"team-{self.team_id}" if self.name == "team" else self.name

    def filters(self) -> selectors.ConversationFilters:
        return selectors.ConversationFilters(
            status=self.status,
            assignee={"mine": "me", "unassigned": "none"}.get(self.name, ""),
            team=self.team_id if self.name == "team" else None,
            channel=self.channel_id,
            label=self.label_id,
            sla=self.name if self.name in SLA_VIEW_NAMES else "",
        )

    def api_filter(self) -> dict[str, Any]:
        """The same filters as the REST API's list and bulk actions take them (a view
        has no text query, the one filter the API names otherwise)."""
        return {name: value for name, value in asdict(self.filters()).items() if value}


@dataclass(frozen=True)
class InboxCursor:
    """Where a page of the inbox list ends: the last row's (last_message_at, id)."""

    last_message_at: datetime | None
    conversation_id: int

    STAMP_FORMAT = "%Y%m%dT%H%M%S.%f"

    def encode(self) -> str:
        stamp = (
            self.last_message_at.astimezone(UTC).strftime(self.STAMP_FORMAT)
            if (self.last_message_at)
            else ""
        )
        return f"{self.conversation_id}~{stamp}"

    @classmethod
    def decode(cls, text: str) -> "InboxCursor | None":
        identifier, _, stamp = text.partition("~")
        try:
            conversation_id = int(identifier)
            at = datetime.strptime(stamp, cls.STAMP_FORMAT).replace(tzinfo=UTC) if stamp else None
        except ValueError:
            return None
        return cls(last_message_at=at, conversation_id=conversation_id)


@dataclass(frozen=True)
class InboxPage:
    """Complete conversation rows (see inbox.selectors) with their PREVIEW_FIELDS."""

    rows: list[dict[str, Any]]
    next_cursor: InboxCursor | None


@dataclass(frozen=True)
class InboxCounts:
    """Conversations per status tab (in the current view) and per view (in the current status)."""

    statuses: dict[str, int]
    views: dict[str, int]


def _completed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Complete rows (see inbox.selectors) with the PREVIEW_FIELDS the list shows:
    `preview`/`preview_direction` (the last public message) and `waiting_since` (the
    customer's first message after our last reply). Three queries for any page."""
    rows = selectors.conversation_rows_complete(rows)
    previews = row_lookups.previews_of([row["id"] for row in rows], length=PREVIEW_LENGTH)
    for row in rows:
        row.update(zip(PREVIEW_FIELDS, previews[row["id"]], strict=True))
    return rows


def _after(conversations: QuerySet[Any], cursor: InboxCursor) -> QuerySet[Any]:
    # Descending order puts NULL last_message_at first where the database sorts NULLs as
    # the largest values (PostgreSQL) and last elsewhere (SQLite).
    nulls_first = connection.features.nulls_order_largest
    at, pk = cursor.last_message_at, cursor.conversation_id
    if at is None:
        later = Q(last_message_at__isnull=True, id__lt=pk)
        if nulls_first:
            later |= Q(last_message_at__isnull=False)
    else:
        later = Q(last_message_at__lt=at) | Q(last_message_at=at, id__lt=pk)
        if not nulls_first:
            later |= Q(last_message_at__isnull=True)
    return conversations.filter(later)


def inbox_conversation_page(
    *,
    user: User,
    view: InboxView,
    after: InboxCursor | None = None,
    limit: int = INBOX_PAGE_SIZE,
) -> InboxPage:
    """One page of the inbox list with previews and waiting times: four queries for any
    page (the rows, their operators, labels and previews)."""
    conversations = selectors.conversation_rows_for_user(user=user, filters=view.filters())
    if after is not None:
        conversations = _after(conversations, after)
    rows = list(conversations[: limit + 1])
    has_more = len(rows) > limit
    rows = _completed(rows[:limit])
    last = rows[-1] if rows else None
    return InboxPage(
        rows=rows,
        next_cursor=InboxCursor(last["last_message_at"], last["id"]) if has_more and last else None,
    )


def _is_in_view(
    view: InboxView, user: User, assignee_id: int | None, team_id: int | None, sla: set[str]
) -> bool:
    if view.name in SLA_VIEW_NAMES:
        return view.name in sla
    if view.name == "mine":
        return assignee_id == user.pk
    if view.name == "unassigned":
        return assignee_id is None
    if view.name == "team":
        return team_id == view.team_id
    return True


def inbox_counts(*, user: User, view: InboxView, teams: Sequence[Team]) -> InboxCounts:
    """Counts for the status tabs (in the view) and the view menu (in the status): one
    query counting the conversations that still need work per status, assignee and team,
    summed up here."""
    conversations = selectors.conversations_visible_to(user).filter(status__in=COUNTED_STATUSES)
    if view.channel_id is not None:
        conversations = conversations.filter(channel_id=view.channel_id)
    if view.label_id is not None:
        conversations = conversations.filter(labels__id=view.label_id)
    groups = (
        conversations.order_by()
        .annotate(
            **{
                name: ExpressionWrapper(
                    selectors.conversation_sla_condition(name), output_field=BooleanField()
                )
                for name in SLA_VIEW_NAMES
            }
        )
        .values_list("status", "assignee_id", "team_id", *SLA_VIEW_NAMES)
    )
    statuses = dict.fromkeys(COUNTED_STATUSES, 0)
    views = {
        "mine": 0,
        "unassigned": 0,
        "all": 0,
        **{f"team-{team.pk}": 0 for team in teams},
        **dict.fromkeys(SLA_VIEW_NAMES, 0),
    }
    for status, assignee_id, team_id, *sla_flags, count in groups.annotate(count=Count("id")):
        sla = {name for name, flag in zip(SLA_VIEW_NAMES, sla_flags, strict=True) if flag}
        if _is_in_view(view, user, assignee_id, team_id, sla):
            statuses[status] += count
        if status != view.status:
            continue
        for name in sla:
            views[name] += count
        views["all"] += count
        if assignee_id == user.pk:
            views["mine"] += count
        if assignee_id is None:
            views["unassigned"] += count
        if f"team-{team_id}" in views:
            views[f"team-{team_id}"] += count
    return InboxCounts(statuses=statuses, views=views if view.status in COUNTED_STATUSES else {})


def inbox_teams_for(*, user: User) -> list[Team]:
    """The teams offered as views: the user's own, or every team for supervisors and admins."""
    if user.sees_all_conversations:
        return list(Team.objects.order_by("name"))
    return row_lookups.models_where_in(
        Team, key="id", values=selectors.team_ids_of(user), order_by="name"
    )


def inbox_channels_for(*, user: User) -> list[Any]:
    """The channels whose conversations the user may see (id, kind and name loaded), for
    the channel filter."""
    # The channel model belongs to channels_app, which imports inbox: reach it through the
    # conversation's foreign key rather than an import.
    channel_model: Any = Conversation._meta.get_field("channel").related_model
    fields = ("id", "kind", "name")
    channel_ids = selectors.channel_ids_visible_to(user)
    if channel_ids is None:
        return list(channel_model._default_manager.order_by("name").only(*fields))
    return row_lookups.models_where_in(
        channel_model, key="id", values=channel_ids, fields=fields, order_by="name"
    )


# Search ---------------------------------------------------------------------------------


def _word_position(lowered_body: str, word: str) -> int:
    """Where the word, or the shortest part of it a stem may end with, first occurs in the
    body: "orders" is found at "order", "заказа" at "заказ"; -1 when nowhere."""
    shortest = max(min(len(word), 3), len(word) * 3 // 5)
    for length in range(len(word), shortest - 1, -1):
        position = lowered_body.find(word[:length])
        if position >= 0:
            return position
    return -1


def _snippet(body: str, text: str) -> str:
    """About SNIPPET_LENGTH characters of the body around the first matching word, or the
    first word that matched in another form."""
    lowered = body.lower()
    positions = [_word_position(lowered, word) for word in text.lower().split()]
    found = [position for position in positions if position >= 0]
    start = max(min(found) - SNIPPET_LENGTH // 3, 0) if found else 0
    if start:
        # Begin at a word boundary.
        space = body.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    excerpt = body[start : start + SNIPPET_LENGTH].strip()
    prefix = "…" if start else ""
    suffix = "…" if start + SNIPPET_LENGTH < len(body) else ""
    return f"{prefix}{excerpt}{suffix}"


def conversation_search_for_user(
    *, user: User, query: str, limit: int = SEARCH_RESULT_LIMIT
) -> list[dict[str, Any]]:
    """Conversations the user may see, in any status, whose customer or messages match the
    query, most recent activity first: complete rows with the list's previews and
    `snippet`, from the latest matching message (None when only the customer matched).
    Four queries (five for operators, whose channels are read first)."""
    text = query.replace("\x00", "").strip()
    if not text:
        return []
    latest_match = (
        selectors.messages_matching_text(text=text)
        .filter(conversation=OuterRef("pk"))
        .order_by("-id")
        .annotate(excerpt=Substr("body", 1, SNIPPET_SOURCE_LENGTH))
        .values("excerpt")[:1]
    )
    conversations = (
        selectors.conversation_rows_visible_to(user)
        .filter(selectors.conversation_text_match(text=text))
        .annotate(matching_body=Subquery(latest_match))
        .order_by("-last_message_at", "-id")
    )
    rows = _completed(list(conversations[:limit]))
    for row in rows:
        matching_body = row.pop("matching_body")
        row["snippet"] = _snippet(matching_body, text) if matching_body else None
    return rows


# The pane of one conversation -----------------------------------------------------------


def message_list_latest(
    *, conversation_id: int, limit: int = THREAD_MESSAGE_LIMIT
) -> tuple[list[Message], bool]:
    """The latest messages of a thread, oldest first, and whether earlier ones exist."""
    latest = list(
        Message.objects.filter(conversation_id=conversation_id)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("-id")[: limit + 1]
    )
    return list(reversed(latest[:limit])), len(latest) > limit


def conversation_thread_latest(
    *, conversation_id: int, limit: int = THREAD_MESSAGE_LIMIT
) -> tuple[list[Message | ConversationEvent], bool]:
    """The latest messages with the events between and after them, in time order, and
    whether earlier messages exist. Events are marked `is_event` for the template."""
    messages, has_earlier = message_list_latest(conversation_id=conversation_id, limit=limit)
    events = (
        ConversationEvent.objects.filter(conversation_id=conversation_id)
        .select_related("actor")
        .order_by("-id")
    )
    if has_earlier and messages:
        events = events.filter(created_at__gte=messages[0].created_at)
    recent_events = list(events[:limit])
    for event in recent_events:
        event.is_event = True  # type: ignore[attr-defined]
    thread: list[Message | ConversationEvent] = [*messages, *recent_events]
    thread.sort(key=lambda item: (item.created_at, isinstance(item, ConversationEvent)))
    return thread, has_earlier


def customer_profile(*, customer_id: int) -> Customer:
    """The customer with identities, claims and their latest undoable merge."""
    return customer_get_for_profile(customer_id=customer_id)


def conversation_is_erased(*, conversation_id: int) -> bool:
    return Conversation.objects.filter(pk=conversation_id, erased_at__isnull=False).exists()


def customer_timeline(
    *, user: User, customer_id: int, limit: int = TIMELINE_LIMIT
) -> list[dict[str, Any]]:
    """The customer's latest conversations the user may see, newest first, as rows of
    id, status, subject, created_at, channel__kind and preview."""
    timeline = (
        selectors.conversations_visible_to(user).filter(customer_id=customer_id).order_by("-id")
    )
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in timeline.values("id", "status", "subject", "created_at", "channel__kind")[:limit]
    ]
    previews = row_lookups.previews_of([row["id"] for row in rows], length=PREVIEW_LENGTH)
    for row in rows:
        row["preview"] = previews[row["id"]][0]
    return rows
