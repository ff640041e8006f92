from django.core.management.base import BaseCommand, CommandError

from channels_app.adapters.telegram.setup import (
    TelegramWebhookRegistrationFailed,
    telegram_webhook_register,
)
from channels_app.management.channel_lookup import channel_by_reference


class Command(BaseCommand):
    help = (
        "Register a Telegram channel's webhook with Telegram (setWebhook): PUBLIC_BASE_URL + "
        "the channel's webhook path, with its webhook_secret."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("channel", help="the channel's id or public_id")
        parser.add_argument(
            "--drop-pending-updates",
            action="store_true",
            help="discard the updates Telegram queued while no webhook answered",
        )

    def handle(self, *args, **options) -> None:
        channel = channel_by_reference(options["channel"])
        try:
            registration = telegram_webhook_register(
                channel=channel, drop_pending_updates=options["drop_pending_updates"]
            )
        except TelegramWebhookRegistrationFailed as error:
            raise CommandError(
                f"Telegram did not set the webhook of channel {channel.pk} "
                f"({channel.name}): {error.reason}"
            ) from error
        self.stdout.write(f"Telegram answered: {registration.description}")
        self.stdout.write(f"  webhook url:     {registration.url}")
        self.stdout.write(f"  allowed updates: {', '.join(registration.allowed_updates)}")
