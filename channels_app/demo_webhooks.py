"""The demo's outgoing webhook: every event, signed, to a stand-in of a company's system
on this site, so that the settings page shows a delivery log from the start."""

from django.conf import settings

from channels_app.webhook_subscriptions import SubscriptionInvalid, webhook_subscription_save
from inbox.outgoing_webhooks.emitting import EVENTS
from inbox.outgoing_webhooks.models import WebhookSubscription

DEMO_WEBHOOK_SECRET = "demo-webhook-secret-2026"
DEMO_WEBHOOK_PATH = "/demo/webhook-receiver/"


def seed_webhook() -> WebhookSubscription | None:
    """The subscription (once); None where this installation may not call itself
    (production refuses its own address unless OUTBOUND_ALLOWED_NETWORKS lists it)."""
    url = f"{settings.PUBLIC_BASE_URL}{DEMO_WEBHOOK_PATH}"
    existing = WebhookSubscription.objects.filter(url=url).first()
    if existing is not None:
        return existing
    try:
        return webhook_subscription_save(
            subscription=None,
            values={
                "url": url,
                "events": list(EVENTS),
                "secret": DEMO_WEBHOOK_SECRET,
                "description": "Demo CRM",
            },
        )
    except SubscriptionInvalid:
        return None
