from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from channels_app.models import Channel
from channels_app.secrets import ChannelSecretsUnreadable, reencrypt_secrets


class Command(BaseCommand):
    help = (
        "Encrypt every channel's secrets again with the first of CHANNEL_SECRETS_KEYS, so "
        "that the keys after it can be removed."
    )

    def handle(self, *args, **options) -> None:
        rotated, unreadable = 0, []
        for channel_id in Channel.objects.exclude(secrets_encrypted="").values_list(
            "pk", flat=True
        ):
            with transaction.atomic():
                channel = Channel.objects.select_for_update().filter(pk=channel_id).first()
                if channel is None or not channel.secrets_encrypted:
                    continue
                try:
                    channel.secrets_encrypted = reencrypt_secrets(channel.secrets_encrypted)
                except ChannelSecretsUnreadable:
                    unreadable.append(f"{channel.pk} ({channel.name})")
                    continue
                channel.save(update_fields=["secrets_encrypted", "updated_at"])
                rotated += 1
        self.stdout.write(f"{rotated} channel(s) encrypted with the first key")
        if unreadable:
            raise CommandError(
                "no key decrypts the secrets of channel(s) "
                + ", ".join(unreadable)
                + ": keep their old key in CHANNEL_SECRETS_KEYS, or set their secrets again"
            )
