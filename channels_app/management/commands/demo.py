import logging
import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from channels_app.demo import DEMO_EMAIL_ADDRESS
from channels_app.smtp_inbound import smtp_inbound_controller

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Migrate, seed demo data and serve on http://127.0.0.1:8000 (embedded mode by default)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, **options) -> None:
        port = options["port"]
        if "PUBLIC_BASE_URL" not in os.environ:
            # The demo channels' replies go to stand-ins on this very server.
            settings.PUBLIC_BASE_URL = f"http://127.0.0.1:{port}"
            os.environ["PUBLIC_BASE_URL"] = settings.PUBLIC_BASE_URL
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo")
        smtp = self._start_smtp_inbound()
        self.stdout.write(
            f"\nSwitchboard is starting on http://127.0.0.1:{port}/\n"
            f"  admin site: http://127.0.0.1:{port}/admin/\n"
            f"  API docs:   http://127.0.0.1:{port}/api/v1/docs/\n"
            + (f"  inbound mail: SMTP on {smtp}, send to {DEMO_EMAIL_ADDRESS}\n" if smtp else "")
        )
        call_command("serve", port=port)

    def _start_smtp_inbound(self) -> str:
        """The inbound SMTP server beside the web server, so mail can be tried out too."""
        host, port = settings.SMTP_INBOUND_HOST, settings.SMTP_INBOUND_PORT
        try:
            smtp_inbound_controller(host=host, port=port).start()
        except (OSError, RuntimeError) as error:
            logger.warning("inbound SMTP server not started on %s:%s: %s", host, port, error)
            return ""
        return f"{host}:{port}"
