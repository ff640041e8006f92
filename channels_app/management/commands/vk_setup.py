from django.core.management.base import BaseCommand, CommandError

from channels_app.adapters.vk.setup import VkSetupFailed, vk_callback_server_register
from channels_app.management.channel_lookup import channel_by_reference


class Command(BaseCommand):
    help = (
        "Connect a VK channel's community to Switchboard through the Callback API: keep its "
        "confirmation code, add (or update) the callback server PUBLIC_BASE_URL + the "
        "channel's webhook path with its secret_key, and turn on the message events."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("channel", help="the channel's id or public_id")

    def handle(self, *args, **options) -> None:
        channel = channel_by_reference(options["channel"])
        try:
            server = vk_callback_server_register(channel=channel)
        except VkSetupFailed as error:
            raise CommandError(
                f"VK did not set up channel {channel.pk} ({channel.name}): {error.reason}"
            ) from error
        self.stdout.write(f"VK callback server {'added' if server.is_new else 'updated'}")
        self.stdout.write(f"  server id: {server.server_id}")
        self.stdout.write(f"  url:       {server.url}")
        self.stdout.write(f"  events:    {', '.join(server.events)}")
