from django.urls import path

from inbox.api import personal_views, report_views, views

urlpatterns = [
    path("reports/csat/", report_views.CsatReportApi.as_view(), name="report-csat"),
    path(
        "reports/conversations/",
        report_views.ConversationReportApi.as_view(),
        name="report-conversations",
    ),
    path("conversations/", views.ConversationListApi.as_view(), name="conversation-list"),
    path(
        "conversations/<int:conversation_id>/",
        views.ConversationDetailApi.as_view(),
        name="conversation-detail",
    ),
    path(
        "conversations/<int:conversation_id>/assign/",
        views.ConversationAssignApi.as_view(),
        name="conversation-assign",
    ),
    path(
        "conversations/<int:conversation_id>/resolve/",
        views.ConversationResolveApi.as_view(),
        name="conversation-resolve",
    ),
    path(
        "conversations/<int:conversation_id>/reopen/",
        views.ConversationReopenApi.as_view(),
        name="conversation-reopen",
    ),
    path(
        "conversations/<int:conversation_id>/snooze/",
        views.ConversationSnoozeApi.as_view(),
        name="conversation-snooze",
    ),
    path(
        "conversations/<int:conversation_id>/messages/",
        views.MessageListApi.as_view(),
        name="message-list",
    ),
    path(
        "conversations/<int:conversation_id>/labels/",
        views.ConversationLabelsApi.as_view(),
        name="conversation-labels",
    ),
    path("labels/", views.LabelListApi.as_view(), name="label-list"),
    path("labels/<int:label_id>/", views.LabelDetailApi.as_view(), name="label-detail"),
    path(
        "conversations/<int:conversation_id>/events/",
        views.ConversationEventListApi.as_view(),
        name="conversation-event-list",
    ),
    path(
        "conversations/<int:conversation_id>/messages/<int:message_id>/retry/",
        views.MessageRetryApi.as_view(),
        name="message-retry",
    ),
    path("customers/", views.CustomerListApi.as_view(), name="customer-list"),
    path("customers/<int:customer_id>/", views.CustomerDetailApi.as_view(), name="customer-detail"),
    path(
        "customers/<int:customer_id>/merge/",
        views.CustomerMergeApi.as_view(),
        name="customer-merge",
    ),
    path(
        "customer-merges/<int:merge_id>/undo/",
        views.CustomerMergeUndoApi.as_view(),
        name="customer-merge-undo",
    ),
    path("teams/", views.TeamListApi.as_view(), name="team-list"),
    path("teams/<int:team_id>/", views.TeamDetailApi.as_view(), name="team-detail"),
    path("operators/", views.OperatorListApi.as_view(), name="operator-list"),
    path("operators/me/", personal_views.OperatorMeApi.as_view(), name="operator-me"),
    path("operators/<int:operator_id>/", views.OperatorDetailApi.as_view(), name="operator-detail"),
    path("canned-responses/", views.CannedResponseListApi.as_view(), name="canned-response-list"),
    path(
        "canned-responses/<int:canned_response_id>/",
        views.CannedResponseDetailApi.as_view(),
        name="canned-response-detail",
    ),
]
