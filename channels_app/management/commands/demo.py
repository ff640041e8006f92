from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, seed demo data and serve on http://127.0.0.1:8000 (embedded mode by default)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo")
        port = options["port"]
        self.stdout.write(
            f"\nSwitchboard is starting on http://127.0.0.1:{port}/\n"
            f"  admin site: http://127.0.0.1:{port}/admin/\n"
            f"  API docs:   http://127.0.0.1:{port}/api/v1/docs/\n"
        )
        call_command("serve", port=port)
