"""Names of senders whose platform gives none with their messages (Messenger, Instagram,
VK): asked of the platform's profile API by a task once a nameless customer's message is
stored, and done without when the platform refuses.

A customer is asked about at most once a day (a marker in the cache, set as the task is
queued); a failure the platform may get over (rate limits, VK's internal errors, the
network) is asked again by the task with a growing delay, a few times, and after the last
the customer's next message asks again an hour later, so that no name stays unknown for
good because of one bad moment.
"""

import logging

from django.core.cache import cache

from channels_app.contracts import FETCH_SENDER_NAME_TASK, DeliveryFailed, SenderProfile
from channels_app.models import Channel
from channels_app.registry import adapter_class, adapter_for
from customers.services import IdentityEvidence, customer_identify, identity_username_set
from inbox import services as inbox_services

logger = logging.getLogger(__name__)

# Names change seldom, and a refusal is not asked again every message.
ASK_AGAIN_AFTER_SECONDS = 24 * 60 * 60
# After the last retry failed: the platform had a bad hour, not a verdict on this person.
ASK_AGAIN_AFTER_FAILURES_SECONDS = 60 * 60
# Seconds before each try after the first; their count bounds the tries.
RETRY_DELAYS_SECONDS = (60, 5 * 60, 30 * 60)


def _asked_key(channel: Channel, address: str) -> str:
    return f"sender-name-asked:{channel.public_id}:{address}"


def sender_name_fetch_on_commit(*, channel: Channel, conversation) -> None:
    """A message from a sender we know no name of: ask for it once committed, unless it
    was asked lately."""
    if not adapter_class(channel.kind).fetches_sender_names or conversation.customer.name:
        return
    address = conversation.recipient_address
    try:
        is_due = cache.add(_asked_key(channel, address), True, ASK_AGAIN_AFTER_SECONDS)
    except Exception:
        logger.exception("channel %s: sender name not asked (cache unavailable)", channel.pk)
        return
    if is_due:
        inbox_services.task_send_on_commit(FETCH_SENDER_NAME_TASK, [channel.pk, address])


class SenderNameAskAgain(Exception):
    """The platform failed in a way it may get over: ask again after `delay` seconds."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"ask again in {delay} seconds")
        self.delay = delay


def sender_name_fetch(*, channel_id: int, address: str, attempt: int = 1) -> str:
    """Ask the platform for the sender's name (and handle) and give it to their customer
    profile where it has none; returns the name ("" when refused or not known). Raises
    SenderNameAskAgain while a failure the platform may get over has tries left."""
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        return ""
    key = f"sender-name:{channel.public_id}:{address}"
    cached = cache.get(key)
    if cached is not None:
        profile = SenderProfile(name=cached)
    else:
        try:
            profile = adapter_for(channel).fetch_sender_profile(address)
        except DeliveryFailed as failure:
            if failure.is_retryable and attempt <= len(RETRY_DELAYS_SECONDS):
                delay = max(RETRY_DELAYS_SECONDS[attempt - 1], failure.retry_after or 0)
                logger.info(
                    "no name yet for a %s sender, asking again in %ss: %s",
                    channel.kind,
                    delay,
                    failure.reason,
                )
                raise SenderNameAskAgain(delay) from failure
            # Meta refuses profiles for want of a permission, or of the person's consent:
            # the conversation goes on without a name.
            logger.info("no name for a %s sender: %s", channel.kind, failure.reason)
            if failure.is_retryable:
                _ask_again_after(channel, address, ASK_AGAIN_AFTER_FAILURES_SECONDS)
                return ""
            profile = SenderProfile()
        cache.set(key, profile.name, ASK_AGAIN_AFTER_SECONDS)
    _profile_keep(channel, address, profile)
    return profile.name


def _ask_again_after(channel: Channel, address: str, seconds: int) -> None:
    try:
        cache.set(_asked_key(channel, address), True, seconds)
    except Exception:
        logger.exception("channel %s: when to ask for a name again not kept", channel.pk)


def _profile_keep(channel: Channel, address: str, profile: SenderProfile) -> None:
    if profile.name:
        customer_identify(
            identities=[IdentityEvidence(kind=channel.kind, value=address)], name=profile.name
        )
    if profile.username:
        identity_username_set(kind=channel.kind, value=address, username=profile.username)
