"""Names (and Instagram usernames) of senders whose platform gives none with their
messages (Messenger, Instagram, VK):
asked of the platform's profile API by a task after the first message is stored, kept in
the cache, and done without when the platform refuses."""

import dataclasses
import logging

from django.core.cache import cache

from channels_app.contracts import FETCH_SENDER_NAME_TASK, DeliveryFailed, SenderProfile
from channels_app.models import Channel
from channels_app.registry import adapter_class, adapter_for
from customers.services import IdentityEvidence, customer_identify, identity_set_username
from inbox import services as inbox_services

logger = logging.getLogger(__name__)

# A day: names change seldom, and a refusal is not asked again every message.
NAME_CACHE_SECONDS = 24 * 60 * 60


def sender_name_fetch_on_commit(*, channel: Channel, conversation) -> None:
    """A new conversation with a sender we know no name of: ask for it once committed."""
    if not adapter_class(channel.kind).fetches_sender_names or conversation.customer.name:
        return
    inbox_services.task_send_on_commit(
        FETCH_SENDER_NAME_TASK, [channel.pk, conversation.recipient_address]
    )


def sender_name_fetch(*, channel_id: int, address: str) -> str:
    """Ask the platform for the sender's name and give it to their customer profile where
    it has none, and keep their username (Instagram's) on their identity; returns the
    name ("" when refused or not known)."""
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        return ""
    key = f"sender-profile:{channel.public_id}:{address}"
    cached = cache.get(key)
    if isinstance(cached, dict):
        profile = SenderProfile(**cached)
    else:
        try:
            profile = adapter_for(channel).fetch_sender_profile(address)
        except DeliveryFailed as failure:
            # Meta refuses profiles for want of a permission, or of the person's consent:
            # the conversation goes on without a name.
            logger.info("no name for a %s sender: %s", channel.kind, failure.reason)
            profile = SenderProfile()
        cache.set(key, dataclasses.asdict(profile), NAME_CACHE_SECONDS)
    if profile.name:
        customer_identify(
            identities=[IdentityEvidence(kind=channel.kind, value=address)], name=profile.name
        )
    if profile.username:
        identity_set_username(kind=channel.kind, value=address, username=profile.username)
    return profile.name
