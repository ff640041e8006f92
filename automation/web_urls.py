from django.urls import path

from automation import web

urlpatterns = [
    path("automation/", web.rules_page, name="automation-rules"),
    path("automation/new/", web.rule_page, name="automation-rule-new"),
    path("automation/<int:rule_id>/", web.rule_page, name="automation-rule"),
    path("automation/<int:rule_id>/try/", web.rule_try_page, name="automation-rule-try-page"),
    path("automation/<int:rule_id>/switch/", web.rule_switch, name="automation-rule-switch"),
    path("automation/<int:rule_id>/move/", web.rule_move, name="automation-rule-move"),
    path("automation/<int:rule_id>/delete/", web.rule_delete, name="automation-rule-delete"),
]
