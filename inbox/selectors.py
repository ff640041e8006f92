"""Reads on conversations and messages, always through what the user may see."""

import functools
import string
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    Exists,
    F,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.db.models.expressions import RawSQL

from customers.models import Customer, Identity, IdentityClaim
from customers.selectors import (
    customer_ids_matching_sql,
    customer_list,
    sql_column,
    sql_contains,
)
from inbox import json_rows, row_lookups
from inbox.models import (
    Attachment,
    CannedResponse,
    Conversation,
    ConversationEvent,
    ConversationStatus,
    Label,
    Message,
    MessageDirection,
    Team,
    User,
)
from inbox.representations import (
    CONVERSATION_ROW_FIELDS,
    CUSTOMER_ROW_FIELDS,
    MESSAGE_ROW_FIELDS,
)

CONVERSATION_RELATIONS = ("customer", "channel", "assignee", "team", "resolved_by")
# What the selectors below learned about a request's user (see request_scoped).
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


def _only_visible(conversations: QuerySet[Any], user: User) -> QuerySet[Any]:
    channel_ids = channel_ids_visible_to(user)
    if channel_ids is not None:
        conversations = conversations.filter(channel_id__in=channel_ids)
    return conversations


def conversations_visible_to(user: User) -> QuerySet[Conversation]:
    return _only_visible(Conversation.objects.all(), user)


def conversation_rows_visible_to(user: User) -> QuerySet[Any]:
    """The conversations the user may see as rows of CONVERSATION_LIST_COLUMNS (to be
    completed by conversation_rows_complete)."""
    return _only_visible(_conversation_rows().all(), user)


def _with_relations(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """What conversation_representation reads of each model, loaded with it."""
    return conversations.select_related(*CONVERSATION_RELATIONS).prefetch_related("labels")


def customers_visible_to(user: User, *, query: str = "") -> QuerySet[Customer]:
    """Customers the user may see: everyone for supervisors and admins; for an operator,
    those with a conversation in a channel their teams serve."""
    customers = customer_list(query=query)
    channel_ids = channel_ids_visible_to(user)
    if channel_ids is None:
        return customers
    return customers.filter(
        Exists(Conversation.objects.filter(customer=OuterRef("pk"), channel_id__in=channel_ids))
    )


def customer_rows_for_user(*, user: User, query: str = "") -> QuerySet[Any]:
    """customers_visible_to as rows of CUSTOMER_ROW_FIELDS; a page of it read,
    customer_rows_complete adds identities and claims."""
    return customers_visible_to(user, query=query).values(*CUSTOMER_ROW_FIELDS)


def customer_rows_complete(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adds each row's identities, as (kind, value, is_reachable), and claims, as (kind,
    value): two queries for any number of rows."""
    customer_ids = [row["id"] for row in rows]
    identities = row_lookups.grouped(
        row_lookups.rows_where_in(
            Identity,
            ("customer", "kind", "value", "is_reachable"),
            key="customer",
            values=customer_ids,
            order_by="id",
        )
    )
    claims = row_lookups.grouped(
        row_lookups.rows_where_in(
            IdentityClaim,
            ("customer", "kind", "value"),
            key="customer",
            values=customer_ids,
            order_by="id",
        )
    )
    for row in rows:
        row["identities"] = identities.get(row["id"], [])
        row["claims"] = claims.get(row["id"], [])
    return rows


def customer_json_rows_for_user(*, user: User, query: str = "") -> json_rows.JsonRows | None:
    """customer_rows_for_user with each row written as its public JSON by PostgreSQL (see
    inbox.json_rows); None on other databases."""
    if connection.vendor != "postgresql":
        return None
    # As customer_list reads the query.
    text = query.replace("\x00", "").strip()
    return json_rows.customer_json_rows(
        operator_id=_bounded_operator_id(user),
        matching=customer_ids_matching_sql(text=text) if text else None,
    )


@dataclass(frozen=True)
class ConversationFilters:
    status: str = ""
    assignee: str = ""
    team: int | None = None
    channel: int | None = None
    customer: int | None = None
    label: int | None = None
    query: str = ""


def conversation_rows_for_user(*, user: User, filters: ConversationFilters) -> QuerySet[Any]:
    """The inbox list as rows of CONVERSATION_LIST_COLUMNS, most recent activity first; a
    page of it read, `conversation_rows_complete` fills in its operators and labels."""
    return _filtered(conversation_rows_visible_to(user), user=user, filters=filters)


def conversation_row_for_user(*, user: User, conversation_id: int) -> dict[str, Any]:
    """One conversation as a complete row; raises Conversation.DoesNotExist when absent or
    not visible to the user alike."""
    row = conversation_rows_visible_to(user).get(pk=conversation_id)
    return conversation_rows_complete([row])[0]


# What a list query reads of CONVERSATION_ROW_FIELDS: the conversation with its customer,
# channel and team joined; the operators (an assignee and who resolved it) come in one
# query by id (conversation_rows_complete). Each more table joined multiplies the join
# orders PostgreSQL weighs for every request: five joins cost it ~4 ms of planning, three
# ~0.7 ms.
CONVERSATION_LIST_COLUMNS = tuple(
    field
    for field in CONVERSATION_ROW_FIELDS
    if not field.startswith(("assignee__", "resolved_by__"))
)
_OPERATOR_RELATIONS = ("assignee", "resolved_by")


@cache
def _conversation_rows() -> QuerySet[Any]:
    # The columns resolved once rather than in every request (~800 Python calls): each
    # list query starts from a clone of this one, which is never evaluated.
    return Conversation.objects.values(*CONVERSATION_LIST_COLUMNS)


def conversation_rows_complete(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fills in the rows' operators and labels: two queries for any number of rows."""
    operator_ids = {row[f"{relation}_id"] for row in rows for relation in _OPERATOR_RELATIONS}
    operator_ids.discard(None)
    operators = row_lookups.grouped(
        row_lookups.rows_where_in(
            User, ("id", "username", "first_name", "last_name"), key="id", values=operator_ids
        )
    )
    labels = row_lookups.labels_of([row["id"] for row in rows])
    for row in rows:
        for relation in _OPERATOR_RELATIONS:
            ((username, first_name, last_name),) = operators.get(
                row[f"{relation}_id"], [(None, None, None)]
            )
            row[f"{relation}__username"] = username
            row[f"{relation}__first_name"] = first_name
            row[f"{relation}__last_name"] = last_name
        row["labels"] = labels.get(row["id"], [])
    return rows


def conversation_json_rows_for_user(
    *, user: User, filters: ConversationFilters
) -> json_rows.JsonRows | None:
    """As conversation_rows_for_user, each row written as its public JSON by PostgreSQL
    (see inbox.json_rows); None on other databases."""
    if connection.vendor != "postgresql":
        return None
    column = functools.partial(row_lookups.quoted_column, Conversation)
    conditions: list[tuple[str, list[Any]]] = []
    if filters.status:
        conditions.append((f"c.{column('status')} = %s", [filters.status]))
    if filters.assignee == "none":
        conditions.append((f"c.{column('assignee')} IS NULL", []))
    elif filters.assignee:
        assignee = user.pk if filters.assignee == "me" else int(filters.assignee)
        conditions.append((f"c.{column('assignee')} = %s", [assignee]))
    for field in ("team", "channel", "customer"):
        value = getattr(filters, field)
        if value is not None:
            conditions.append((f"c.{column(field)} = %s", [value]))
    if filters.label is not None:
        labelled = Conversation.labels.through
        conditions.append(
            (
                f"EXISTS (SELECT 1 FROM {row_lookups.quoted_table(labelled)} cl "
                f"WHERE cl.{row_lookups.quoted_column(labelled, 'conversation')} = c.{column('id')}"
                f" AND cl.{row_lookups.quoted_column(labelled, 'label')} = %s)",
                [filters.label],
            )
        )
    if filters.query.strip():
        sql, params = conversation_ids_matching_sql(text=filters.query.strip())
        conditions.append((f"c.{column('id')} IN ({sql})", params))
    return json_rows.conversation_json_rows(
        operator_id=_bounded_operator_id(user), conditions=conditions
    )


def message_json_rows_for_user(*, user: User, conversation_id: int) -> json_rows.JsonRows | None:
    """The conversation's messages, each written as its public JSON by PostgreSQL (see
    inbox.json_rows); None on other databases. Raises Conversation.DoesNotExist when the
    conversation is absent or not visible to the user alike."""
    if connection.vendor != "postgresql":
        return None
    rows = json_rows.message_json_rows(
        operator_id=_bounded_operator_id(user), conversation_id=conversation_id
    )
    if rows is None:
        raise Conversation.DoesNotExist
    return rows


def conversation_json_for_user(*, user: User, conversation_id: int) -> str | None:
    """One conversation's public shape as JSON text written by PostgreSQL, or None when
    absent or not visible to the user alike. PostgreSQL only (see
    conversation_json_rows_for_user)."""
    return json_rows.conversation_json_by_id(
        operator_id=_bounded_operator_id(user), conversation_id=conversation_id
    )


def _bounded_operator_id(user: User) -> int | None:
    # Whose teams' channels bound what the user sees: their own, or none (supervisors, admins).
    return None if user.sees_all_conversations else user.pk


def _filtered(
    conversations: QuerySet[Conversation], *, user: User, filters: ConversationFilters
) -> QuerySet[Conversation]:
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
    if filters.label is not None:
        conversations = conversations.filter(labels__id=filters.label)
    if filters.query.strip():
        conversations = conversations.filter(conversation_text_match(text=filters.query.strip()))
    return conversations.order_by("-last_message_at", "-id")


def conversation_get_for_user(*, user: User, conversation_id: int) -> Conversation:
    """The conversation with its relations and labels loaded; raises
    Conversation.DoesNotExist when absent or not visible to the user alike."""
    return _with_relations(conversations_visible_to(user)).get(pk=conversation_id)


def conversation_is_visible_to(*, user: User, conversation_id: int) -> bool:
    return conversations_visible_to(user).filter(pk=conversation_id).exists()


def message_list(*, conversation: Conversation) -> QuerySet[Message]:
    return (
        Message.objects.filter(conversation=conversation)
        .select_related("author")
        .prefetch_related("attachments")
    )


@cache
def _message_rows() -> QuerySet[Any]:
    # As _conversation_rows, for messages.
    return Message.objects.values(*MESSAGE_ROW_FIELDS)


def message_rows(*, conversation_id: int) -> QuerySet[Any]:
    """A conversation's messages as rows of MESSAGE_ROW_FIELDS; a page of it read,
    `message_rows_complete` adds their attachments."""
    return _message_rows().filter(conversation_id=conversation_id)


def message_rows_complete(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adds each row's attachments: one query for any number of rows."""
    attachments: dict[int, list[Attachment]] = {}
    for attachment in row_lookups.models_where_in(
        Attachment, key="message", values=[row["id"] for row in rows], order_by="id"
    ):
        attachments.setdefault(attachment.message_id, []).append(attachment)
    for row in rows:
        row["attachments"] = attachments.get(row["id"], [])
    return rows


def conversation_event_list(*, conversation: Conversation) -> QuerySet[ConversationEvent]:
    return ConversationEvent.objects.filter(conversation=conversation).select_related("actor")


def label_list() -> QuerySet[Label]:
    return Label.objects.order_by("name")


def canned_response_list() -> QuerySet[CannedResponse]:
    return CannedResponse.objects.order_by("shortcut")


def message_for_delivery(*, message_id: int) -> Message | None:
    return (
        Message.objects.select_related("conversation", "conversation__channel", "author")
        .prefetch_related("attachments")
        .filter(pk=message_id)
        .first()
    )


def sent_message_recipient_address(*, channel_id: int, external_id: str) -> str | None:
    """Where the message we sent with this platform id went (its conversation's address)."""
    return (
        Message.objects.filter(
            channel_id=channel_id, external_id=external_id, direction=MessageDirection.OUTBOUND
        )
        .values_list("conversation__recipient_address", flat=True)
        .first()
    )


def conversation_thread_external_ids(
    *, conversation_id: int, before_message_id: int, limit: int = 50
) -> tuple[str, ...]:
    """The platform ids of a conversation's messages before one, oldest first (the
    first message and the latest `limit - 1`): what an email reply names as References."""
    earlier = Message.objects.filter(
        conversation_id=conversation_id,
        id__lt=before_message_id,
        external_id__isnull=False,
        is_private=False,
    ).order_by("-id")
    latest = [ref for ref in earlier.values_list("external_id", flat=True)[: limit - 1] if ref]
    first = earlier.order_by("id").values_list("external_id", flat=True).first()
    if first and first not in latest:
        latest.append(first)
    return tuple(reversed(latest))


def attachment_for_fetch(*, attachment_id: int):
    """An attachment still to be fetched from its platform, with its channel; or None."""
    return (
        Attachment.objects.select_related("message__channel")
        .filter(pk=attachment_id, file="")
        .exclude(media_id="")
        .first()
    )


def attachment_by_file_name(*, file_name: str):
    """The stored attachment behind a media path, whoever asks (for signed links)."""
    return Attachment.objects.filter(file=file_name).exclude(file="").first()


def attachment_for_user(*, user: User, file_name: str):
    """The stored attachment behind a media path, if the user may see its conversation."""
    attachment = Attachment.objects.select_related("message").filter(file=file_name).first()
    if attachment is None:
        return None
    visible = conversations_visible_to(user).filter(pk=attachment.message.conversation_id)
    return attachment if visible.exists() else None


def customer_timeline(*, user: User, customer_id: int) -> QuerySet[Conversation]:
    """The customer's conversations across channels (those the user may see), newest first."""
    return (
        _with_relations(conversations_visible_to(user))
        .filter(customer_id=customer_id)
        .order_by("-id")
    )


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


# Search ---------------------------------------------------------------------------------


class _SimpleTextVector(Func):
    # Spelled exactly as the index of migration 0005 so that PostgreSQL can use it.
    function = "to_tsvector"
    template = "%(function)s('simple', %(expressions)s)"


class _SimpleQuery(Func):
    function = "to_tsquery"
    template = "%(function)s('simple', %(expressions)s)"


class _TextSearchMatch(Func):
    arg_joiner = " @@ "
    template = "(%(expressions)s)"
    output_field = BooleanField()


def _words_as_prefixes(text: str) -> str:
    """A tsquery requiring every word of the text as the start of a word: what someone
    typing "invo" or "kett" expects to find. Words are quoted, so no character of the
    text is read as tsquery syntax."""
    words = (word.strip(string.punctuation) for word in text.split())
    return " & ".join(
        "'" + word.replace("\\", "\\\\").replace("'", "''") + "':*" for word in words if word
    )


def messages_matching_text(*, text: str) -> QuerySet[Message]:
    """Public messages whose body matches: words or their beginnings, full-text
    (GIN-indexed) on PostgreSQL; a case-insensitive substring elsewhere."""
    messages = Message.objects.filter(is_private=False)
    if connection.vendor == "postgresql":
        query = _words_as_prefixes(text)
        if not query:
            return messages.none()
        return messages.filter(
            _TextSearchMatch(_SimpleTextVector(F("body")), _SimpleQuery(Value(query, CharField())))
        )
    return messages.filter(body__icontains=text)


def conversation_text_match(*, text: str) -> Q:
    """Conversations whose customer (name, email, phone, any identity), subject or any
    public message matches the text."""
    return Q(pk__in=RawSQL(*conversation_ids_matching_sql(text=text)))


def conversation_ids_matching_sql(*, text: str) -> tuple[str, list[Any]]:
    """SQL (and its parameters) selecting the ids of conversation_text_match."""
    # A union of ids, each part answered by its own index: over conditions on other tables
    # OR-ed together PostgreSQL would test every conversation. Written out as SQL, as the
    # customers' part is (customer_ids_matching_sql), for the same reason.
    conversation_id, customer = sql_column(Conversation, "id"), sql_column(Conversation, "customer")
    customers = connection.ops.quote_name(Customer._meta.db_table)
    conversations = connection.ops.quote_name(Conversation._meta.db_table)
    matching_customers, customer_params = customer_ids_matching_sql(text=text)
    subject, subject_params = sql_contains(sql_column(Conversation, "subject"), text)
    sql = (
        f"SELECT {conversation_id} FROM {conversations} WHERE {customer} IN "
        f"(SELECT {sql_column(Customer, 'id')} FROM {customers} "
        f"WHERE {sql_column(Customer, 'merged_into')} IS NULL "
        f"AND {sql_column(Customer, 'id')} IN ({matching_customers})) "
        f"UNION SELECT {conversation_id} FROM {conversations} WHERE {subject}"
    )
    params = [*customer_params, *subject_params]
    with suppress(EmptyResultSet):  # no word to look for in message text
        by_message, message_params = (
            messages_matching_text(text=text).values("conversation_id").query.sql_with_params()
        )
        sql, params = f"{sql} UNION {by_message}", [*params, *message_params]
    return sql, list(params)


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

    recorded = cache.get_many([presence_cache_key(pk) for pk in operator_ids])
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
