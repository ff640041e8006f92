"""Reads of outgoing webhooks for the admins' settings page."""

from django.db.models import F, OuterRef, Subquery, Window
from django.db.models.functions import RowNumber

from inbox.outgoing_webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription


def webhook_subscriptions_with_recent_deliveries(
    *, deliveries_each: int = 5
) -> list[WebhookSubscription]:
    """Every subscription, each with `recent_deliveries` (its latest few, each annotated
    with its last attempt's `last_status` and `last_error`): two queries in all."""
    subscriptions = list(WebhookSubscription.objects.order_by("id"))
    last_attempt = WebhookAttempt.objects.filter(delivery=OuterRef("pk")).order_by("-id")
    recent = (
        WebhookDelivery.objects.filter(subscription__in=subscriptions)
        .annotate(
            rank=Window(RowNumber(), partition_by=F("subscription_id"), order_by=F("id").desc()),
            last_status=Subquery(last_attempt.values("response_status")[:1]),
            last_error=Subquery(last_attempt.values("error")[:1]),
        )
        .filter(rank__lte=deliveries_each)
        .defer("body")
        .order_by("-id")
    )
    by_subscription: dict[int, list[WebhookDelivery]] = {}
    for delivery in recent:
        by_subscription.setdefault(delivery.subscription_id, []).append(delivery)
    for subscription in subscriptions:
        subscription.recent_deliveries = by_subscription.get(subscription.pk, [])  # type: ignore[attr-defined]
    return subscriptions
