"""The Messenger channel kind: a Facebook page's signed webhooks in, Send API calls out."""

from channels_app.adapters.messenger import setup
from channels_app.adapters.meta.messaging_adapter import MessagingPlatformAdapter


class MessengerAdapter(MessagingPlatformAdapter):
    """Meta's Messenger Platform for one Facebook page.

    Inbound: the page's webhook (`object: "page"`), signed with `X-Hub-Signature-256`
    (HMAC-SHA256 of the raw body with the app secret), Meta's GET handshake answered with
    the verify token. Customers are known by their page-scoped id (PSID). Messages the page
    sends from Meta's own inbox come back as echoes and are kept as outgoing messages;
    delivery and reading come as watermarks. Outbound: `/me/messages` with the page access
    token, as a RESPONSE inside 24 hours of the customer's last message, with the
    HUMAN_AGENT tag up to 7 days where the channel says the app may use it
    (`human_agent_tag`), never later; files are uploaded.
    """

    kind = "messenger"
    platform = setup.PLATFORM
    public_config_keys = ("page_id", "api_base_url", "human_agent_tag")
    secret_config_keys = ("page_access_token", "app_secret", "verify_token")
    required_config_keys = ("page_id", "page_access_token", "app_secret", "verify_token")
