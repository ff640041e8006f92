"""Response-time report benchmark: the supervisor's response-time page over 1M
conversations, 50 operators.

Creates its own PostgreSQL database (switchboard_bench_response_times), migrates it, loads
the conversations with INSERT … SELECT (a year of them, in time order as they are written;
most answered and resolved, half under an SLA policy with business hours, one in eight of
those breached), then times in process what the page at /reports/response-times/ runs for
a 30-day window (`inbox.response_time_overview`: the report, the previous period, the
period's totals and the hours) and what `GET /api/v1/reports/conversations/` runs, and
prints median and p99, and each statement's share.

    python bench/response_times.py [--conversations 1000000] [--operators 50] [--repeat 20]
                                   [--reuse]
"""

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

import psycopg
from report_database import (
    database_url,
    django_setup,
    load_people,
    migrate,
    p99,
    recreate_database,
    vacuum_analyze,
)

DATABASE = "switchboard_bench_response_times"


def load(conversations: int, operators: int) -> float:
    """Teams, operators, channels, a calendar and its policy, customers and
    `conversations` over the past year; returns seconds taken."""
    started = time.perf_counter()
    with psycopg.connect(database_url(DATABASE)) as connection, connection.cursor() as cursor:
        operator_ids, team_ids, channel_ids = load_people(
            cursor, operators=operators, customers=conversations
        )
        cursor.execute(
            "INSERT INTO inbox_businesshours (name, time_zone, weekly, holidays, "
            "yearly_holidays, created_at, updated_at) VALUES ('Office', 'Europe/Warsaw', "
            """'{"mon": [["09:00", "18:00"]], "tue": [["09:00", "18:00"]], """
            """"wed": [["09:00", "18:00"]], "thu": [["09:00", "18:00"]], """
            """"fri": [["09:00", "18:00"]]}', '[]', '[]', now(), now()) RETURNING id"""
        )
        [calendar] = cursor.fetchone()
        cursor.execute(
            "INSERT INTO inbox_slapolicy (name, first_response_minutes, next_response_minutes, "
            "resolution_minutes, business_hours_id, channels, teams, priorities, position, "
            "created_at, updated_at) VALUES ('Standard', 60, 120, 1440, %s, '[]', '[]', '[]', "
            "0, now(), now()) RETURNING id",
            (calendar,),
        )
        [policy] = cursor.fetchone()
        # Opened at random times over the past year, written in time order; 95 % answered
        # (after up to 2 hours, skewed short), 90 % resolved (up to 2 days), the last days'
        # still open; every other one under the policy, one in eight of those breached.
        cursor.execute(
            "INSERT INTO inbox_conversation (customer_id, channel_id, recipient_address, status, "
            "priority, subject, assignee_id, team_id, last_message_at, created_at, updated_at, "
            "first_response_at, resolved_at, sla_policy_id, first_response_breached, "
            "resolution_breached, first_response_business_seconds, "
            "resolution_business_seconds) "
            "SELECT customer_id, channel_id, 'c' || customer_id, "
            "CASE WHEN resolved_at IS NULL THEN 'open' ELSE 'resolved' END, 'none', '', "
            "assignee_id, team_id, created_at, created_at, created_at, first_response_at, "
            "resolved_at, CASE WHEN under_sla THEN %(policy)s END, under_sla AND breached, "
            "under_sla AND breached AND resolved_at IS NOT NULL, "
            "CASE WHEN under_sla AND first_response_at IS NOT NULL THEN "
            "(extract(epoch FROM first_response_at - created_at) / 3)::int END, "
            "CASE WHEN under_sla AND resolved_at IS NOT NULL THEN "
            "(extract(epoch FROM resolved_at - created_at) / 3)::int END "
            "FROM (SELECT c.id AS customer_id, (%(channels)s)[1 + c.id %% 4] AS channel_id, "
            "(%(operators)s)[1 + c.id %% %(operator_count)s] AS assignee_id, "
            "(%(teams)s)[1 + c.id %% 5] AS team_id, t.at AS created_at, "
            "CASE WHEN random() < 0.95 THEN t.at + random() * random() * interval '2 hours' "
            "END AS first_response_at, "
            "CASE WHEN random() < 0.9 AND t.at < now() - interval '2 days' THEN "
            "t.at + random() * interval '2 days' END AS resolved_at, "
            "c.id %% 2 = 0 AS under_sla, random() < 0.125 AS breached "
            "FROM customers_customer c CROSS JOIN LATERAL (SELECT now() - random() * "
            "interval '365 days' + c.id * interval '0 seconds' AS at) t ORDER BY t.at) rows",
            {
                "policy": policy,
                "channels": channel_ids,
                "operators": operator_ids,
                "teams": team_ids,
                "operator_count": len(operator_ids),
            },
        )
        connection.commit()
    vacuum_analyze(DATABASE)
    return time.perf_counter() - started


def time_page(repeat: int) -> None:
    django_setup(DATABASE)
    from zoneinfo import ZoneInfo

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inbox import response_reports
    from inbox.reports import ReportFilters
    from inbox.response_time_overview import response_time_overview

    now = datetime.now(UTC)
    filters = ReportFilters(start=now - timedelta(days=30), end=now)
    zone = ZoneInfo("Europe/Warsaw")
    runs = {
        "page /reports/response-times/ (overview)": lambda: response_time_overview(
            filters=filters, time_zone=zone
        ),
        "api reports/conversations/": lambda: response_reports.conversation_report(filters=filters),
    }
    for label, run in runs.items():
        run()  # warm caches
        timings, statements = [], {}
        for _ in range(repeat):
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                result = run()
            timings.append((time.perf_counter() - started) * 1000)
            for index, query in enumerate(captured.captured_queries):
                statements.setdefault(index, (query["sql"], []))[1].append(
                    float(query["time"]) * 1000
                )
        volume = (result.get("overall") or {}).get("volume") if "overall" in result else None
        print(
            f"{label}, 30-day window: {len(captured)} queries: median "
            f"{statistics.median(timings):.1f} ms, p99 {p99(timings):.1f} ms over {repeat} runs"
            + (f" ({volume} conversations in the window)" if volume else "")
        )
        for sql, times in statements.values():
            print(f"    {statistics.median(times):7.1f} ms  {sql[:110]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--operators", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--reuse", action="store_true", help="time the page on the database a run left"
    )
    options = parser.parse_args()
    if not options.reuse:
        recreate_database(DATABASE)
        migrate(DATABASE)
        seconds = load(options.conversations, options.operators)
        print(f"loaded {options.conversations} conversations for {options.operators} "
              f"operators in {seconds:.1f} s")  # fmt: skip
    time_page(options.repeat)


if __name__ == "__main__":
    main()
