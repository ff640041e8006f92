"""SLA clocks on conversations: the first matching policy attaches as a conversation
opens, operators' replies meet targets, customers' messages start the next response
clock, snoozing pauses resolution, and a change of team or priority looks again."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from channels_app.contracts import InboundIdentity, InboundMessage
from inbox.models import BusinessHours, Conversation, ConversationStatus, SlaPolicy
from inbox.receiving.batched_statements import NO_SLA_CLOCK_TO_START
from inbox.representations import conversation_representation
from inbox.services import (
    conversation_assign,
    conversation_reopen,
    conversation_resolve,
    conversation_set_priority,
    conversation_snooze,
    conversations_wake_snoozed,
    message_receive,
    message_reply,
)
from inbox.sla.business_hours import business_hours_calendar
from inbox.sla.clock import is_next_response_to_start, sla_attach_on_open
from inbox.sla.policies import PolicyInForce, policies_forget_cached
from tests.factories import ChannelFactory, ConversationFactory, TeamFactory

pytestmark = pytest.mark.django_db


def policy(name: str, **values) -> SlaPolicy:
    created = SlaPolicy.objects.create(name=name, **values)
    policies_forget_cached()  # as the admin API does after its commit
    return created


def customer_writes(channel, text: str = "Hello?", *, message_id: str, sender: str = "maria"):
    return message_receive(
        channel=channel,
        inbound=InboundMessage(
            external_id=message_id,
            recipient_address=sender,
            identities=(InboundIdentity(kind="api", value=sender),),
            text=text,
        ),
    ).conversation


def fresh(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_related(
        "customer", "channel", "assignee", "team", "resolved_by", "sla_policy"
    ).get(pk=conversation.pk)


def sla_of(conversation: Conversation) -> dict | None:
    return conversation_representation(fresh(conversation))["sla"]


def minutes_after(start: datetime, minutes: float) -> datetime:
    return start + timedelta(minutes=minutes)


def test_the_first_matching_policy_by_position_attaches_when_a_conversation_opens(channel, team):
    policy("Other channels", first_response_minutes=5, channels=[ChannelFactory().pk])
    policy("Other team", first_response_minutes=6, teams=[TeamFactory().pk], position=1)
    standard = policy(
        "Standard", first_response_minutes=60, resolution_minutes=480, teams=[team.pk], position=2
    )
    policy("Anything", first_response_minutes=7, position=3)

    conversation = customer_writes(channel, message_id="m-1")

    opened = fresh(conversation).resolution_started_at
    assert sla_of(conversation) == {
        "policy": {"id": standard.pk, "name": "Standard"},
        "first_response_due_at": minutes_after(opened, 60).isoformat().replace("+00:00", "Z"),
        "next_response_due_at": None,
        "resolution_due_at": minutes_after(opened, 480).isoformat().replace("+00:00", "Z"),
        "breached": [],
    }
    assert fresh(conversation).sla_next_due_at == minutes_after(opened, 60)


def test_a_conversation_no_policy_matches_has_no_sla(channel):
    policy("Urgent only", first_response_minutes=5, priorities=["urgent"])

    conversation = customer_writes(channel, message_id="m-1")

    assert sla_of(conversation) is None
    assert fresh(conversation).sla_next_due_at is None


def test_the_first_reply_meets_the_first_response(channel, operator):
    policy("Standard", first_response_minutes=60)
    conversation = customer_writes(channel, message_id="m-1")

    message_reply(conversation=fresh(conversation), author=operator, body="Hi Maria")

    sla = sla_of(conversation)
    assert sla["first_response_due_at"] is None
    assert sla["breached"] == []
    assert fresh(conversation).sla_next_due_at is None


def test_a_first_reply_after_its_due_time_is_named_breached(channel, operator):
    policy("Standard", first_response_minutes=60)
    conversation = customer_writes(channel, message_id="m-1")
    Conversation.objects.filter(pk=conversation.pk).update(
        first_response_due_at=timezone.now() - timedelta(minutes=1)
    )

    message_reply(conversation=fresh(conversation), author=operator, body="Sorry!")

    sla = sla_of(conversation)
    assert sla["first_response_due_at"] is None
    assert sla["breached"] == ["first_response"]


def test_a_customer_message_after_an_answer_starts_the_next_response_clock_once(channel, operator):
    policy("Standard", first_response_minutes=60, next_response_minutes=30)
    conversation = customer_writes(channel, message_id="m-1")
    message_reply(conversation=fresh(conversation), author=operator, body="Hi")
    assert sla_of(conversation)["next_response_due_at"] is None

    customer_writes(channel, "One more thing", message_id="m-2")
    started = fresh(conversation).next_response_started_at
    due = fresh(conversation).next_response_due_at
    customer_writes(channel, "And another", message_id="m-3")

    assert started is not None
    assert due == minutes_after(started, 30)
    assert fresh(conversation).next_response_due_at == due, "a second message moved it"
    assert fresh(conversation).sla_next_due_at == due

    message_reply(conversation=fresh(conversation), author=operator, body="Done")
    assert sla_of(conversation)["next_response_due_at"] is None
    assert fresh(conversation).next_response_started_at is None


def test_messages_before_the_first_answer_start_no_next_response_clock(channel):
    policy("Standard", first_response_minutes=60, next_response_minutes=30)
    conversation = customer_writes(channel, message_id="m-1")

    customer_writes(channel, "Hello??", message_id="m-2")

    assert sla_of(conversation)["next_response_due_at"] is None


def test_snoozed_time_pauses_the_resolution_clock_only(channel, operator):
    policy("Standard", first_response_minutes=60, resolution_minutes=480)
    conversation = customer_writes(channel, message_id="m-1")
    due = fresh(conversation).resolution_due_at
    conversation_snooze(conversation=fresh(conversation), until=timezone.now() + timedelta(hours=1))
    snoozed = fresh(conversation)
    assert snoozed.sla_paused_at is not None
    # Not swept while paused: the first response is the next due time.
    assert snoozed.sla_next_due_at == snoozed.first_response_due_at
    # Snoozed two hours ago, and the snooze is over now.
    Conversation.objects.filter(pk=conversation.pk).update(
        sla_paused_at=snoozed.sla_paused_at - timedelta(hours=2),
        snoozed_until=timezone.now() - timedelta(seconds=1),
    )

    conversations_wake_snoozed()

    woken = fresh(conversation)
    assert woken.status == ConversationStatus.OPEN
    assert woken.sla_paused_at is None
    stood_still = woken.resolution_due_at - due
    assert timedelta(hours=2) <= stood_still < timedelta(hours=2, seconds=5)
    assert woken.sla_paused_seconds == int(stood_still.total_seconds())


def test_resolving_decides_resolution_and_reopening_starts_it_again(channel, operator):
    policy("Standard", first_response_minutes=60, resolution_minutes=480)
    conversation = customer_writes(channel, message_id="m-1")
    Conversation.objects.filter(pk=conversation.pk).update(
        resolution_due_at=timezone.now() - timedelta(seconds=1)
    )

    conversation_resolve(conversation=fresh(conversation), resolved_by=operator)
    resolved = sla_of(conversation)
    conversation_reopen(conversation=fresh(conversation), actor=operator)
    reopened = fresh(conversation)

    assert resolved["breached"] == ["resolution"]
    assert resolved["resolution_due_at"] is None
    assert resolved["first_response_due_at"] is None
    assert reopened.resolution_due_at == minutes_after(reopened.resolution_started_at, 480)
    assert sla_of(conversation)["breached"] == ["resolution"], "a breach stays named"


def test_a_conversation_resolved_unanswered_and_reopened_waits_for_a_first_answer_again(
    channel, operator
):
    policy("Standard", first_response_minutes=60)
    conversation = customer_writes(channel, message_id="m-1")
    conversation_resolve(conversation=fresh(conversation), resolved_by=operator)
    assert sla_of(conversation)["first_response_due_at"] is None

    conversation_reopen(conversation=fresh(conversation), actor=operator)

    reopened = fresh(conversation)
    assert reopened.first_response_due_at == minutes_after(reopened.resolution_started_at, 60)
    assert reopened.resolution_started_at > reopened.created_at
    assert sla_of(conversation)["breached"] == []


def test_a_priority_change_recounts_running_clocks_under_the_new_policy(channel, operator):
    policy("Urgent", first_response_minutes=15, priorities=["urgent"])
    policy("Standard", first_response_minutes=240, position=1)
    conversation = customer_writes(channel, message_id="m-1")
    opened = fresh(conversation).resolution_started_at
    assert sla_of(conversation)["policy"]["name"] == "Standard"

    conversation_set_priority(conversation=fresh(conversation), priority="urgent")

    urgent = fresh(conversation)
    assert urgent.sla_policy.name == "Urgent"
    # Counted from the opening, not from the change.
    assert urgent.first_response_due_at == minutes_after(opened, 15)
    assert urgent.sla_next_due_at == urgent.first_response_due_at


def test_a_team_change_to_a_team_without_a_policy_stops_the_clocks(channel, team, operator):
    policy("Support team", first_response_minutes=60, teams=[team.pk])
    conversation = customer_writes(channel, message_id="m-1")
    elsewhere = TeamFactory()
    elsewhere.channels.add(channel)

    conversation_assign(conversation=fresh(conversation), team=elsewhere)

    assert sla_of(conversation) is None
    assert fresh(conversation).sla_next_due_at is None


def test_due_times_follow_the_policys_business_hours(channel):
    calendar = BusinessHours.objects.create(
        name="Warsaw office",
        time_zone="Europe/Warsaw",
        weekly={day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    )
    in_force = PolicyInForce(
        policy=policy("Office", first_response_minutes=60, business_hours=calendar),
        calendar=business_hours_calendar(calendar),
    )
    conversation = Conversation(channel_id=channel.pk, team_id=None, priority="none")
    # Friday 4 December 2026, 17:55 in Warsaw.
    friday = datetime(2026, 12, 4, 16, 55, tzinfo=UTC)

    sla_attach_on_open(conversation, now=friday, policies=(in_force,))

    # Five minutes on Friday, fifty-five on Monday from 09:00 Warsaw time.
    assert conversation.first_response_due_at == datetime(2026, 12, 7, 8, 55, tzinfo=UTC)


def test_the_batched_path_leaves_exactly_the_messages_that_start_a_clock(channel):
    standard = policy("Standard", next_response_minutes=30)
    now = timezone.now()
    for sla_policy, answered_at, waiting_since in itertools.product(
        (None, standard), (None, now), (None, now)
    ):
        ConversationFactory(
            channel=channel,
            sla_policy=sla_policy,
            first_response_at=answered_at,
            next_response_started_at=waiting_since,
        )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM inbox_conversation WHERE NOT {NO_SLA_CLOCK_TO_START}")
        left_to_the_regular_path = {row[0] for row in cursor.fetchall()}

    assert left_to_the_regular_path == {
        conversation.pk
        for conversation in Conversation.objects.all()
        if is_next_response_to_start(conversation)
    }
    assert len(left_to_the_regular_path) == 1
