"""Conversations for export: one flat row per conversation (times, SLA, survey answers,
labels, message counts), read in chunks in id order so that any number of them takes the
memory of one chunk."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from inbox import row_lookups
from inbox.models import (
    ConversationStatus,
    Message,
    MessageDirection,
    SurveyKind,
    SurveyStatus,
    User,
)
from inbox.representations import SLA_TARGETS
from inbox.selectors.conversations import ConversationFilters, conversations_for_user

EXPORT_CHUNK_SIZE = 2000

EXPORT_COLUMNS = (
    "id",
    "channel",
    "channel_kind",
    "customer_id",
    "customer",
    "team",
    "assignee",
    "status",
    "priority",
    "created_at",
    "first_response_at",
    "first_response_seconds",
    "resolved_at",
    "resolution_seconds",
    "sla_met",
    "csat",
    "ces",
    "nps",
    "labels",
    "messages_in",
    "messages_out",
    "notes",
)

_READ_COLUMNS = (
    "id",
    "channel__name",
    "channel__kind",
    "customer_id",
    "customer__name",
    "team__name",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
    "status",
    "priority",
    "created_at",
    "first_response_at",
    "resolved_at",
    "sla_policy_id",
    *(f"{target}_breached" for target in SLA_TARGETS),
    "csat_survey__kind",
    "csat_survey__status",
    "csat_survey__rating",
)


@dataclass(frozen=True)
class ExportPeriod:
    """Conversations created from `start` (inclusive) to `end` (exclusive)."""

    start: datetime
    end: datetime


def _message_count(**conditions: Any) -> Coalesce:
    counted = (
        Message.objects.filter(conversation=OuterRef("pk"), **conditions)
        .order_by()
        .values("conversation")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def conversation_export_chunks(
    *,
    user: User,
    filters: ConversationFilters,
    period: ExportPeriod,
    chunk_size: int | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """The conversations the user may see that the list's filters keep, created in the
    period, as lists of export rows (EXPORT_COLUMNS) in id order: each list one query for
    the conversations and one for their labels, the next read only when it is asked for."""
    conversations = (
        conversations_for_user(user=user, filters=filters)
        .filter(created_at__gte=period.start, created_at__lt=period.end)
        .order_by("pk")
        .values(*_READ_COLUMNS)
        .annotate(
            messages_in=_message_count(direction=MessageDirection.INBOUND),
            messages_out=_message_count(direction=MessageDirection.OUTBOUND, is_private=False),
            notes=_message_count(is_private=True),
        )
    )
    chunk_size = chunk_size or EXPORT_CHUNK_SIZE
    after = 0
    while True:
        rows = list(conversations.filter(pk__gt=after)[:chunk_size])
        if not rows:
            return
        after = rows[-1]["id"]
        labels = row_lookups.labels_of([row["id"] for row in rows])
        yield [_export_row(row, labels.get(row["id"], [])) for row in rows]
        if len(rows) < chunk_size:
            return


def _export_row(row: dict[str, Any], labels: list[tuple]) -> dict[str, Any]:
    full_name = f"{row['assignee__first_name'] or ''} {row['assignee__last_name'] or ''}".strip()
    answered = row["csat_survey__status"] == SurveyStatus.ANSWERED
    ratings = {
        kind: row["csat_survey__rating"] if answered and row["csat_survey__kind"] == kind else None
        for kind in SurveyKind.values
    }
    return {
        "id": row["id"],
        "channel": row["channel__name"],
        "channel_kind": row["channel__kind"],
        "customer_id": row["customer_id"],
        "customer": row["customer__name"],
        "team": row["team__name"] or "",
        "assignee": full_name or row["assignee__username"] or "",
        "status": row["status"],
        "priority": row["priority"],
        "created_at": _time(row["created_at"]),
        "first_response_at": _time(row["first_response_at"]),
        "first_response_seconds": _seconds_between(row["created_at"], row["first_response_at"]),
        "resolved_at": _time(row["resolved_at"]),
        "resolution_seconds": _seconds_between(row["created_at"], row["resolved_at"]),
        "sla_met": _sla_met(row),
        **ratings,
        "labels": [name for _, name, _ in labels],
        "messages_in": row["messages_in"],
        "messages_out": row["messages_out"],
        "notes": row["notes"],
    }


def _sla_met(row: dict[str, Any]) -> bool | None:
    """None without a policy, or while a resolution target may still be missed; False as
    soon as a target was missed; True for a resolved conversation that missed none."""
    if row["sla_policy_id"] is None:
        return None
    if any(row[f"{target}_breached"] for target in SLA_TARGETS):
        return False
    return True if row["status"] == ConversationStatus.RESOLVED else None


def _seconds_between(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds()))


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
