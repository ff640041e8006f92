"""The life of a webhook delivery: claimed for an attempt, its outcome logged, retried on
a schedule or given up, redelivered by hand; and the disabling of a subscription whose
receiver has failed for long.

Retries: a failed attempt is tried again after WEBHOOK_RETRY_DELAYS_SECONDS[n] for the
n-th failure (by default 10 s, 1 min, 5 min, 30 min, 1 h, 2 h, 4 h, 8 h and 12 h: the last
try comes about 27 hours after the first); then the delivery is failed, and an admin may
redeliver it. The due time lives in the database and beat's sweep sends what is due (a
Celery countdown that long could be delivered twice). An attempt claims its delivery by
moving the due time past the attempt's longest duration: two workers never send one
delivery at once, and a worker that died mid-attempt leaves it to the sweep.

Disabling: a subscription whose attempts have all failed for WEBHOOK_DISABLE_AFTER_HOURS
(72 by default) and at least WEBHOOK_DISABLE_AFTER_FAILURES times in a row (30) is
switched off, and every admin with an email address is told. Its deliveries stay in the
log, and those not given up yet resume when an admin switches it on again.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from inbox.models import Role, User
from inbox.outgoing_webhooks.emitting import (
    TEST_EVENT,
    events_subscribed_forget_cached,
    webhook_deliveries_record,
    webhook_deliveries_send_on_commit,
)
from inbox.outgoing_webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookSubscription,
)

logger = logging.getLogger(__name__)

# How much of a receiver's answer the log keeps.
RESPONSE_BODY_KEPT_BYTES = 1024
# Deliveries one sweep queues at most.
SWEEP_BATCH = 500


def webhook_delivery_claim(*, delivery_id: int) -> WebhookDelivery | None:
    """The delivery, held for one attempt; None when it is not due, done, or its
    subscription is switched off."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        status=WebhookDeliveryStatus.PENDING,
        next_attempt_at__lte=now,
        subscription__is_active=True,
    ).update(next_attempt_at=now + timedelta(seconds=_claim_seconds()))
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)


def _claim_seconds() -> float:
    return settings.DELIVERY_TIMEOUT_SECONDS * 4 + 30


def webhook_attempt_record(
    *,
    delivery: WebhookDelivery,
    attempted_at: datetime,
    duration_ms: int,
    response_status: int | None,
    response_body: bytes = b"",
    error: str = "",
    is_retryable: bool = True,
) -> WebhookAttempt:
    """Log one attempt and move the delivery on: delivered on a 2xx answer, else due
    again on the retry schedule, or failed when the schedule (or a final error) ends it."""
    is_success = response_status is not None and 200 <= response_status < 300
    with transaction.atomic():
        attempt = WebhookAttempt.objects.create(
            delivery=delivery,
            attempted_at=attempted_at,
            duration_ms=duration_ms,
            response_status=response_status,
            response_body=response_body[:RESPONSE_BODY_KEPT_BYTES].decode("utf-8", "replace"),
            error=error[:500],
            is_success=is_success,
        )
        now = timezone.now()
        delivery.refresh_from_db(fields=["status", "failed_tries"])
        if is_success:
            delivery.status = WebhookDeliveryStatus.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            WebhookSubscription.objects.filter(pk=delivery.subscription_id).update(
                failures_in_a_row=0, failing_since=None
            )
        else:
            delivery.failed_tries += 1
            delays = settings.WEBHOOK_RETRY_DELAYS_SECONDS
            if is_retryable and delivery.failed_tries <= len(delays):
                delay = delays[delivery.failed_tries - 1]
                delivery.next_attempt_at = now + timedelta(seconds=delay)
            else:
                delivery.status = WebhookDeliveryStatus.FAILED
                delivery.next_attempt_at = None
            _subscription_failure_count(delivery.subscription_id, failed_at=attempted_at)
        delivery.save(update_fields=["status", "failed_tries", "next_attempt_at", "delivered_at"])
    return attempt


def _subscription_failure_count(subscription_id: int, *, failed_at: datetime) -> None:
    WebhookSubscription.objects.filter(pk=subscription_id).update(
        failures_in_a_row=F("failures_in_a_row") + 1
    )
    WebhookSubscription.objects.filter(pk=subscription_id, failing_since__isnull=True).update(
        failing_since=failed_at
    )
    failing_too_long = WebhookSubscription.objects.filter(
        pk=subscription_id,
        is_active=True,
        failures_in_a_row__gte=settings.WEBHOOK_DISABLE_AFTER_FAILURES,
        failing_since__lte=timezone.now() - timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS),
    )
    subscription = failing_too_long.first()
    if subscription is not None:
        _subscription_disable_for_failures(subscription)


def _subscription_disable_for_failures(subscription: WebhookSubscription) -> None:
    # Stored in English (the log's language); each admin reads the email in theirs.
    subscription.is_active = False
    subscription.disabled_at = timezone.now()
    subscription.disabled_reason = (
        f"{subscription.failures_in_a_row} failed attempts in a row since "
        f"{subscription.failing_since:%Y-%m-%d %H:%M} UTC"
    )
    subscription.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
    events_subscribed_forget_cached()
    logger.warning(
        "webhook subscription %s switched off: %s", subscription.pk, subscription.disabled_reason
    )
    transaction.on_commit(lambda: _admins_tell_disabled(subscription), robust=True)


def _admins_tell_disabled(subscription: WebhookSubscription) -> None:
    admins = User.objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True), is_active=True)
    for admin in admins.exclude(email=""):
        with translation.override(admin.language or settings.LANGUAGE_CODE):
            subject = gettext("A webhook was switched off after failing for long")
            body = gettext(
                "The webhook to %(url)s failed %(count)s times in a row since %(since)s "
                "and has been switched off. Its deliveries are kept in its log. Check the "
                "receiver, then switch the webhook on again in the settings."
            ) % {
                "url": subscription.url,
                "count": subscription.failures_in_a_row,
                "since": f"{subscription.failing_since:%Y-%m-%d %H:%M} UTC",
            }
        send_mail(subject, body, None, [admin.email], fail_silently=True)


def webhook_deliveries_queue_due(*, limit: int = SWEEP_BATCH) -> int:
    """Queue the sending of every delivery due now (retries, and first tries the broker
    never took); returns how many."""
    due = list(
        WebhookDelivery.objects.filter(
            status=WebhookDeliveryStatus.PENDING,
            next_attempt_at__lte=timezone.now(),
            subscription__is_active=True,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    with transaction.atomic():
        webhook_deliveries_send_on_commit(due)
    return len(due)


@transaction.atomic
def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now, with its retry schedule from the start: the same body
    and delivery id (a receiver that has it already drops it)."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDeliveryStatus.PENDING, failed_tries=0, next_attempt_at=timezone.now()
    )
    webhook_deliveries_send_on_commit([delivery.pk])
    delivery.refresh_from_db()
    return delivery


@transaction.atomic
def webhook_test_event_send(*, subscription: WebhookSubscription) -> WebhookDelivery:
    """A `webhook.test` event for this subscription alone, sent like any other."""
    data: dict[str, Any] = {"subscription": subscription.pk, "url": subscription.url}
    [delivery] = webhook_deliveries_record(
        event=TEST_EVENT, data=data, subscriptions=[subscription]
    )
    return delivery
