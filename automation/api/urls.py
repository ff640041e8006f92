from django.urls import path

from automation.api import macro_views, views

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
    path("macros/", macro_views.MacroListApi.as_view(), name="macro-list"),
    path("macros/<int:macro_id>/", macro_views.MacroDetailApi.as_view(), name="macro-detail"),
    path(
        "macros/<int:macro_id>/apply/",
        macro_views.MacroApplyApi.as_view(),
        name="macro-apply",
    ),
]
