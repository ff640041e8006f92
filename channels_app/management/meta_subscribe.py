"""The commands that subscribe a Messenger page or an Instagram account to the app's
webhook fields through the Graph API."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from channels_app.adapters.meta.messaging_adapter import MessagingPlatformAdapter
from channels_app.contracts import DeliveryFailed
from channels_app.management.channel_lookup import channel_by_reference
from channels_app.registry import adapter_for
from inbox.delivery_failures import failure_text


class SubscribeCommand(BaseCommand):
    kind: str

    def add_arguments(self, parser) -> None:
        parser.add_argument("channel", help="the channel's id or public_id")

    def handle(self, *args, **options) -> None:
        channel = channel_by_reference(options["channel"])
        adapter = adapter_for(channel)
        if channel.kind != self.kind or not isinstance(adapter, MessagingPlatformAdapter):
            raise CommandError(
                _("Channel %(id)s is a %(kind)s channel, not %(expected)s.")
                % {"id": channel.pk, "kind": channel.kind, "expected": self.kind}
            )
        try:
            fields = adapter.webhook_subscribe()
        except DeliveryFailed as error:
            raise CommandError(
                _("Meta did not subscribe channel %(id)s (%(name)s): %(reason)s")
                % {
                    "id": channel.pk,
                    "name": channel.name,
                    "reason": failure_text(error.failure.stored()),
                }
            ) from error
        self.stdout.write(
            _("Subscribed channel %(id)s (%(name)s) to: %(fields)s")
            % {"id": channel.pk, "name": channel.name, "fields": ", ".join(fields)}
        )
