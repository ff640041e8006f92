"""What the report benchmarks (csat.py, response_times.py) share: a PostgreSQL database of
their own, migrated; the teams, operators, channels and customers their rows refer to; and
Django set up in the benchmark's process, to time the reports' code on that database.

Not a test helper and not part of the product: only the scripts in bench/ import it.
"""

import os
import subprocess
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get(
    "BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)


def database_url(database: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"


def recreate_database(database: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {database}")


def environment(database: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(database),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5"),
        "SECRET_KEY": "bench",
        "LOG_LEVEL": "WARNING",
    }


def migrate(database: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env=environment(database),
        check=True,
    )


def load_people(
    cursor: psycopg.Cursor, *, operators: int, customers: int
) -> tuple[list[int], list[int], list[int]]:
    """5 teams, `operators` operators, 4 API channels and `customers` customers; the ids of
    the operators, teams and channels."""
    cursor.execute(
        "INSERT INTO inbox_team (name, created_at, auto_assign) "
        "SELECT 'Team ' || i, now(), false FROM generate_series(1, 5) i"
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
    cursor.execute(
        "INSERT INTO customers_customer (name, email, phone, attributes, created_at, "
        "updated_at) SELECT 'Customer ' || i, '', '', '{}', now(), now() "
        "FROM generate_series(1, %s) i",
        (customers,),
    )
    operator_ids = [row[0] for row in cursor.execute("SELECT id FROM inbox_user ORDER BY id")]
    team_ids = [row[0] for row in cursor.execute("SELECT id FROM inbox_team ORDER BY id")]
    channel_ids = [
        row[0] for row in cursor.execute("SELECT id FROM channels_app_channel ORDER BY id")
    ]
    return operator_ids, team_ids, channel_ids


def vacuum_analyze(database: str) -> None:
    """As autovacuum would: the visibility map lets the reports use index-only scans."""
    with psycopg.connect(database_url(database), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def django_setup(database: str) -> None:
    """Django in this process, on the benchmark's database."""
    os.environ.update(environment(database))
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def p99(timings: list[float]) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
