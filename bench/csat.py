"""Survey report benchmark: the per-operator CSAT, NPS and CES reports over 1M survey
responses of each kind, 50 operators.

Creates its own PostgreSQL database (switchboard_bench_csat), migrates it, loads the rows
with INSERT … SELECT, then times `inbox.reports.csat_report` and
`inbox.survey_reports.nps_report` / `ces_report` in-process (what the API views run), for a
30-day window and for the whole year, and prints median and p99.

    python bench/csat.py [--responses 1000000] [--kinds csat,nps,ces] [--operators 50]
                         [--repeat 30]
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

DATABASE = "switchboard_bench_csat"


# Each kind's answers, skewed towards the good end, from r = random() in [0, 1).
RATINGS_SQL = {
    "csat": "CASE WHEN r < 0.04 THEN 1 WHEN r < 0.09 THEN 2 WHEN r < 0.19 THEN 3 "
    "WHEN r < 0.49 THEN 4 ELSE 5 END",
    "nps": "LEAST(10, floor(sqrt(r) * 11))::int",
    "ces": "1 + LEAST(6, floor(sqrt(r) * 7))::int",
}


def load(responses: int, operators: int, kinds: list[str]) -> float:
    """Customers, conversations and `responses` answered surveys of each kind; returns
    seconds taken."""
    conversations = responses * len(kinds)
    started = time.perf_counter()
    with psycopg.connect(database_url(DATABASE)) as connection, connection.cursor() as cursor:
        operator_ids, team_ids, channel_ids = load_people(
            cursor, operators=operators, customers=conversations
        )
        # Conversations resolved at random times over the past year, spread over the
        # operators, teams and channels; every survey answered, skewed towards good ratings.
        cursor.execute(
            "INSERT INTO inbox_conversation (customer_id, channel_id, recipient_address, status, "
            "priority, subject, assignee_id, team_id, last_message_at, created_at, updated_at, "
            "resolved_at) "
            "SELECT c.id, (%(channels)s)[1 + c.id %% 4], 'c' || c.id, 'resolved', 'none', '', "
            "(%(operators)s)[1 + c.id %% %(operator_count)s], (%(teams)s)[1 + c.id %% 5], "
            "t.at, t.at, t.at, t.at FROM customers_customer c "
            "CROSS JOIN LATERAL (SELECT now() - random() * interval '365 days' + c.id * "
            "interval '0 seconds' AS at) t",
            {
                "channels": channel_ids,
                "operators": operator_ids,
                "teams": team_ids,
                "operator_count": len(operator_ids),
            },
        )
        kind_of = "CASE " + " ".join(
            f"WHEN id % {len(kinds)} = {index} THEN '{kind}'" for index, kind in enumerate(kinds)
        )
        rating_of = "CASE " + " ".join(
            f"WHEN id % {len(kinds)} = {index} THEN {RATINGS_SQL[kind]}"
            for index, kind in enumerate(kinds)
        )
        cursor.execute(
            "INSERT INTO inbox_csatsurvey (conversation_id, customer_id, channel_id, operator_id, "
            "team_id, kind, status, skip_reason, token, due_at, send_attempts, sent_at, "
            "expires_at, external_id, rating, comment, answered_at, created_at, updated_at, "
            "language) "
            f"SELECT id, customer_id, channel_id, assignee_id, team_id, {kind_of} END, "
            "'answered', '', 't' || id, resolved_at, 1, resolved_at, "
            f"resolved_at + interval '7 days', '', {rating_of} END, '', "
            "resolved_at + interval '5 minutes', resolved_at, resolved_at, '' "
            # In time order, as surveys are written when they happen: the index-only scan
            # then finds consecutive entries under the same visibility-map page.
            "FROM (SELECT *, random() AS r FROM inbox_conversation) c ORDER BY resolved_at"
        )
        connection.commit()
    vacuum_analyze(DATABASE)
    return time.perf_counter() - started


def time_reports(repeat: int, kinds: list[str]) -> None:
    django_setup(DATABASE)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inbox import reports, survey_reports

    def rows_of(kind: str, filters) -> list[dict]:
        if kind == "csat":
            return reports.csat_report(group_by="operator", filters=filters)
        report = survey_reports.nps_report if kind == "nps" else survey_reports.ces_report
        return report(group_by="operator", filters=filters)["results"]

    now = datetime.now(UTC)
    for kind in kinds:
        for label, days in (("30-day window", 30), ("whole year", 366)):
            filters = reports.ReportFilters(start=now - timedelta(days=days), end=now)
            rows_of(kind, filters)  # warm caches
            timings = []
            for _ in range(repeat):
                started = time.perf_counter()
                with CaptureQueriesContext(connection) as captured:
                    rows = rows_of(kind, filters)
                timings.append((time.perf_counter() - started) * 1000)
            responses = sum(row["responses"] for row in rows)
            print(
                f"{kind} report by operator, {label}: {responses} responses, {len(rows)} "
                f"operators, {len(captured)} queries: median {statistics.median(timings):.1f} "
                f"ms, p99 {p99(timings):.1f} ms over {repeat} runs"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--operators", type=int, default=50)
    parser.add_argument("--kinds", default="csat,nps,ces", help="survey kinds, by commas")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--reuse", action="store_true", help="time the reports on the database a run left"
    )
    options = parser.parse_args()
    kinds = [kind for kind in options.kinds.split(",") if kind in RATINGS_SQL]
    if not options.reuse:
        recreate_database(DATABASE)
        migrate(DATABASE)
        seconds = load(options.responses, options.operators, kinds)
        print(f"loaded {options.responses} answered surveys of each of {', '.join(kinds)} "
              f"for {options.operators} operators in {seconds:.1f} s")  # fmt: skip
    time_reports(options.repeat, kinds)


if __name__ == "__main__":
    main()
