import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from channels_app.smtp_inbound import smtp_inbound_controller


class Command(BaseCommand):
    help = (
        "Run the inbound SMTP server: mail for the addresses of active email channels is "
        "stored and threaded into the inbox; other recipients get 550, oversize mail 552."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=settings.SMTP_INBOUND_HOST)
        parser.add_argument("--port", type=int, default=settings.SMTP_INBOUND_PORT)

    def handle(self, *args, **options) -> None:
        controller = smtp_inbound_controller(host=options["host"], port=options["port"])
        stopping = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.set())
        controller.start()
        self.stdout.write(f"SMTP inbound listening on {options['host']}:{options['port']}")
        try:
            stopping.wait()
        finally:
            controller.stop()
