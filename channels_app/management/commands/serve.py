import os
import sys

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from channels_app.embedded_workers import start_embedded_workers
from channels_app.widget.consumer import MAX_FRAME_BYTES

# The largest frame either socket accepts: the widget's own limit, enforced by uvicorn
# before the frame is buffered (a larger one closes the socket with 1009). Operators send
# only small control frames.
WEBSOCKET_MAX_MESSAGE_BYTES = MAX_FRAME_BYTES


class Command(BaseCommand):
    help = (
        "Serve the web tier. `--part all` (the default): HTTP and websockets on one port "
        "(uvicorn; pages, the API and the webhooks' regular path run on WEB_THREADS threads "
        "per process). Behind a proxy that splits the traffic: `--part http` serves pages and "
        "the API on a WSGI server (granian, WEB_THREADS threads per process), `--part "
        "realtime` serves `/ws/` and `/webhooks/` on uvicorn. Embedded mode also runs the "
        "Celery worker and beat in this process; production mode expects them as separate "
        "processes."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument("--part", choices=("all", "http", "realtime"), default="all")

    def handle(self, *args, **options) -> None:
        workers = options["workers"]
        if settings.IS_EMBEDDED:
            if options["part"] != "all":
                raise CommandError("embedded mode serves everything from one process")
            # One process: the in-memory broker and channel layer live in it.
            workers = 1
            start_embedded_workers()
        if options["part"] == "http":
            self._exec_wsgi_server(options["host"], options["port"], workers)
        uvicorn.run(
            "config.asgi:application",
            host=options["host"],
            port=options["port"],
            workers=workers,
            # The sans-I/O websocket protocol keeps no tasks or queues of its own per
            # connection (the legacy one keeps three tasks): an idle operator socket costs
            # less than half.
            ws="websockets-sansio",
            ws_max_size=WEBSOCKET_MAX_MESSAGE_BYTES,
            ws_per_message_deflate=False,
            # The client address and scheme from X-Forwarded-* only on connections from
            # our own proxies, as inbox.client_addresses reads them (FORWARDED_ALLOW_IPS,
            # uvicorn's own variable, is not used).
            proxy_headers=True,
            forwarded_allow_ips=list(settings.TRUSTED_PROXIES),
            lifespan="off",
            log_level="info",
            # One log line per request costs more than a webhook's own work at high rates.
            access_log=settings.ACCESS_LOG,
        )

    def _exec_wsgi_server(self, host: str, port: int, workers: int) -> None:
        """granian: its HTTP handling is Rust, so on a small machine more of each core is
        left to Django than with a Python HTTP server."""
        argv = [
            sys.executable, "-m", "granian", "--interface", "wsgi", "--no-ws",
            "--host", host, "--port", str(port), "--workers", str(workers),
            "--blocking-threads", str(settings.WEB_THREADS),
            "--respawn-failed-workers", "--workers-kill-timeout", "20",
            "--log-level", "warning",
            "--access-log" if settings.ACCESS_LOG else "--no-access-log",
            "config.wsgi:application",
        ]  # fmt: skip
        sys.stdout.flush()
        os.execv(sys.executable, argv)
