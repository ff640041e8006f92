"""The inbox's models, one module per subject, all importable from here (where Django
finds them). The audit log's, the message parts', the follow-ups', the NPS settings', the
outgoing webhooks', the SLA's and the two-step sign-in's models live beside their
services (inbox.audit, inbox.message_parts, inbox.follow_ups, inbox.nps_settings,
inbox.outgoing_webhooks, inbox.sla, inbox.two_factor)."""

from inbox.audit.models import AuditRecord
from inbox.follow_ups.models import FollowUpSettings, SurveyFollowUp
from inbox.message_parts import MessagePart
from inbox.models.canned_responses import CannedResponse
from inbox.models.conversations import (
    Conversation,
    ConversationEvent,
    ConversationEventKind,
    ConversationStatus,
    Label,
    Priority,
)
from inbox.models.messages import (
    Attachment,
    Message,
    MessageDirection,
    MessageStatus,
    ReplyIdempotencyKey,
)
from inbox.models.pending_tasks import PendingTask
from inbox.models.people import LoginLockout, Role, Team, User
from inbox.models.surveys import (
    CsatSurvey,
    SurveyDayCount,
    SurveyKind,
    SurveyReason,
    SurveyStatus,
)
from inbox.notifications.models import Notification, NotificationKind
from inbox.nps_settings import NpsSettings
from inbox.outgoing_webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from inbox.sla.models import BusinessHours, SlaPolicy
from inbox.two_factor.models import RecoveryCode

__all__ = [
    "Attachment",
    "AuditRecord",
    "BusinessHours",
    "CannedResponse",
    "Conversation",
    "ConversationEvent",
    "ConversationEventKind",
    "ConversationStatus",
    "CsatSurvey",
    "FollowUpSettings",
    "Label",
    "LoginLockout",
    "Message",
    "MessageDirection",
    "MessagePart",
    "MessageStatus",
    "Notification",
    "NotificationKind",
    "NpsSettings",
    "PendingTask",
    "Priority",
    "RecoveryCode",
    "ReplyIdempotencyKey",
    "Role",
    "SlaPolicy",
    "SurveyDayCount",
    "SurveyFollowUp",
    "SurveyKind",
    "SurveyReason",
    "SurveyStatus",
    "Team",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
