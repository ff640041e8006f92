from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsAppConfig(AppConfig):
    name = "channels_app"
    label = "channels_app"
    verbose_name = _("Channels")

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed

        from channels_app.models import Channel
        from inbox.access_signals import membership_changed

        # Which teams serve a channel decides which operators see its conversations.
        m2m_changed.connect(
            membership_changed,
            sender=Channel.teams.through,
            dispatch_uid="channels_app.access.channel_teams",
        )
