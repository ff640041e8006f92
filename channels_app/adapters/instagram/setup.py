"""Setting an Instagram channel up: how its Send API is reached and which
webhook fields its account is subscribed to (Instagram API with Instagram Login)."""

from channels_app.adapters.meta.graph import INSTAGRAM_GRAPH_HOST
from channels_app.adapters.meta.messaging_adapter import MessagingPlatform
from channels_app.adapters.meta.messaging_outbound import SendRules
from channels_app.adapters.meta.send_api import SendApiSettings

# The Instagram API with Instagram Login, whose tokens graph.facebook.com does not take.
SEND_API_SETTINGS = SendApiSettings(
    platform_name="Instagram",
    token_key="access_token",
    sender_key="instagram_account_id",
    default_host=INSTAGRAM_GRAPH_HOST,
)
# Instagram takes 1,000 bytes of text a message, and files only as public image URLs.
SEND_RULES = SendRules(max_text_bytes=1000, uploads_files=False, file_types=frozenset({"image"}))
WEBHOOK_FIELDS = ("messages", "messaging_postbacks", "messaging_seen", "message_reactions")
PLATFORM = MessagingPlatform(
    "instagram",
    "instagram_account_id",
    SEND_API_SETTINGS,
    SEND_RULES,
    WEBHOOK_FIELDS,
    name_fields=("name", "username"),
    name_is_first_given=True,
    username_field="username",
    # The Instagram app, or Meta Business Suite writing through it.
    echo_source="Instagram",
)
