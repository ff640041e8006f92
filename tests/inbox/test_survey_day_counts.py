"""The per-day survey counts the database keeps for the reports: they follow every write to
a survey, and a report adds whole days from them and its partial first and last days from
the surveys themselves, each survey once."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models.functions import TruncDate
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox import reports, survey_reports
from inbox.models import CsatSurvey, SurveyDayCount, SurveyStatus
from inbox.models.surveys import RATING_COLUMNS
from tests.factories import ChannelFactory, ConversationFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 11, 2, tzinfo=UTC)


def survey(channel, *, sent_at, rating=None, kind="nps", operator=None) -> CsatSurvey:
    conversation = ConversationFactory(channel=channel, customer=CustomerFactory())
    return CsatSurvey.objects.create(
        kind=kind,
        conversation=conversation,
        customer=conversation.customer,
        channel=channel,
        operator=operator,
        team=conversation.team,
        token=f"t-{conversation.pk}",
        due_at=sent_at or MONDAY,
        status=SurveyStatus.ANSWERED if rating is not None else SurveyStatus.SENT,
        sent_at=sent_at,
        rating=rating,
    )


def day_counts() -> Counter:
    counted: Counter = Counter()
    for row in SurveyDayCount.objects.values():
        key = (row["kind"], row["day"], row["operator_id"], row["team_id"], row["channel_id"])
        for rating, column in RATING_COLUMNS.items():
            if row[column]:
                counted[(*key, rating)] += row[column]
    return counted


def recounted() -> Counter:
    """The same counts from the surveys themselves, the slow way."""
    with timezone.override(UTC):
        rows = CsatSurvey.objects.filter(sent_at__isnull=False).annotate(day=TruncDate("sent_at"))
        return Counter(
            (kind, day, operator or 0, team or 0, channel, rating)
            for kind, day, operator, team, channel, rating in rows.values_list(
                "kind", "day", "operator_id", "team_id", "channel_id", "rating"
            )
        )


def test_the_counts_follow_every_write_to_a_survey():
    channel, other_channel = ChannelFactory(), ChannelFactory()
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    answered = survey(channel, sent_at=MONDAY + timedelta(hours=9), rating=9, operator=alice)
    waiting = survey(channel, sent_at=MONDAY + timedelta(hours=23, minutes=59), operator=alice)
    not_sent = survey(other_channel, sent_at=None, kind="csat", operator=bob)
    survey(other_channel, sent_at=MONDAY + timedelta(days=1), rating=2, kind="csat")
    assert day_counts() == recounted()
    assert day_counts()[("nps", MONDAY.date(), alice.pk, 0, channel.pk, None)] == 1

    waiting.rating, waiting.status = 3, SurveyStatus.ANSWERED  # the customer answers
    waiting.save()
    not_sent.sent_at = MONDAY + timedelta(days=2)  # the worker sends it
    not_sent.save(update_fields=["sent_at"])
    CsatSurvey.objects.filter(pk=answered.pk).update(operator=bob, rating=10)
    assert day_counts() == recounted()

    bob.delete()  # Django sets the surveys' operator to NULL, statement by statement
    assert day_counts() == recounted()
    assert day_counts()[("nps", MONDAY.date(), 0, 0, channel.pk, 10)] == 1

    answered.conversation.delete()  # the survey goes with its conversation
    CsatSurvey.objects.filter(pk=waiting.pk).update(sent_at=None)
    CsatSurvey.objects.filter(channel=other_channel).delete()
    assert day_counts() == recounted() == Counter()


def test_a_report_counts_whole_days_and_its_partial_first_and_last_day_once_each():
    channel = ChannelFactory()
    start, end = MONDAY + timedelta(hours=10), MONDAY + timedelta(days=4, hours=15)
    for sent_at, rating in [
        (start - timedelta(minutes=1), 0),  # before the period
        (start, 10),  # the partial first day
        (MONDAY + timedelta(hours=23), 9),
        (MONDAY + timedelta(days=1), 8),  # whole days
        (MONDAY + timedelta(days=2, hours=12), 6),
        (MONDAY + timedelta(days=3, hours=23, minutes=59), None),
        (MONDAY + timedelta(days=4), 10),  # the partial last day
        (end - timedelta(seconds=1), 0),
        (end, 0),  # after it
    ]:
        survey(channel, sent_at=sent_at, rating=rating)
    filters = reports.ReportFilters(start=start, end=end)

    with CaptureQueriesContext(connection) as captured:
        overall = survey_reports.nps_report(group_by="channel", filters=filters)["overall"]

    assert (overall["surveys_sent"], overall["responses"]) == (7, 6)
    assert (overall["promoters"], overall["passives"], overall["detractors"]) == (3, 1, 2)
    counting = captured.captured_queries[0]["sql"]
    assert "inbox_surveydaycount" in counting and "inbox_csatsurvey" in counting
    assert len(captured) == 2  # the counts, then the channel's name


def test_a_report_by_day_counts_the_days_of_the_readers_time_zone():
    channel = ChannelFactory()
    # 22:30 UTC on Monday is 01:30 on Tuesday in Moscow.
    survey(channel, sent_at=MONDAY + timedelta(hours=22, minutes=30), rating=4, kind="csat")
    survey(channel, sent_at=MONDAY + timedelta(hours=12), rating=5, kind="csat")
    filters = reports.ReportFilters(
        start=MONDAY - timedelta(days=3), end=MONDAY + timedelta(days=3)
    )

    in_utc = reports.csat_report(group_by="day", filters=filters)
    with timezone.override("Europe/Moscow"):
        in_moscow = reports.csat_report(group_by="day", filters=filters)

    assert [(row["group"]["id"], row["responses"]) for row in in_utc] == [("2026-11-02", 2)]
    assert [(row["group"]["id"], row["responses"]) for row in in_moscow] == [
        ("2026-11-02", 1),
        ("2026-11-03", 1),
    ]


@pytest.mark.parametrize("group_by", ["channel", "day"])
def test_a_period_on_the_calendars_last_day_is_counted_not_a_500(group_by):
    start = datetime(9999, 12, 31, 10, tzinfo=UTC)
    survey(ChannelFactory(), sent_at=start + timedelta(hours=1), rating=9)
    filters = reports.ReportFilters(start=start, end=start + timedelta(hours=2))

    overall = survey_reports.nps_report(group_by=group_by, filters=filters)["overall"]

    assert overall["surveys_sent"] == 1


def test_the_survey_table_keeps_its_three_counting_triggers():
    # SQLite rebuilds a table for many schema changes and drops its triggers: a migration
    # that alters the survey table must create them again, or embedded mode stops counting.
    if connection.vendor == "postgresql":
        sql = (
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'inbox_csatsurvey'::regclass "
            "AND NOT tgisinternal"
        )
    else:
        sql = (
            "SELECT name FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'inbox_csatsurvey'"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        names = {name for (name,) in cursor.fetchall()}
    assert {
        f"inbox_survey_day_counts_{operation}" for operation in ("insert", "update", "delete")
    } <= names
