"""The Instagram channel kind: an Instagram account's signed webhooks in, Send API calls out."""

from channels_app.adapters.instagram import setup
from channels_app.adapters.meta.messaging_adapter import MessagingPlatformAdapter


class InstagramAdapter(MessagingPlatformAdapter):
    """Instagram messaging for one professional account.

    Inbound: the same signed envelope as Messenger with `object: "instagram"` and the
    account id in `entry[].id`; customers are known by their Instagram-scoped id (IGSID).
    Story replies and mentions come with the story's link, which expires with the story;
    a deleted message is kept, emptied, rather than dropped; `read` names the message.
    Outbound: `/<instagram_account_id>/messages`, text and images by their public URL,
    with Messenger's windows.
    """

    kind = "instagram"
    platform = setup.PLATFORM
    public_config_keys = ("instagram_account_id", "api_base_url", "human_agent_tag")
    secret_config_keys = ("access_token", "app_secret", "verify_token")
    required_config_keys = ("instagram_account_id", "access_token", "app_secret", "verify_token")
