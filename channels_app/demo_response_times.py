"""`make demo`'s response-time history: two months of a web shop's conversations, so the
response-time page shows days, hours of the week, a trend against the month before and
SLA attainment.

The history is written at once (some two hundred conversations through the receiving path
would slow every demo and its tests): each conversation under the policy that matches it,
answered and resolved, with its business times and breaches as the clock would have
counted them in the policy's calendar.
"""

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from channels_app import services as channel_services
from channels_app.models import Channel
from customers.models import Customer
from inbox.models import (
    Conversation,
    ConversationStatus,
    Message,
    MessageDirection,
    MessageStatus,
    Priority,
    User,
)
from inbox.selectors.business_time import business_seconds_between, business_time_add
from inbox.sla.policies import policies_in_force, policy_matching

DEMO_HISTORY_CHANNEL = "Demo web shop"
HISTORY_DAYS = 60
OFFICE = ZoneInfo("Europe/Warsaw")
QUESTIONS = [
    "Where is my order?",
    "Can I change the delivery address?",
    "The discount code does not work.",
    "Do you have this in size M?",
    "I was charged twice.",
    "How do I return a jacket?",
]
# Conversations a day, Monday to Sunday, and the local hours they come in at, the busiest
# hours more often.
PER_WEEKDAY = (5, 4, 4, 4, 3, 1, 1)
HOURS = (8, 9, 9, 10, 10, 10, 11, 11, 12, 13, 14, 14, 15, 15, 16, 17, 19, 21)
# Minutes to the first answer in business time: (typical, spread) per operator, for the
# month before the last and the last one (Anna got faster, Ben slower).
ANSWER_MINUTES = {"anna": ((45, 40), (20, 15)), "ben": ((25, 20), (40, 40))}


def seed_response_history(team) -> None:
    """Runs once: the channel and its history are made together."""
    if Channel.objects.filter(name=DEMO_HISTORY_CHANNEL).exists():
        return
    channel = channel_services.channel_create(
        kind="api",
        name=DEMO_HISTORY_CHANNEL,
        config={
            "secret": "demo-shop-secret",
            "callback_url": f"{settings.PUBLIC_BASE_URL}/demo/api-callback/",
        },
        # Its history is long past: no surveys for it now.
        csat={"enabled": False},
    )
    channel.teams.set([team])
    operators = list(User.objects.filter(username__in=ANSWER_MINUTES).order_by("username"))
    in_force = policy_matching(
        policies_in_force(), channel_id=channel.pk, team_id=team.pk, priority=Priority.NONE
    )
    pick = random.Random(2026)
    today = timezone.localtime(timezone.now(), OFFICE).date()
    history: list[tuple[datetime, User, int, int]] = []
    for days_ago in range(HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=days_ago)
        for _ in range(PER_WEEKDAY[day.weekday()]):
            opened = datetime(
                day.year, day.month, day.day, pick.choice(HOURS), pick.randrange(60), tzinfo=OFFICE
            )
            operator = operators[len(history) % len(operators)]
            typical, spread = ANSWER_MINUTES[operator.username][days_ago <= 30]
            history.append(
                (
                    opened,
                    operator,
                    max(1, int(pick.gauss(typical, spread))),
                    pick.randrange(20, 900),
                )
            )
    customers = Customer.objects.bulk_create(
        Customer(name=f"Shop customer {number}") for number in range(1, len(history) + 1)
    )
    conversations = Conversation.objects.bulk_create(
        Conversation(
            customer=customer,
            channel=channel,
            team=team,
            recipient_address=f"shop-{customer.pk}",
            status=ConversationStatus.RESOLVED,
            assignee=operator,
            resolved_by=operator,
            assignee_at_resolve=operator,
            sla_policy=in_force.policy if in_force else None,
        )
        for customer, (_, operator, _, _) in zip(customers, history, strict=True)
    )
    messages, written_at = [], []
    for conversation, (opened, operator, answer_minutes, resolve_minutes) in zip(
        conversations, history, strict=True
    ):
        calendar = in_force.calendar if in_force else None
        answered = _after_business_minutes(calendar, opened, answer_minutes)
        resolved = _after_business_minutes(calendar, answered, resolve_minutes)
        _set_times(conversation, in_force, opened=opened, answered=answered, resolved=resolved)
        messages += [
            Message(conversation=conversation, channel=channel, body=pick.choice(QUESTIONS),
                    direction=MessageDirection.INBOUND, status=MessageStatus.RECEIVED,
                    external_id=f"demo-shop-{conversation.pk}"),
            Message(conversation=conversation, channel=channel, body="Thanks, I am on it.",
                    direction=MessageDirection.OUTBOUND, status=MessageStatus.SENT,
                    author=operator, sent_at=answered),
        ]  # fmt: skip
        written_at += [opened, answered]
    Conversation.objects.bulk_update(conversations, TIME_FIELDS)
    # bulk_create stamps them now (auto_now_add): moved back to when they were written.
    Message.objects.bulk_create(messages)
    for message, at in zip(messages, written_at, strict=True):
        message.created_at = at
    Message.objects.bulk_update(messages, ["created_at"])


TIME_FIELDS = [
    "created_at",
    "first_response_at",
    "resolved_at",
    "last_message_at",
    "last_inbound_at",
    "first_response_business_seconds",
    "resolution_business_seconds",
    "first_response_breached",
    "resolution_breached",
]


def _set_times(conversation: Conversation, in_force, *, opened, answered, resolved) -> None:
    calendar = in_force.calendar if in_force else None
    policy = in_force.policy if in_force else None
    first_business = business_seconds_between(calendar, opened, answered)
    resolution_business = business_seconds_between(calendar, opened, resolved)
    conversation.created_at = opened
    conversation.first_response_at = answered
    conversation.resolved_at = resolved
    conversation.last_message_at = answered
    conversation.last_inbound_at = opened
    conversation.first_response_business_seconds = round(first_business) if calendar else None
    conversation.resolution_business_seconds = round(resolution_business) if calendar else None
    conversation.first_response_breached = bool(
        policy and policy.first_response_minutes
        and first_business > policy.first_response_minutes * 60
    )  # fmt: skip
    conversation.resolution_breached = bool(
        policy and policy.resolution_minutes
        and resolution_business > policy.resolution_minutes * 60
    )  # fmt: skip


def _after_business_minutes(calendar, start: datetime, minutes: int) -> datetime:
    return business_time_add(calendar, start, minutes * 60) or start + timedelta(minutes=minutes)
