"""CSAT report benchmark: the per-operator report over 1M survey responses, 50 operators.

Creates its own PostgreSQL database (switchboard_bench_csat), migrates it, loads the rows
with COPY, then times `inbox.reports.csat_report` in-process (what the API view runs),
for a 30-day window and for the whole year, and prints median and p99.

    python bench/csat.py [--responses 1000000] [--operators 50] [--repeat 30]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get(
    "BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
DATABASE = "switchboard_bench_csat"


def database_url() -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{DATABASE}"


def recreate_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")


def environment() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5"),
        "SECRET_KEY": "bench",
        # The fake platforms listen on loopback, which outbound calls may not reach
        # in production unless allowed.
        "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
        "LOG_LEVEL": "WARNING",
    }


def migrate() -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=environment(), check=True
    )


def load(responses: int, operators: int) -> float:
    """COPY customers, conversations and surveys; returns seconds taken."""
    started = time.perf_counter()
    with psycopg.connect(database_url()) as connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO inbox_team (name, created_at) SELECT 'Team ' || i, now() "
            "FROM generate_series(1, 5) i"
        )
        cursor.execute(
            "INSERT INTO inbox_user (password, is_superuser, username, first_name, last_name, "
            "email, is_staff, is_active, date_joined, role) SELECT '!', false, 'op' || i, "
            "'Operator', i::text, '', false, true, now(), 'operator' "
            "FROM generate_series(1, %s) i",
            (operators,),
        )
        cursor.execute(
            "INSERT INTO channels_app_channel (kind, name, public_id, config, secrets_encrypted, "
            "csat, is_active, created_at, updated_at) SELECT 'api', 'Channel ' || i, "
            "gen_random_uuid(), '{}', '', '{}', true, now(), now() FROM generate_series(1, 4) i"
        )
        operator_ids = [row[0] for row in cursor.execute("SELECT id FROM inbox_user ORDER BY id")]
        team_ids = [row[0] for row in cursor.execute("SELECT id FROM inbox_team ORDER BY id")]
        channel_ids = [
            row[0] for row in cursor.execute("SELECT id FROM channels_app_channel ORDER BY id")
        ]
        cursor.execute(
            "INSERT INTO customers_customer (name, email, phone, attributes, created_at, "
            "updated_at) SELECT 'Customer ' || i, '', '', '{}', now(), now() "
            "FROM generate_series(1, %s) i",
            (responses,),
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
        cursor.execute(
            "INSERT INTO inbox_csatsurvey (conversation_id, customer_id, channel_id, operator_id, "
            "team_id, status, skip_reason, token, due_at, send_attempts, sent_at, expires_at, "
            "external_id, rating, comment, answered_at, created_at, updated_at) "
            "SELECT id, customer_id, channel_id, assignee_id, team_id, 'answered', '', 't' || id, "
            "resolved_at, 1, resolved_at, resolved_at + interval '7 days', '', "
            "CASE WHEN r < 0.04 THEN 1 WHEN r < 0.09 THEN 2 WHEN r < 0.19 THEN 3 "
            "WHEN r < 0.49 THEN 4 ELSE 5 END, '', resolved_at + interval '5 minutes', "
            "resolved_at, resolved_at "
            "FROM (SELECT *, random() AS r FROM inbox_conversation) c"
        )
        connection.commit()
    # As autovacuum would: the visibility map lets the report use index-only scans.
    with psycopg.connect(database_url(), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def time_reports(repeat: int) -> None:
    os.environ.update(environment())
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inbox import reports

    now = datetime.now(UTC)
    for label, days in (("30-day window", 30), ("whole year", 366)):
        filters = reports.ReportFilters(start=now - timedelta(days=days), end=now)
        reports.csat_report(group_by="operator", filters=filters)  # warm caches
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                rows = reports.csat_report(group_by="operator", filters=filters)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        p99 = timings[min(len(timings) - 1, int(0.99 * len(timings)))]
        responses = sum(row["responses"] for row in rows)
        print(
            f"csat report by operator, {label}: {responses} responses, {len(rows)} operators, "
            f"{len(captured)} queries: median {statistics.median(timings):.1f} ms, "
            f"p99 {p99:.1f} ms over {repeat} runs"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--operators", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--reuse", action="store_true", help="time the reports on the database a run left"
    )
    options = parser.parse_args()
    if not options.reuse:
        recreate_database()
        migrate()
        seconds = load(options.responses, options.operators)
        print(f"loaded {options.responses} answered surveys for {options.operators} "
              f"operators in {seconds:.1f} s")  # fmt: skip
    time_reports(options.repeat)


if __name__ == "__main__":
    main()
