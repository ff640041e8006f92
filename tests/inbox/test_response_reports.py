"""The response-time report on a known data set: volume, first response and resolution
medians and p90s per operator, team and channel, in wall and business time; SLA
attainment of the conversations decided in the period; the CSV; a flat query count."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox import response_reports
from inbox.models import BusinessHours, Conversation, ConversationStatus, SlaPolicy
from inbox.reports import ReportFilters
from inbox.sla.clock import sla_meet_on_reply, sla_on_status_change
from inbox.sla.policies import policies_forget_cached
from tests.factories import ChannelFactory, ConversationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
OPENED = NOW - timedelta(days=2)
URL = "/api/v1/reports/conversations/"


def conversation(*, assignee=None, team=None, channel=None, **times) -> Conversation:
    """A conversation opened at OPENED (or `created_at`), answered after `first_minutes` and
    resolved after `resolved_minutes`, with the other columns given as they are."""
    created = times.pop("created_at", OPENED)
    first_minutes = times.pop("first_minutes", None)
    resolved_minutes = times.pop("resolved_minutes", None)
    made = ConversationFactory(
        assignee=assignee, team=team, **({"channel": channel} if channel else {})
    )
    Conversation.objects.filter(pk=made.pk).update(
        created_at=created,
        first_response_at=created + timedelta(minutes=first_minutes)
        if first_minutes is not None
        else None,
        resolved_at=created + timedelta(minutes=resolved_minutes)
        if resolved_minutes is not None
        else None,
        status=ConversationStatus.RESOLVED
        if resolved_minutes is not None
        else ConversationStatus.OPEN,
        **times,
    )
    return made


@pytest.fixture
def known_data_set():
    """Anna: three conversations, answered after 2, 4 and 10 minutes, resolved after 6, 12
    and 30; Boris: two, answered after 1 and 60 minutes, one resolved after 90. Anna's on
    the chat channel and team Sales, Boris' on mail and team Support."""
    sales, support = TeamFactory(name="Sales"), TeamFactory(name="Support desk")
    chat, mail = ChannelFactory(name="Chat"), ChannelFactory(name="Mail")
    anna = UserFactory(username="anna", first_name="Anna", last_name="")
    boris = UserFactory(username="boris", first_name="Boris", last_name="")
    policy = SlaPolicy.objects.create(name="Standard", first_response_minutes=5)
    anna_at = {"assignee": anna, "team": sales, "channel": chat, "sla_policy": policy}
    conversation(**anna_at, first_minutes=2, resolved_minutes=6)
    conversation(**anna_at, first_minutes=4, resolved_minutes=12)
    conversation(**anna_at, first_minutes=10, resolved_minutes=30, first_response_breached=True)
    boris_at = {"assignee": boris, "team": support, "channel": mail}
    conversation(**boris_at, first_minutes=1, resolved_minutes=90, sla_policy=policy)
    # Open and already breached: not decided yet, so not counted in attainment.
    conversation(**boris_at, first_minutes=60, sla_policy=policy, first_response_breached=True)
    # Opened and resolved before the period: in neither part of the report.
    conversation(**boris_at, created_at=NOW - timedelta(days=40), resolved_minutes=5)
    return {"anna": anna, "boris": boris, "sales": sales, "support": support, "chat": chat}


def row_of(rows: list[dict], group_id) -> dict:
    [row] = [row for row in rows if row["group"]["id"] == group_id]
    return row


def test_times_per_operator_are_the_medians_and_p90s_of_the_known_set(
    supervisor_client, known_data_set
):
    data = supervisor_client.get(URL).json()

    anna = row_of(data["by_operator"], known_data_set["anna"].pk)
    assert anna["group"]["name"] == "Anna"
    assert anna["volume"] == anna["conversations"] == 3
    assert anna["first_response"] == {"median_seconds": 240.0, "p90_seconds": 600.0}
    assert anna["resolution"] == {"median_seconds": 720.0, "p90_seconds": 1800.0}
    boris = row_of(data["by_operator"], known_data_set["boris"].pk)
    assert boris["volume"] == 2
    # An even count: the median lies halfway between the middle two (1 and 60 minutes).
    assert boris["first_response"] == {"median_seconds": 1830.0, "p90_seconds": 3600.0}
    assert boris["resolution"] == {"median_seconds": 5400.0, "p90_seconds": 5400.0}
    # No calendar applies to any of them: no business times.
    assert anna["first_response_business"] == {"median_seconds": None, "p90_seconds": None}


def test_sla_attainment_counts_the_conversations_decided_in_the_period(
    supervisor_client, known_data_set
):
    data = supervisor_client.get(URL).json()

    anna = row_of(data["by_operator"], known_data_set["anna"].pk)
    assert anna["sla"] == {"decided": 3, "met": 2, "breached": 1}
    assert anna["sla_met_percent"] == 66.67
    boris = row_of(data["by_operator"], known_data_set["boris"].pk)
    # The open breached one is not decided; the one without a policy has no SLA.
    assert boris["sla"] == {"decided": 1, "met": 1, "breached": 0}
    assert boris["sla_met_percent"] == 100.0
    assert row_of(data["by_team"], known_data_set["sales"].pk)["sla_met_percent"] == 66.67
    assert row_of(data["by_team"], known_data_set["support"].pk)["sla"]["decided"] == 1
    chat = row_of(data["by_channel"], known_data_set["chat"].pk)
    assert chat["group"]["name"] == "Chat"
    assert (chat["volume"], chat["sla"]["met"]) == (3, 2)


def test_a_conversation_resolved_in_the_period_counts_though_opened_before(
    supervisor_client, known_data_set
):
    policy = SlaPolicy.objects.get()
    conversation(
        assignee=known_data_set["anna"],
        created_at=NOW - timedelta(days=45),
        resolved_minutes=45 * 24 * 60 - 60,
        sla_policy=policy,
        resolution_breached=True,
    )

    data = supervisor_client.get(URL).json()

    anna = row_of(data["by_operator"], known_data_set["anna"].pk)
    assert anna["volume"] == 3  # opened before the period
    assert anna["sla"] == {"decided": 4, "met": 2, "breached": 2}
    assert anna["sla_met_percent"] == 50.0


def test_business_times_are_reported_where_a_calendar_applies(supervisor_client, operator):
    for first, resolved in ((600, 3600), (900, 7200), (3000, None)):
        conversation(
            assignee=operator,
            first_minutes=first // 60 + 600,  # the wall time includes a night
            first_response_business_seconds=first,
            resolution_business_seconds=resolved,
        )

    row = row_of(supervisor_client.get(URL).json()["by_operator"], operator.pk)

    assert row["first_response_business"] == {"median_seconds": 900.0, "p90_seconds": 3000.0}
    assert row["resolution_business"] == {"median_seconds": 5400.0, "p90_seconds": 7200.0}
    assert row["first_response"]["median_seconds"] == 600 * 60 + 900


def test_the_clock_keeps_business_times_as_targets_are_decided(channel):
    """Opened on Friday at 17:55 in Warsaw, answered on Monday at 09:10, resolved at 10:00:
    5 + 10 business minutes to the answer, 5 + 60 to the resolution."""
    calendar = BusinessHours.objects.create(
        name="Office",
        time_zone="Europe/Warsaw",
        weekly={day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    )
    policy = SlaPolicy.objects.create(
        name="Office hours", first_response_minutes=60, business_hours=calendar
    )
    policies_forget_cached()
    friday = datetime(2026, 3, 6, 16, 55, tzinfo=UTC)  # 17:55 in Warsaw (UTC+1)
    monday = datetime(2026, 3, 9, 8, 10, tzinfo=UTC)
    opened = conversation(channel=channel, created_at=friday, sla_policy=policy)
    opened.refresh_from_db()

    opened.first_response_at = monday
    fields = sla_meet_on_reply(opened, now=monday)
    opened.status = ConversationStatus.RESOLVED
    fields += sla_on_status_change(
        opened, was=ConversationStatus.OPEN, now=monday + timedelta(minutes=50)
    )

    assert "first_response_business_seconds" in fields
    assert "resolution_business_seconds" in fields
    assert opened.first_response_business_seconds == 15 * 60
    assert opened.resolution_business_seconds == 65 * 60


def test_round_the_clock_policies_keep_no_business_times(channel):
    policy = SlaPolicy.objects.create(name="Always", first_response_minutes=60)
    policies_forget_cached()
    opened = conversation(channel=channel, sla_policy=policy)
    opened.refresh_from_db()
    opened.first_response_at = NOW

    sla_meet_on_reply(opened, now=NOW)

    assert opened.first_response_business_seconds is None


def test_the_csv_has_a_row_per_operator_team_and_channel(supervisor_client, known_data_set):
    response = supervisor_client.get(URL, {"format": "csv"})

    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="response-times.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    anna = next(row for row in rows if row["grouping"] == "operator" and row["name"] == "Anna")
    assert anna["conversations"] == "3"
    assert anna["first_response_median_seconds"] == "240.0"
    assert anna["sla_met_percent"] == "66.67"
    assert {row["grouping"] for row in rows} == {"operator", "team", "channel"}
    # Two operators, two teams, two channels.
    assert len(rows) == 6


def test_bad_input_is_a_400_in_csv_too(supervisor_client):
    response = supervisor_client.get(URL, {"format": "csv", "from": "yesterday"})

    assert response.status_code == 400
    assert response.content.decode().startswith("error,detail")


def test_the_query_count_does_not_grow_with_operators_teams_and_channels(supervisor_client):
    filters = ReportFilters(start=NOW - timedelta(days=30), end=NOW)
    policy = SlaPolicy.objects.create(name="Standard", first_response_minutes=5)

    def add_group() -> None:
        conversation(
            assignee=UserFactory(),
            team=TeamFactory(),
            channel=ChannelFactory(),
            first_minutes=3,
            resolved_minutes=9,
            sla_policy=policy,
        )

    add_group()
    with CaptureQueriesContext(connection) as few:
        response_reports.conversation_report(filters=filters)
    for _ in range(6):
        add_group()
    with CaptureQueriesContext(connection) as many:
        report = response_reports.conversation_report(filters=filters)

    assert len(report["by_operator"]) == 7
    # The times of every grouping (on PostgreSQL in a transaction of their own, to set
    # their sort memory: three statements more), the attainment counts, three names.
    sort_memory = 3 if connection.vendor == "postgresql" else 0
    assert len(few) == len(many) == 5 + sort_memory
