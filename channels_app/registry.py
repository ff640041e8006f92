"""Which adapter serves which channel kind."""

from channels_app.adapters.api import ApiAdapter
from channels_app.adapters.base import ChannelAdapter
from channels_app.adapters.email import EmailAdapter
from channels_app.adapters.instagram import InstagramAdapter
from channels_app.adapters.messenger import MessengerAdapter
from channels_app.adapters.telegram import TelegramAdapter
from channels_app.adapters.viber import ViberAdapter
from channels_app.adapters.vk import VkAdapter
from channels_app.adapters.webchat import WebchatAdapter
from channels_app.adapters.whatsapp import WhatsAppAdapter
from channels_app.models import Channel

ADAPTERS: dict[str, type[ChannelAdapter]] = {
    ApiAdapter.kind: ApiAdapter,
    EmailAdapter.kind: EmailAdapter,
    InstagramAdapter.kind: InstagramAdapter,
    MessengerAdapter.kind: MessengerAdapter,
    TelegramAdapter.kind: TelegramAdapter,
    VkAdapter.kind: VkAdapter,
    ViberAdapter.kind: ViberAdapter,
    WhatsAppAdapter.kind: WhatsAppAdapter,
    WebchatAdapter.kind: WebchatAdapter,
}


class UnknownChannelKind(LookupError):
    pass


def adapter_class(kind: str) -> type[ChannelAdapter]:
    try:
        return ADAPTERS[kind]
    except KeyError:
        raise UnknownChannelKind(kind) from None


def adapter_for(channel: Channel) -> ChannelAdapter:
    return adapter_class(channel.kind)(channel)


def supported_kinds() -> list[str]:
    return sorted(ADAPTERS)
