"""The Viber channel kind: a bot's signed callbacks in, /pa/send_message out."""

from typing import Any

from channels_app.adapters.base import ChannelAdapter
from channels_app.adapters.viber import inbound, setup
from channels_app.adapters.viber.outbound import message_send, survey_send
from channels_app.adapters.viber.viber_api import KIND, ViberApi
from channels_app.contracts import (
    DeliveryResult,
    InboundEvent,
    OutboundMessage,
    OutboundSurvey,
    VerificationAnswer,
    WebhookRequest,
)


class ViberAdapter(ChannelAdapter):
    """A Viber bot (REST bot API).

    Inbound (see inbound): callbacks signed with `X-Viber-Content-Signature`, the hex
    HMAC-SHA256 of the body with the bot's auth token. Outbound (see outbound):
    /pa/send_message with the channel's sender name, files by signed links to our copies;
    surveys as a keyboard of the five ratings.
    """

    kind = KIND
    sends_surveys_in_parallel = True
    # Viber does not publish a per-bot cap; keep surveys at a pace it has not refused.
    survey_sends_per_second = 20.0
    public_config_keys = ("sender_name", "sender_avatar", "api_base_url", "welcome_message")
    secret_config_keys = ("auth_token",)
    required_config_keys = ("auth_token", "sender_name")

    @classmethod
    def check_config(cls, public: dict[str, Any]) -> dict[str, str]:
        return setup.config_errors(public)

    def answer_posted_handshake(self, request: WebhookRequest) -> VerificationAnswer | None:
        """Greet a customer who opened the chat with the channel's welcome message."""
        return inbound.welcome_answer(self.channel, request)

    def verify(self, request: WebhookRequest) -> None:
        inbound.signature_check(self.channel.secrets.get("auth_token"), request)

    def parse(self, request: WebhookRequest) -> list[InboundEvent]:
        return inbound.events_from_callback(request.body)

    def send(self, outbound: OutboundMessage) -> DeliveryResult:
        return message_send(ViberApi(self.channel), outbound)

    def send_survey(self, survey: OutboundSurvey) -> DeliveryResult:
        """The question with a keyboard of the five ratings (ActionType reply)."""
        return survey_send(ViberApi(self.channel), survey)
