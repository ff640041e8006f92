from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "automation"
    verbose_name = _("Automation")

    def ready(self) -> None:
        from automation.selectors import rule_triggers_active
        from inbox import rule_events

        rule_events.watched_triggers_reader_register(rule_triggers_active)
