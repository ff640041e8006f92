"""A customer's health: the signals that they may be unhappy or about to leave, and a risk
level from them. Plain rules, documented in docs/surveys.md ("Customer health"):

Signals, counted over the customer's (live) history:
- the latest answer of each survey kind (CSAT, CES, NPS); a poor one (CSAT 1-2, CES 1-3,
  NPS 0-6) weighs POOR_SCORE_POINTS;
- contacts (conversations opened) in the last 30 and 90 days; FREQUENT_CONTACTS_30_DAYS or
  FREQUENT_CONTACTS_90_DAYS or more weigh a point;
- conversations reopened in the last 90 days (by the customer writing again or an
  operator; a snooze ending is no reopening); REOPENED_CONVERSATIONS or more weigh a point;
- channel switches in the last 90 days: a conversation opened on another channel within
  CHANNEL_SWITCH_DAYS of the customer's previous conversation's last message (the same
  issue, taken elsewhere); one or more weigh a point;
- unanswered time: how long the customer has been waiting for a reply in a conversation
  not resolved whose last message is theirs; UNANSWERED_HOURS or more weighs a point.

Risk: HIGH_FROM_POINTS points or more is high, a point or more is medium, else low. So a
poor latest score alone is medium, and with any other signal (or a second poor score) high.

Every page of customers costs the same three queries, whatever its length.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from customers.models import Customer, HealthRisk
from inbox import survey_kinds
from inbox.models import (
    Conversation,
    ConversationEvent,
    ConversationEventKind,
    ConversationStatus,
    CsatSurvey,
    SurveyStatus,
)

POOR_SCORE_POINTS = 2
FREQUENT_CONTACTS_30_DAYS = 3
FREQUENT_CONTACTS_90_DAYS = 6
REOPENED_CONVERSATIONS = 2
CHANNEL_SWITCH_DAYS = 3
UNANSWERED_HOURS = 24
HIGH_FROM_POINTS = 3
WINDOW_DAYS = 90
SURVEY_KINDS = tuple(survey_kinds.SCALES)


@dataclass(frozen=True)
class LatestScore:
    rating: int
    answered_at: datetime


@dataclass(frozen=True)
class CustomerHealth:
    risk: str = HealthRisk.LOW
    # Why the risk is what it is: the signals that weighed, by name.
    reasons: tuple[str, ...] = ()
    latest_scores: dict[str, LatestScore | None] = field(default_factory=dict)
    contacts_30_days: int = 0
    contacts_90_days: int = 0
    reopened_conversations: int = 0
    channel_switches: int = 0
    unanswered_seconds: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The API's `customer.health`."""
        latest = {
            f"last_{kind}": None
            if (score := self.latest_scores.get(kind)) is None
            else {"rating": score.rating, "answered_at": score.answered_at.isoformat()}
            for kind in SURVEY_KINDS
        }
        return {
            "risk": str(self.risk),
            "reasons": list(self.reasons),
            **latest,
            "contacts_30_days": self.contacts_30_days,
            "contacts_90_days": self.contacts_90_days,
            "reopened_conversations": self.reopened_conversations,
            "channel_switches": self.channel_switches,
            "unanswered_seconds": self.unanswered_seconds,
        }


def customer_health(*, customer_id: int, now: datetime | None = None) -> CustomerHealth:
    return customers_health(customer_ids=[customer_id], now=now)[customer_id]


def customers_health(
    *, customer_ids: Iterable[int], now: datetime | None = None
) -> dict[int, CustomerHealth]:
    """The health of each customer, in three queries for any number of them."""
    ids = list(customer_ids)
    if not ids:
        return {}
    now = now or timezone.now()
    scores = _latest_scores(ids)
    conversations = _recent_conversations(ids, now=now)
    reopened = _reopened_counts(ids, now=now)
    return {
        customer_id: _health(
            latest_scores=scores.get(customer_id, {}),
            conversations=conversations.get(customer_id, []),
            reopened_conversations=reopened.get(customer_id, 0),
            now=now,
        )
        for customer_id in ids
    }


def _latest_scores(ids: list[int]) -> dict[int, dict[str, LatestScore | None]]:
    annotations = {}
    for kind in SURVEY_KINDS:
        latest = CsatSurvey.objects.filter(
            customer=OuterRef("pk"), kind=kind, status=SurveyStatus.ANSWERED
        ).order_by("-answered_at", "-id")
        annotations[f"{kind}_rating"] = Subquery(latest.values("rating")[:1])
        annotations[f"{kind}_answered_at"] = Subquery(latest.values("answered_at")[:1])
    rows = Customer.objects.filter(pk__in=ids).annotate(**annotations).values("pk", *annotations)
    return {
        row["pk"]: {
            kind: None
            if row[f"{kind}_rating"] is None
            else LatestScore(row[f"{kind}_rating"], row[f"{kind}_answered_at"])
            for kind in SURVEY_KINDS
        }
        for row in rows
    }


def _recent_conversations(ids: list[int], *, now: datetime) -> dict[int, list[dict[str, Any]]]:
    """Conversations active in the window (and the switch margin before it), and every
    one not resolved (for the unanswered time), oldest first."""
    since = now - timedelta(days=WINDOW_DAYS + CHANNEL_SWITCH_DAYS)
    rows = (
        Conversation.objects.filter(customer_id__in=ids)
        .filter(
            Q(created_at__gte=since)
            | Q(last_message_at__gte=since)
            | ~Q(status=ConversationStatus.RESOLVED)
        )
        .order_by("created_at", "id")
        .values(
            "customer_id",
            "channel_id",
            "status",
            "created_at",
            "last_message_at",
            "last_inbound_at",
        )
    )
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["customer_id"]].append(dict(row))
    return grouped


def _reopened_counts(ids: list[int], *, now: datetime) -> dict[int, int]:
    rows = (
        ConversationEvent.objects.filter(
            conversation__customer_id__in=ids,
            kind=ConversationEventKind.REOPENED,
            created_at__gte=now - timedelta(days=WINDOW_DAYS),
        )
        # A snooze that ended reopens too, with a reason; the customer did nothing.
        .filter(Q(data__reason__isnull=True) | ~Q(data__reason="snooze_ended"))
        .values("conversation__customer_id")
        .annotate(count=Count("conversation_id", distinct=True))
    )
    return {row["conversation__customer_id"]: row["count"] for row in rows}


def _health(
    *,
    latest_scores: dict[str, LatestScore | None],
    conversations: list[dict[str, Any]],
    reopened_conversations: int,
    now: datetime,
) -> CustomerHealth:
    window_start = now - timedelta(days=WINDOW_DAYS)
    contacts_30 = sum(1 for row in conversations if row["created_at"] >= now - timedelta(days=30))
    contacts_90 = sum(1 for row in conversations if row["created_at"] >= window_start)
    switches = _channel_switches(conversations, window_start=window_start)
    unanswered = _unanswered_seconds(conversations, now=now)

    points = 0
    reasons = []
    for kind in SURVEY_KINDS:
        score = latest_scores.get(kind)
        if score is not None and score.rating <= survey_kinds.scale_of(kind).poor_up_to:
            points += POOR_SCORE_POINTS
            reasons.append(f"poor_{kind}")
    signals = {
        "frequent_contacts": contacts_30 >= FREQUENT_CONTACTS_30_DAYS
        or contacts_90 >= FREQUENT_CONTACTS_90_DAYS,
        "reopened_conversations": reopened_conversations >= REOPENED_CONVERSATIONS,
        "channel_switches": switches >= 1,
        "unanswered": unanswered is not None and unanswered >= UNANSWERED_HOURS * 3600,
    }
    for name, is_present in signals.items():
        if is_present:
            points += 1
            reasons.append(name)
    if points >= HIGH_FROM_POINTS:
        risk = HealthRisk.HIGH
    elif points:
        risk = HealthRisk.MEDIUM
    else:
        risk = HealthRisk.LOW
    return CustomerHealth(
        risk=risk,
        reasons=tuple(reasons),
        latest_scores={kind: latest_scores.get(kind) for kind in SURVEY_KINDS},
        contacts_30_days=contacts_30,
        contacts_90_days=contacts_90,
        reopened_conversations=reopened_conversations,
        channel_switches=switches,
        unanswered_seconds=unanswered,
    )


def _channel_switches(conversations: list[dict[str, Any]], *, window_start: datetime) -> int:
    switches = 0
    for previous, current in pairwise(conversations):
        if current["created_at"] < window_start or current["channel_id"] == previous["channel_id"]:
            continue
        previous_activity = previous["last_message_at"] or previous["created_at"]
        if current["created_at"] - previous_activity <= timedelta(days=CHANNEL_SWITCH_DAYS):
            switches += 1
    return switches


def _unanswered_seconds(conversations: list[dict[str, Any]], *, now: datetime) -> int | None:
    waiting = [
        row["last_inbound_at"]
        for row in conversations
        if row["status"] != ConversationStatus.RESOLVED
        and row["last_inbound_at"] is not None
        and (row["last_message_at"] is None or row["last_message_at"] <= row["last_inbound_at"])
    ]
    if not waiting:
        return None
    return max(int((now - min(waiting)).total_seconds()), 0)
