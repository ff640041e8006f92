"""The Telegram channel kind: a bot's Updates in, its replies and surveys out."""

from typing import Any
from urllib.parse import urlsplit

from channels_app.adapters.base import ChannelAdapter
from channels_app.adapters.telegram import inbound, media, setup
from channels_app.adapters.telegram.bot_api import KIND, BotApi
from channels_app.adapters.telegram.outbound import (
    callback_queries_answer,
    message_send,
    survey_send,
)
from channels_app.contracts import (
    DeliveryResult,
    InboundEvent,
    MediaContent,
    OutboundMessage,
    OutboundSurvey,
    WebhookRequest,
)


class TelegramAdapter(ChannelAdapter):
    """A Telegram bot (Bot API), private chats only.

    Inbound (see inbound): Updates POSTed by Telegram with `X-Telegram-Bot-Api-Secret-Token`
    equal to the channel's `webhook_secret`. Outbound (see outbound): sendMessage, or
    sendPhoto / sendDocument by URL with the text as caption; surveys as inline keyboards.
    """

    kind = KIND
    sends_surveys_in_parallel = True
    # Telegram allows a bot about 30 messages a second to different chats. Surveys keep
    # well below it: requests reach Telegram a little unevenly (a thread's first request,
    # a busy CPU), and operators' replies go out meanwhile.
    survey_sends_per_second = 20.0
    public_config_keys = ("api_base_url",)
    secret_config_keys = ("bot_token", "webhook_secret")
    required_config_keys = ("bot_token", "webhook_secret")

    @classmethod
    def extra_config_errors(cls, config: dict[str, Any]) -> dict[str, str]:
        return setup.secret_format_errors(config)

    @classmethod
    def check_config(cls, public: dict[str, Any]) -> dict[str, str]:
        url = public.get("api_base_url")
        if url is not None and (
            not isinstance(url, str)
            or urlsplit(url).scheme not in ("http", "https")
            or not urlsplit(url).netloc
        ):
            return {"api_base_url": "must be an http(s) URL"}
        return {}

    @property
    def _bot(self) -> BotApi:
        return BotApi(self.channel)

    def verify(self, request: WebhookRequest) -> None:
        inbound.secret_token_check(self.channel.secrets.get("webhook_secret"), request)

    def parse(self, request: WebhookRequest) -> list[InboundEvent]:
        return inbound.events_from_update(request.body)

    def on_events_stored(self, events: list[InboundEvent]) -> None:
        """Answer callback queries, which stops the spinner on the customer's button; a
        survey's keyboard is then replaced by the thanks."""
        callback_queries_answer(self._bot, events)

    def send(self, outbound: OutboundMessage) -> DeliveryResult:
        return message_send(self._bot, outbound)

    def send_survey(self, survey: OutboundSurvey) -> DeliveryResult:
        """The question with an inline keyboard of the five ratings; a press comes back as a
        callback_query carrying the rating's payload."""
        return survey_send(self._bot, survey)

    def fetch_media(self, media_id: str) -> MediaContent:
        return media.media_fetch(self._bot, media_id)

    def webhook_register(self, *, url: str, drop_pending_updates: bool = False) -> str:
        """Point the bot's webhook at `url` with the channel's secret; returns Telegram's
        description of what it did. Raises DeliveryFailed when Telegram refuses."""
        return setup.webhook_set(self._bot, url=url, drop_pending_updates=drop_pending_updates)
