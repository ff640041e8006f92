"""Admins' webhook subscriptions: the address checked against the outbound guard, the
events against the list the inbox emits, the secret stored encrypted and never shown."""

from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from channels_app.outbound_guard import outbound_url_refusal
from channels_app.secrets import encrypt_secrets
from inbox.outgoing_webhooks.emitting import EVENTS, events_subscribed_forget_cached
from inbox.outgoing_webhooks.models import WebhookSubscription

MIN_SECRET_LENGTH = 16
MAX_SECRET_LENGTH = 200


class SubscriptionInvalid(Exception):
    """A value an admin gave cannot be saved; `field` names it, the message says why (in
    the admin's language)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def webhook_url_check(url: str) -> str:
    if urlsplit(url).scheme not in ("http", "https"):
        raise SubscriptionInvalid("url", gettext("Enter an http or https address."))
    refusal = outbound_url_refusal(url)
    if refusal:
        raise SubscriptionInvalid(
            "url",
            gettext(
                "This address is not public, so webhooks cannot be sent to it "
                "(OUTBOUND_ALLOWED_NETWORKS can allow it)."
            ),
        )
    return url


def webhook_events_check(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENTS))
    if unknown:
        raise SubscriptionInvalid(
            "events",
            gettext("Unknown events: %(events)s. Known events: %(known)s.")
            % {"events": ", ".join(unknown), "known": ", ".join(EVENTS)},
        )
    if not events:
        raise SubscriptionInvalid("events", gettext("Choose at least one event."))
    return list(dict.fromkeys(events))


def webhook_secret_check(secret: str) -> str:
    if not MIN_SECRET_LENGTH <= len(secret) <= MAX_SECRET_LENGTH:
        raise SubscriptionInvalid(
            "secret",
            gettext("The secret must have from %(least)s to %(most)s characters.")
            % {"least": MIN_SECRET_LENGTH, "most": MAX_SECRET_LENGTH},
        )
    return secret


@transaction.atomic
def webhook_subscription_save(
    *, subscription: WebhookSubscription | None, values: dict[str, Any]
) -> WebhookSubscription:
    """Create (subscription None) or change a subscription from the values given; the
    ones left out keep theirs. Switching one on again starts its failure count afresh."""
    if subscription is None:
        if not values.get("secret"):
            raise SubscriptionInvalid("secret", gettext("A secret is required."))
        subscription = WebhookSubscription()
    if "url" in values:
        subscription.url = webhook_url_check(values["url"])
    if "events" in values:
        subscription.events = webhook_events_check(values["events"])
    if values.get("secret"):
        secret = webhook_secret_check(values["secret"])
        subscription.secret_encrypted = encrypt_secrets({"secret": secret})
    if "description" in values:
        subscription.description = values["description"]
    if "active" in values:
        if values["active"] and not subscription.is_active:
            subscription.failures_in_a_row = 0
            subscription.failing_since = None
            subscription.disabled_at = None
            subscription.disabled_reason = ""
        subscription.is_active = values["active"]
    subscription.updated_at = timezone.now()
    subscription.save()
    events_subscribed_forget_cached()
    return subscription


def webhook_subscription_delete(*, subscription: WebhookSubscription) -> None:
    subscription.delete()
    events_subscribed_forget_cached()
