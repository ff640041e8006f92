from django.urls import path

from inbox.api import (
    audit_views,
    bulk_views,
    canned_response_views,
    conversation_views,
    customer_views,
    export_views,
    follow_up_views,
    label_views,
    message_views,
    notification_views,
    personal_views,
    report_views,
    settings_views,
    sla_views,
    survey_list_views,
    survey_report_views,
    team_views,
    two_factor_views,
)

urlpatterns = [
    path("reports/csat/", report_views.CsatReportApi.as_view(), name="report-csat"),
    path("reports/nps/", survey_report_views.NpsReportApi.as_view(), name="report-nps"),
    path("reports/ces/", survey_report_views.CesReportApi.as_view(), name="report-ces"),
    path("settings/nps/", settings_views.NpsSettingsApi.as_view(), name="settings-nps"),
    path("surveys/", survey_list_views.SurveyListApi.as_view(), name="survey-list"),
    path(
        "settings/follow-ups/",
        follow_up_views.FollowUpSettingsApi.as_view(),
        name="settings-follow-ups",
    ),
    path(
        "surveys/<int:survey_id>/follow-up/",
        follow_up_views.FollowUpOutcomeApi.as_view(),
        name="survey-follow-up",
    ),
    path(
        "reports/conversations/",
        report_views.ConversationReportApi.as_view(),
        name="report-conversations",
    ),
    path(
        "conversations/", conversation_views.ConversationListApi.as_view(), name="conversation-list"
    ),
    path("conversations/bulk/", bulk_views.ConversationBulkApi.as_view(), name="conversation-bulk"),
    path(
        "conversations/export/",
        export_views.ConversationExportApi.as_view(),
        name="conversation-export",
    ),
    path(
        "conversations/<int:conversation_id>/",
        conversation_views.ConversationDetailApi.as_view(),
        name="conversation-detail",
    ),
    path(
        "conversations/<int:conversation_id>/assign/",
        conversation_views.ConversationAssignApi.as_view(),
        name="conversation-assign",
    ),
    path(
        "conversations/<int:conversation_id>/resolve/",
        conversation_views.ConversationResolveApi.as_view(),
        name="conversation-resolve",
    ),
    path(
        "conversations/<int:conversation_id>/reopen/",
        conversation_views.ConversationReopenApi.as_view(),
        name="conversation-reopen",
    ),
    path(
        "conversations/<int:conversation_id>/snooze/",
        conversation_views.ConversationSnoozeApi.as_view(),
        name="conversation-snooze",
    ),
    path(
        "conversations/<int:conversation_id>/messages/",
        message_views.MessageListApi.as_view(),
        name="message-list",
    ),
    path(
        "conversations/<int:conversation_id>/labels/",
        conversation_views.ConversationLabelsApi.as_view(),
        name="conversation-labels",
    ),
    path("labels/", label_views.LabelListApi.as_view(), name="label-list"),
    path("labels/<int:label_id>/", label_views.LabelDetailApi.as_view(), name="label-detail"),
    path(
        "conversations/<int:conversation_id>/events/",
        conversation_views.ConversationEventListApi.as_view(),
        name="conversation-event-list",
    ),
    path(
        "conversations/<int:conversation_id>/messages/<int:message_id>/retry/",
        message_views.MessageRetryApi.as_view(),
        name="message-retry",
    ),
    path("customers/", customer_views.CustomerListApi.as_view(), name="customer-list"),
    path(
        "customers/<int:customer_id>/",
        customer_views.CustomerDetailApi.as_view(),
        name="customer-detail",
    ),
    path(
        "customers/<int:customer_id>/merge/",
        customer_views.CustomerMergeApi.as_view(),
        name="customer-merge",
    ),
    path(
        "customers/<int:customer_id>/export/",
        customer_views.CustomerExportApi.as_view(),
        name="customer-export",
    ),
    path(
        "customer-merges/<int:merge_id>/undo/",
        customer_views.CustomerMergeUndoApi.as_view(),
        name="customer-merge-undo",
    ),
    path("audit-log/", audit_views.AuditLogListApi.as_view(), name="audit-log"),
    path("business-hours/", sla_views.BusinessHoursListApi.as_view(), name="business-hours-list"),
    path(
        "business-hours/<int:business_hours_id>/",
        sla_views.BusinessHoursDetailApi.as_view(),
        name="business-hours-detail",
    ),
    path("sla-policies/", sla_views.SlaPolicyListApi.as_view(), name="sla-policy-list"),
    path(
        "sla-policies/<int:sla_policy_id>/",
        sla_views.SlaPolicyDetailApi.as_view(),
        name="sla-policy-detail",
    ),
    path("teams/", team_views.TeamListApi.as_view(), name="team-list"),
    path("teams/<int:team_id>/", team_views.TeamDetailApi.as_view(), name="team-detail"),
    path("operators/", team_views.OperatorListApi.as_view(), name="operator-list"),
    path("operators/me/", personal_views.OperatorMeApi.as_view(), name="operator-me"),
    path("notifications/", notification_views.NotificationListApi.as_view(), name="notifications"),
    path(
        "notifications/read/",
        notification_views.NotificationReadApi.as_view(),
        name="notifications-read",
    ),
    path(
        "operators/<int:operator_id>/",
        team_views.OperatorDetailApi.as_view(),
        name="operator-detail",
    ),
    path(
        "operators/<int:operator_id>/two-factor/",
        two_factor_views.OperatorTwoFactorApi.as_view(),
        name="operator-two-factor",
    ),
    path(
        "operators/<int:operator_id>/two-factor/reset/",
        two_factor_views.OperatorTwoFactorResetApi.as_view(),
        name="operator-two-factor-reset",
    ),
    path(
        "canned-responses/",
        canned_response_views.CannedResponseListApi.as_view(),
        name="canned-response-list",
    ),
    path(
        "canned-responses/<int:canned_response_id>/",
        canned_response_views.CannedResponseDetailApi.as_view(),
        name="canned-response-detail",
    ),
]
