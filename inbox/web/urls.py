from django.contrib.auth import views as auth_views
from django.urls import path

from inbox.web import (
    reports_views,
    response_times_views,
    settings_views,
    sign_in_views,
    survey_reports_views,
    two_factor_views,
    views,
)

urlpatterns = [
    path("login/", sign_in_views.PasswordStepView.as_view(), name="login"),
    path("login/code/", sign_in_views.sign_in_code, name="sign-in-code"),
    path("login/set-up/", sign_in_views.sign_in_set_up, name="sign-in-set-up"),
    path("logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path("", views.inbox_page, name="inbox"),
    path("inbox/list/", views.inbox_list_fragment, name="inbox-list"),
    path("inbox/counts/", views.inbox_counts, name="inbox-counts"),
    path("reports/csat/", reports_views.csat_report_page, name="csat-report"),
    path("reports/surveys/", survey_reports_views.survey_report_page, name="survey-report"),
    path(
        "reports/response-times/",
        response_times_views.response_time_report_page,
        name="response-time-report",
    ),
    path("settings/", settings_views.settings_page, name="settings"),
    path("settings/two-factor/", two_factor_views.two_factor_settings, name="two-factor-settings"),
    path(
        "settings/two-factor/turn-off/",
        two_factor_views.two_factor_turn_off,
        name="two-factor-turn-off",
    ),
    path(
        "settings/two-factor/recovery-codes/",
        two_factor_views.two_factor_recovery_codes,
        name="two-factor-recovery-codes",
    ),
    path("inbox/search/", views.inbox_search_fragment, name="inbox-search"),
    path("inbox/presence/", views.inbox_presence, name="inbox-presence"),
    path(
        "inbox/conversations/<int:conversation_id>/",
        views.conversation_pane_fragment,
        name="inbox-conversation",
    ),
]
