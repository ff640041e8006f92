"""What a Messenger Platform channel (a Facebook page, an Instagram account) does, given
which platform it is on: the webhook envelope read, the Send API called."""

from dataclasses import dataclass
from typing import Any, ClassVar

from channels_app import contracts
from channels_app.adapters.meta import messaging_outbound
from channels_app.adapters.meta.channel_setup import account_subscribe, config_errors
from channels_app.adapters.meta.graph import answer_text
from channels_app.adapters.meta.media import media_fetch
from channels_app.adapters.meta.messaging_inbound import Platform, events_from_webhook
from channels_app.adapters.meta.messaging_outbound import SendRules
from channels_app.adapters.meta.send_api import SendApi, SendApiSettings
from channels_app.adapters.meta.webhooks import MetaWebhookAdapter


@dataclass(frozen=True)
class MessagingPlatform:
    """What sets one Messenger Platform kind apart from the other."""

    webhook_object: str  # the envelope's `object`
    account_config_key: str  # the config key of the account id in `entry[].id`
    send_api: SendApiSettings
    send_rules: SendRules
    webhook_fields: tuple[str, ...]
    # Whose subscribed_apps the fields are set on: the account id under this config key,
    # or the token's own account ("me") when None.
    subscription_account_key: str | None = None
    # The profile API's fields that make a sender's name, joined in this order; the
    # first ones given win over the rest ("name" before "username").
    name_fields: tuple[str, ...] = ("first_name", "last_name")
    name_is_first_given: bool = False
    # The profile API's field holding the person's handle, kept on their identity.
    username_field: str = ""
    # Where the account's own people write when not in Switchboard: their echoes'
    # author as operators see it.
    echo_source: str = ""


class MessagingPlatformAdapter(MetaWebhookAdapter):
    """Subclasses name their platform."""

    platform: ClassVar[MessagingPlatform]

    # A request carrying one customer message may take the batched path; echoes,
    # watermarks, several events a request, button answers and files go the regular way
    # (the edge takes a lone plain message only), and so does a new sender's first
    # message, after which the regular path asks Meta for their name.
    takes_batched_path = True
    windows_from_platform_time = True
    fetches_sender_names = True
    sends_surveys_in_parallel = True

    @classmethod
    def check_config(cls, public: dict[str, Any]) -> dict[str, str]:
        return config_errors(public, account_key=cls.platform.account_config_key)

    def parse(self, request: contracts.WebhookRequest) -> list[contracts.InboundEvent]:
        account_id = self.channel.config.get(self.platform.account_config_key)
        envelope = Platform(
            object_name=self.platform.webhook_object,
            identity_kind=self.kind,
            account_id=str(account_id or ""),
            echo_source=self.platform.echo_source,
        )
        return events_from_webhook(request.body, platform=envelope)

    def send(self, outbound: contracts.OutboundMessage) -> contracts.DeliveryResult:
        return messaging_outbound.message_send(
            self.send_api(),
            outbound,
            rules=self.platform.send_rules,
            may_use_human_agent_tag=self.channel.config.get("human_agent_tag") is True,
        )

    def send_survey(self, survey: contracts.OutboundSurvey) -> contracts.DeliveryResult:
        """The CSAT question with a quick reply for each rating."""
        return messaging_outbound.survey_send(self.send_api(), survey)

    def fetch_media(self, media_id: str) -> contracts.MediaContent:
        # A Messenger Platform attachment's "media id" is its CDN URL.
        return media_fetch(self.send_api(), media_id)

    def fetch_sender_name(self, address: str) -> str:
        return self.fetch_sender_profile(address).name

    def fetch_sender_profile(self, address: str) -> contracts.SenderProfile:
        """GET /<PSID or IGSID>?fields=…: the person's name (and Instagram username) as the
        profile API gives them."""
        if not address.isascii() or not address.isdigit():
            return contracts.SenderProfile()
        names, username_field = self.platform.name_fields, self.platform.username_field
        fields = [*names, *([username_field] if username_field not in ("", *names) else [])]
        profile = self.send_api().request_json(
            "GET", address, action="profile lookup", params={"fields": ",".join(fields)}
        )
        parts = [answer_text(profile.get(field)) for field in names]
        given = [part for part in parts if part]
        if self.platform.name_is_first_given:
            given = given[:1]
        username = answer_text(profile.get(username_field)) if username_field else ""
        return contracts.SenderProfile(name=" ".join(given)[:255], username=username[:255])

    def send_api(self) -> SendApi:
        return SendApi(self.channel, self.platform.send_api)

    def webhook_subscribe(self) -> list[str]:
        """Subscribe the account to the webhook fields Switchboard reads; returns them."""
        key = self.platform.subscription_account_key
        account = str(self.channel.config.get(key) or "me") if key else "me"
        fields = self.platform.webhook_fields
        return account_subscribe(self.send_api(), account_path=account, fields=fields)
