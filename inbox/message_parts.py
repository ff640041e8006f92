"""The later platform messages of a reply that went out as several (a long text cut to the
platform's limit, files sent one by one). The reply keeps the first one's id as its own;
these keep the others', so that what the customer does to any part (a reaction, a
delivery report) finds the reply."""

from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext_lazy as _


class MessagePart(models.Model):
    message = models.ForeignKey(
        "inbox.Message",
        on_delete=models.CASCADE,
        related_name="later_parts",
        verbose_name=_("message"),
    )
    # The channel is kept beside the id: ids are unique per channel only.
    channel = models.ForeignKey(
        "channels_app.Channel", on_delete=models.CASCADE, verbose_name=_("channel")
    )
    external_id = models.CharField(max_length=255, verbose_name=_("external ID"))

    class Meta:
        verbose_name = _("later part of a message")
        verbose_name_plural = _("later parts of messages")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="message_part_unique_external_id"
            )
        ]

    def __str__(self) -> str:
        return self.external_id


def message_parts_record(*, message, external_ids: Iterable[str]) -> None:
    """Keep the ids of a reply's later parts (a resumed send names those of the earlier
    try again: kept once)."""
    MessagePart.objects.bulk_create(
        [
            MessagePart(message=message, channel_id=message.channel_id, external_id=external_id)
            for external_id in dict.fromkeys(external_ids)
            if external_id and external_id != message.external_id
        ],
        ignore_conflicts=True,
    )


def message_id_of_part(*, channel, external_id: str) -> int | None:
    """The reply one of whose later parts the platform names so, if any."""
    return (
        MessagePart.objects.filter(channel=channel, external_id=external_id)
        .values_list("message_id", flat=True)
        .first()
    )
