from django.contrib.auth import views as auth_views
from django.urls import path

from inbox.web import reports_views, settings_views, survey_reports_views, views

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="inbox/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path("", views.inbox_page, name="inbox"),
    path("inbox/list/", views.inbox_list_fragment, name="inbox-list"),
    path("inbox/counts/", views.inbox_counts, name="inbox-counts"),
    path("reports/csat/", reports_views.csat_report_page, name="csat-report"),
    path("reports/surveys/", survey_reports_views.survey_report_page, name="survey-report"),
    path("settings/", settings_views.settings_page, name="settings"),
    path("inbox/search/", views.inbox_search_fragment, name="inbox-search"),
    path("inbox/presence/", views.inbox_presence, name="inbox-presence"),
    path(
        "inbox/conversations/<int:conversation_id>/",
        views.conversation_pane_fragment,
        name="inbox-conversation",
    ),
]
