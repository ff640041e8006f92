"""Names of customers whose platform sends messages without one (VK): asked of the
platform by a task the adapter queues after the message is stored (FETCH_SENDER_NAME_TASK),
and given to a customer who has none."""

from channels_app.contracts import DeliveryFailed
from channels_app.models import Channel
from channels_app.registry import adapter_for
from customers.services import customer_name_fill


def sender_name_fetch(*, channel_id: int, address: str) -> int:
    """Ask the platform for the name of the customer at `address`; returns how many
    customers got it (0 when they had a name, or the platform gave none)."""
    channel = Channel.objects.filter(pk=channel_id, is_active=True).first()
    if channel is None:
        return 0
    try:
        name = adapter_for(channel).fetch_sender_name(address)
    except DeliveryFailed:
        return 0
    return customer_name_fill(kind=channel.kind, value=address, name=name)
