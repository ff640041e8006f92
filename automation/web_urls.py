from django.urls import path

from automation import macro_web, web

urlpatterns = [
    path("automation/", web.rules_page, name="automation-rules"),
    path("automation/new/", web.rule_page, name="automation-rule-new"),
    path("automation/<int:rule_id>/", web.rule_page, name="automation-rule"),
    path("automation/<int:rule_id>/try/", web.rule_try_page, name="automation-rule-try-page"),
    path("automation/<int:rule_id>/switch/", web.rule_switch, name="automation-rule-switch"),
    path("automation/<int:rule_id>/move/", web.rule_move, name="automation-rule-move"),
    path("automation/<int:rule_id>/delete/", web.rule_delete, name="automation-rule-delete"),
    path("macros/", macro_web.macros_page, name="macros"),
    path("macros/<int:macro_id>/", macro_web.macros_page, name="macro"),
    path("macros/<int:macro_id>/delete/", macro_web.macro_delete, name="macro-delete"),
]
