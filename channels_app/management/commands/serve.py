import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand

from config.embedded import start_embedded_workers


class Command(BaseCommand):
    help = (
        "Serve HTTP and websockets with uvicorn. Embedded mode also runs the Celery worker "
        "and beat in this process; production mode expects them as separate processes."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1)

    def handle(self, *args, **options) -> None:
        workers = options["workers"]
        if settings.IS_EMBEDDED:
            # One process: the in-memory broker and channel layer live in it.
            workers = 1
            start_embedded_workers()
        uvicorn.run(
            "config.asgi:application",
            host=options["host"],
            port=options["port"],
            workers=workers,
            ws_per_message_deflate=False,
            proxy_headers=True,
            lifespan="off",
            log_level="info",
            # One log line per request costs more than a webhook's own work at high rates.
            access_log=settings.ACCESS_LOG,
        )
