import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from channels_app.smtp_inbound import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_WORKERS,
    smtp_inbound_controller,
)


def default_workers() -> int:
    configured = getattr(settings, "SMTP_INBOUND_WORKERS", 0)
    if configured > 0:
        return configured
    # Each worker holds one of the process's pooled database connections while it stores.
    pool_size = getattr(settings, "DATABASE_POOL_SIZE", 0)
    return min(DEFAULT_WORKERS, pool_size) if pool_size > 0 else DEFAULT_WORKERS


class Command(BaseCommand):
    help = (
        "Run the inbound SMTP server: mail for the addresses of active email channels is "
        "stored and threaded into the inbox; other recipients get 550, oversize mail 552, "
        "mail the workers cannot store in time 451, connections beyond the limit 421."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=settings.SMTP_INBOUND_HOST)
        parser.add_argument("--port", type=int, default=settings.SMTP_INBOUND_PORT)
        parser.add_argument(
            "--workers",
            type=int,
            default=default_workers(),
            help="threads storing messages, each with one database connection while it does "
            "(default SMTP_INBOUND_WORKERS, else 4, at most DATABASE_POOL_SIZE)",
        )
        parser.add_argument(
            "--max-connections",
            type=int,
            default=getattr(settings, "SMTP_INBOUND_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS),
            help="SMTP connections served at once; more are answered 421 "
            "(default SMTP_INBOUND_MAX_CONNECTIONS, 100)",
        )

    def handle(self, *args, **options) -> None:
        controller = smtp_inbound_controller(
            host=options["host"],
            port=options["port"],
            workers=max(1, options["workers"]),
            max_connections=max(1, options["max_connections"]),
        )
        stopping = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.set())
        controller.start()
        self.stdout.write(
            f"SMTP inbound listening on {options['host']}:{options['port']} "
            f"({options['workers']} workers)"
        )
        try:
            stopping.wait()
        finally:
            controller.stop()
