"""The VK channel kind: a community's Callback API events in, messages.send out."""

from typing import Any, ClassVar

from channels_app.adapters.base import ChannelAdapter
from channels_app.adapters.vk import inbound, profiles, setup, survey
from channels_app.adapters.vk.outbound import message_send
from channels_app.adapters.vk.vk_api import KIND, VkApi
from channels_app.contracts import (
    DeliveryResult,
    InboundEvent,
    OutboundMessage,
    OutboundSurvey,
    SenderProfile,
    VerificationAnswer,
    WebhookRequest,
)


class VkAdapter(ChannelAdapter):
    """A VK community's messages (Callback API).

    Inbound (see inbound): events POSTed by VK with the channel's `secret_key` in the body,
    answered `ok` as text, duplicates too, since VK sends anything else again; VK's
    `confirmation` is answered with the channel's `confirmation_code`. Outbound (see
    outbound): messages.send with a random_id stable across retries, files uploaded first.
    """

    kind = KIND
    # VK refuses a second messages.send with the same random_id (stable across tries).
    deduplicates_resends = True
    accepted_answer: ClassVar[VerificationAnswer | None] = VerificationAnswer(
        status_code=200, body="ok"
    )
    # The batched fast path answers in JSON; VK must get its plain `ok`.
    takes_batched_path = False
    # A message names its sender by id only (profiles.sender_profile asks users.get).
    fetches_sender_names = True
    sends_surveys_in_parallel = True
    # A survey's random_id is the same on every try: VK sends it once.
    survey_resends_are_deduplicated = True
    # VK allows a community 20 API calls a second.
    survey_sends_per_second = 15.0
    public_config_keys = ("group_id", "api_base_url")
    secret_config_keys = ("access_token", "secret_key", "confirmation_code", "random_id_key")
    required_config_keys = ("group_id", "access_token", "secret_key")

    @classmethod
    def split_config(
        cls, config: dict[str, Any], *, existing_secrets: dict[str, str] | None = None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        public, secrets = super().split_config(config, existing_secrets=existing_secrets)
        if "group_id" in public:
            public["group_id"] = str(public["group_id"]).strip()
        # Each channel's own key for random_id, made once: see outbound.
        secrets.setdefault("random_id_key", setup.new_random_id_key())
        return public, secrets

    @classmethod
    def extra_config_errors(cls, config: dict[str, Any]) -> dict[str, str]:
        return setup.secret_errors(config)

    @classmethod
    def check_config(cls, public: dict[str, Any]) -> dict[str, str]:
        return setup.config_errors(public)

    def answer_posted_handshake(self, request: WebhookRequest) -> VerificationAnswer | None:
        return inbound.confirmation_answer(self.channel, request)

    def verify(self, request: WebhookRequest) -> None:
        inbound.secret_check(self.channel, request)

    def parse(self, request: WebhookRequest) -> list[InboundEvent]:
        return inbound.events_from_callback(request.body)

    def on_events_stored(self, events: list[InboundEvent]) -> None:
        """Answer callback button presses, which shows the customer the thanks."""
        survey.button_presses_answer(VkApi(self.channel), events)

    def send(self, outbound: OutboundMessage) -> DeliveryResult:
        return message_send(VkApi(self.channel), outbound)

    def fetch_sender_profile(self, address: str) -> SenderProfile:
        return profiles.sender_profile(VkApi(self.channel), address)

    def send_survey(self, outbound_survey: OutboundSurvey) -> DeliveryResult:
        """The question with the best keyboard of the five ratings the customer's app shows."""
        return survey.survey_send(VkApi(self.channel), outbound_survey)
