"""The WhatsApp channel kind: Meta's signed webhooks in, Graph API calls out."""

from typing import Any

from channels_app.adapters.meta.webhooks import MetaWebhookAdapter
from channels_app.adapters.whatsapp import inbound, setup
from channels_app.adapters.whatsapp.graph_api import GraphApi
from channels_app.adapters.whatsapp.media import media_fetch
from channels_app.adapters.whatsapp.outbound import message_send, survey_send
from channels_app.contracts import (
    DeliveryResult,
    InboundEvent,
    MediaContent,
    OutboundMessage,
    OutboundSurvey,
    WebhookRequest,
)


class WhatsAppAdapter(MetaWebhookAdapter):
    """Meta's WhatsApp Business Cloud API.

    Inbound: the `messages` webhook field, signed with `X-Hub-Signature-256` (HMAC-SHA256 of
    the raw body with the app secret); Meta's GET handshake is answered with the verify
    token. Customers are known by their WhatsApp id (`wa_id`, which is also their phone
    number) and, since 2026, by a business-scoped user id that stays when the phone is
    hidden behind a username. Outbound: the Graph API `/<phone_number_id>/messages`
    endpoint; outside the 24-hour customer service window only the configured approved
    template may be sent. Media the customer sends is fetched later by `fetch_media`.
    """

    kind = "whatsapp"
    sends_surveys_in_parallel = True
    # The Cloud API's default throughput is 80 messages a second per business number.
    survey_sends_per_second = 70.0
    # Meta redelivers webhooks for days after an outage: the 24-hour window counts from
    # the message's `timestamp`, so a late webhook does not reopen a closed window.
    windows_from_platform_time = True
    public_config_keys = (
        "phone_number_id",
        "api_base_url",
        "fallback_template",
        "survey_template",
    )
    secret_config_keys = ("access_token", "app_secret", "verify_token")
    required_config_keys = ("phone_number_id", "access_token", "app_secret", "verify_token")

    @classmethod
    def check_config(cls, public: dict[str, Any]) -> dict[str, str]:
        return setup.config_errors(public)

    def parse(self, request: WebhookRequest) -> list[InboundEvent]:
        return inbound.events_from_webhook(
            request.body,
            phone_number_id=str(self.channel.config.get("phone_number_id") or ""),
            channel_id=self.channel.pk,
        )

    def send(self, outbound: OutboundMessage) -> DeliveryResult:
        return message_send(GraphApi(self.channel), outbound)

    def send_survey(self, survey: OutboundSurvey) -> DeliveryResult:
        """The question as an interactive list of the scale's values (a link button for
        NPS); outside the 24-hour window the channel's approved survey template, or the
        survey is skipped when there is none (see outbound.survey_send)."""
        return survey_send(GraphApi(self.channel), survey)

    def fetch_media(self, media_id: str) -> MediaContent:
        return media_fetch(GraphApi(self.channel), media_id)
