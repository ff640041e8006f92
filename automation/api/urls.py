from django.urls import path

from automation.api import views

urlpatterns = [
    path("automation-rules/", views.RuleListApi.as_view(), name="automation-rule-list"),
    path("automation-rules/order/", views.RuleReorderApi.as_view(), name="automation-rule-order"),
    path(
        "automation-rules/<int:rule_id>/",
        views.RuleDetailApi.as_view(),
        name="automation-rule-detail",
    ),
    path(
        "automation-rules/<int:rule_id>/runs/",
        views.RuleRunListApi.as_view(),
        name="automation-rule-runs",
    ),
    path(
        "automation-rules/<int:rule_id>/try/",
        views.RuleTryApi.as_view(),
        name="automation-rule-try",
    ),
]
