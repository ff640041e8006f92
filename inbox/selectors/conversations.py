"""Reads on conversations, always through what the user may see (inbox.visibility): the
API's and the inbox's lists as rows, one conversation, its events, a customer's timeline."""

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from customers.plain_sql import quoted_column, quoted_table
from inbox import json_rows, row_lookups
from inbox.models import Conversation, ConversationEvent, Label, User
from inbox.representations import CONVERSATION_ROW_FIELDS, SLA_TARGETS
from inbox.selectors.search import conversation_ids_matching_sql, conversation_text_match
from inbox.sla.models import SlaPolicy
from inbox.visibility import bounding_operator_id, only_visible

CONVERSATION_RELATIONS = ("customer", "channel", "assignee", "team", "resolved_by", "sla_policy")


def conversations_visible_to(user: User) -> QuerySet[Conversation]:
    return only_visible(Conversation.objects.all(), user)


def conversation_rows_visible_to(user: User) -> QuerySet[Any]:
    """The conversations the user may see as rows of CONVERSATION_LIST_COLUMNS (to be
    completed by conversation_rows_complete)."""
    return only_visible(_conversation_rows().all(), user)


def _with_relations(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """What conversation_representation reads of each model, loaded with it."""
    return conversations.select_related(*CONVERSATION_RELATIONS).prefetch_related("labels")


@dataclass(frozen=True)
class ConversationFilters:
    status: str = ""
    assignee: str = ""
    team: int | None = None
    channel: int | None = None
    customer: int | None = None
    label: int | None = None
    query: str = ""
    # "breached" or "due_soon" (see conversation_sla_condition).
    sla: str = ""


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
    if not field.startswith(("assignee__", "resolved_by__", "sla_policy__"))
)
_OPERATOR_RELATIONS = ("assignee", "resolved_by")


@cache
def _conversation_rows() -> QuerySet[Any]:
    # The columns resolved once rather than in every request (~800 Python calls): each
    # list query starts from a clone of this one, which is never evaluated.
    return Conversation.objects.values(*CONVERSATION_LIST_COLUMNS)


def conversation_rows_complete(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fills in the rows' operators, labels and SLA policies' names: two queries for any
    number of rows, and one more when a policy applies to any of them."""
    operator_ids = {row[f"{relation}_id"] for row in rows for relation in _OPERATOR_RELATIONS}
    operator_ids.discard(None)
    operators = row_lookups.grouped(
        row_lookups.rows_where_in(
            User, ("id", "username", "first_name", "last_name"), key="id", values=operator_ids
        )
    )
    labels = row_lookups.labels_of([row["id"] for row in rows])
    policy_names = sla_policy_names(row["sla_policy_id"] for row in rows)
    for row in rows:
        row["sla_policy__name"] = policy_names.get(row["sla_policy_id"])
        for relation in _OPERATOR_RELATIONS:
            ((username, first_name, last_name),) = operators.get(
                row[f"{relation}_id"], [(None, None, None)]
            )
            row[f"{relation}__username"] = username
            row[f"{relation}__first_name"] = first_name
            row[f"{relation}__last_name"] = last_name
        row["labels"] = labels.get(row["id"], [])
    return rows


def sla_policy_names(policy_ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {policy_id for policy_id in policy_ids if policy_id is not None}
    if not wanted:
        return {}
    return dict(SlaPolicy.objects.filter(pk__in=wanted).values_list("pk", "name"))


def conversation_json_rows_for_user(
    *, user: User, filters: ConversationFilters
) -> json_rows.JsonRows | None:
    """As conversation_rows_for_user, each row written as its public JSON by PostgreSQL
    (see inbox.json_rows); None on other databases."""
    if connection.vendor != "postgresql":
        return None
    column = functools.partial(quoted_column, Conversation)
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
                f"EXISTS (SELECT 1 FROM {quoted_table(labelled)} cl "
                f"WHERE cl.{quoted_column(labelled, 'conversation')} = c.{column('id')}"
                f" AND cl.{quoted_column(labelled, 'label')} = %s)",
                [filters.label],
            )
        )
    if filters.query.strip():
        sql, params = conversation_ids_matching_sql(text=filters.query.strip())
        conditions.append((f"c.{column('id')} IN ({sql})", params))
    if filters.sla == "breached":
        breached = " OR ".join(f"c.{column(f'{target}_breached')}" for target in SLA_TARGETS)
        conditions.append((f"({breached})", []))
    elif filters.sla:
        now = timezone.now()
        soon = now + timedelta(minutes=settings.SLA_DUE_SOON_MINUTES)
        due = f"c.{column('sla_next_due_at')}"
        conditions.append((f"{due} > %s AND {due} <= %s", [now, soon]))
    return json_rows.conversation_json_rows(
        operator_id=bounding_operator_id(user), conditions=conditions
    )


def conversation_json_for_user(*, user: User, conversation_id: int) -> str | None:
    """One conversation's public shape as JSON text written by PostgreSQL, or None when
    absent or not visible to the user alike. PostgreSQL only (see
    conversation_json_rows_for_user)."""
    return json_rows.conversation_json_by_id(
        operator_id=bounding_operator_id(user), conversation_id=conversation_id
    )


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
    if filters.sla:
        conversations = conversations.filter(conversation_sla_condition(filters.sla))
    return conversations.order_by("-last_message_at", "-id")


def conversation_sla_condition(sla: str) -> Q:
    """breached: a target was missed (whatever the status); due_soon: a target not yet
    missed is due within SLA_DUE_SOON_MINUTES from now (paused ones are not due)."""
    if sla == "breached":
        return (
            Q(first_response_breached=True)
            | Q(next_response_breached=True)
            | Q(resolution_breached=True)
        )
    now = timezone.now()
    return Q(
        sla_next_due_at__gt=now,
        sla_next_due_at__lte=now + timedelta(minutes=settings.SLA_DUE_SOON_MINUTES),
    )


def conversation_get_for_user(*, user: User, conversation_id: int) -> Conversation:
    """The conversation with its relations and labels loaded; raises
    Conversation.DoesNotExist when absent or not visible to the user alike."""
    return _with_relations(conversations_visible_to(user)).get(pk=conversation_id)


def conversations_for_bulk_action(
    *, user: User, conversation_ids: Iterable[int]
) -> QuerySet[Conversation]:
    """Those of the conversations the user may see, with their relations and labels loaded
    (two queries for any number)."""
    return _with_relations(conversations_visible_to(user)).filter(pk__in=list(conversation_ids))


def conversations_for_user(*, user: User, filters: ConversationFilters) -> QuerySet[Conversation]:
    """The list's conversations (as conversation_rows_for_user) as a queryset of models."""
    return _filtered(conversations_visible_to(user), user=user, filters=filters)


def conversation_ids_for_user(*, user: User, filters: ConversationFilters, limit: int) -> list[int]:
    """The ids of the list's conversations, at most `limit`, in the list's order."""
    matching = conversations_for_user(user=user, filters=filters)
    return list(matching.values_list("id", flat=True)[:limit])


def conversation_is_visible_to(*, user: User, conversation_id: int) -> bool:
    return conversations_visible_to(user).filter(pk=conversation_id).exists()


def conversation_event_list(*, conversation: Conversation) -> QuerySet[ConversationEvent]:
    return ConversationEvent.objects.filter(conversation=conversation).select_related("actor")


def label_list() -> QuerySet[Label]:
    return Label.objects.order_by("name")


def customer_timeline(*, user: User, customer_id: int) -> QuerySet[Conversation]:
    """The customer's conversations across channels (those the user may see), newest first."""
    return (
        _with_relations(conversations_visible_to(user))
        .filter(customer_id=customer_id)
        .order_by("-id")
    )
