from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        from inbox import access_signals
        from inbox.audit import sign_ins

        access_signals.connect()
        sign_ins.connect()
