from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = _("Inbox")

    def ready(self) -> None:
        from inbox import access_signals
        from inbox.audit import sign_ins

        access_signals.connect()
        sign_ins.connect()
