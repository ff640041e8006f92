"""Channel-side flows, one module each: the inbound pipeline (inbound, media_fetch,
reprocessing), outbound delivery (delivery), CSAT surveys (survey_dispatch) and
channel administration (administration, active_channels). Other modules and apps call
them through this package."""

from channels_app.adapters.base import ConfigInvalid
from channels_app.services.active_channels import (
    CHANNEL_CACHE_SECONDS,
    ChannelNotFound,
    channel_cached_active,
    channel_forget_cached,
    channel_get_active,
)
from channels_app.services.administration import (
    channel_audit_state,
    channel_changes_record,
    channel_create,
    channel_delete,
    channel_update,
)
from channels_app.services.delivery import message_deliver, messages_settle_stale_sending
from channels_app.services.erasure import customer_erase, retention_erase_expired
from channels_app.services.inbound import (
    WebhookOutcome,
    mail_receive,
    webhook_event_apply,
    webhook_receive,
    webhook_verification,
)
from channels_app.services.media_fetch import attachment_fetch_media, attachments_fetch_lost
from channels_app.services.reprocessing import (
    webhook_events_reprocess,
    webhook_events_reprocess_failed,
)
from channels_app.services.survey_dispatch import csat_survey_send, csat_surveys_send

__all__ = [
    "CHANNEL_CACHE_SECONDS",
    "ChannelNotFound",
    "ConfigInvalid",
    "WebhookOutcome",
    "attachment_fetch_media",
    "attachments_fetch_lost",
    "channel_audit_state",
    "channel_cached_active",
    "channel_changes_record",
    "channel_create",
    "channel_delete",
    "channel_forget_cached",
    "channel_get_active",
    "channel_update",
    "csat_survey_send",
    "csat_surveys_send",
    "customer_erase",
    "mail_receive",
    "message_deliver",
    "messages_settle_stale_sending",
    "retention_erase_expired",
    "webhook_event_apply",
    "webhook_events_reprocess",
    "webhook_events_reprocess_failed",
    "webhook_receive",
    "webhook_verification",
]
