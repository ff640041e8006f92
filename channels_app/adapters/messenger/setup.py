"""Setting a Messenger channel up: how its Send API is reached and which webhook
fields its page is subscribed to."""

from channels_app.adapters.meta.graph import FACEBOOK_GRAPH_HOST
from channels_app.adapters.meta.messaging_adapter import MessagingPlatform
from channels_app.adapters.meta.messaging_outbound import SendRules
from channels_app.adapters.meta.send_api import SendApiSettings

SEND_API_SETTINGS = SendApiSettings(
    platform_name="Messenger",
    token_key="page_access_token",
    sender_key="",
    default_host=FACEBOOK_GRAPH_HOST,
)
SEND_RULES = SendRules(
    # Meta counts 2,000 characters; 2,000 bytes keeps every piece under that.
    max_text_bytes=2000,
    uploads_files=True,
    file_types=frozenset({"image", "video", "audio", "file"}),
)
WEBHOOK_FIELDS = (
    "messages",
    "messaging_postbacks",
    "message_deliveries",
    "message_reads",
    "message_echoes",
    "message_reactions",
    "message_edits",
)
PLATFORM = MessagingPlatform(
    "page",
    "page_id",
    SEND_API_SETTINGS,
    SEND_RULES,
    WEBHOOK_FIELDS,
    "page_id",
    # The page's inbox, in the Business Suite or the Facebook page itself.
    echo_source="Meta Business Suite",
)
