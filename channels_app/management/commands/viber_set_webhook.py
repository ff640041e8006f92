from django.core.management.base import BaseCommand, CommandError

from channels_app.adapters.viber.setup import ViberWebhookFailed, viber_webhook_register
from channels_app.management.channel_lookup import channel_by_reference


class Command(BaseCommand):
    help = (
        "Register a Viber channel's webhook with Viber (/pa/set_webhook): PUBLIC_BASE_URL + "
        "the channel's webhook path, with the events Switchboard handles. The server must "
        "be reachable there: Viber checks the address before it answers."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("channel", help="the channel's id or public_id")

    def handle(self, *args, **options) -> None:
        channel = channel_by_reference(options["channel"])
        try:
            webhook = viber_webhook_register(channel=channel)
        except ViberWebhookFailed as error:
            raise CommandError(
                f"Viber did not set the webhook of channel {channel.pk} ({channel.name}): "
                f"{error.reason}"
            ) from error
        self.stdout.write("Viber set the webhook")
        self.stdout.write(f"  webhook url: {webhook.url}")
        self.stdout.write(f"  events:      {', '.join(webhook.event_types)}")
