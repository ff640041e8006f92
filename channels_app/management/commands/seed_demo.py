from django.core.management.base import BaseCommand
from django.db import transaction

from channels_app.demo import (
    DEMO_PASSWORD,
    DEMO_TWO_FACTOR_KEY,
    DEMO_TWO_FACTOR_USERNAME,
    seed_demo,
)


class Command(BaseCommand):
    help = (
        "Create demo operators, a team, an API channel, customers and conversations (idempotent)."
    )

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            logins = seed_demo()
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for role, username in logins:
            self.stdout.write(f"  {role:<10} {username}")
        self.stdout.write(
            f"{DEMO_TWO_FACTOR_USERNAME} also signs in with a code: add the key "
            f"{DEMO_TWO_FACTOR_KEY} to an authenticator app (Settings > Two-step sign-in "
            "sets one up for anyone)."
        )
        self.stdout.write(
            "Several conversations at once: tick them in the inbox's list (shift-click for a "
            "range) and use the bar above it; the supervisor exports conversations from Reports."
        )
