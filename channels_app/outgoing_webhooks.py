"""The HTTP side of outgoing webhooks: each delivery POSTed, signed with its
subscription's secret as the API channel signs its callbacks, through the shared client
and its outbound guard; the outcome goes to the delivery log
(inbox.outgoing_webhooks.deliveries), which decides on retries."""

import logging
import time

import httpx
from django.utils import timezone

from channels_app.adapters.base import switchboard_signature
from channels_app.contracts import DeliveryFailed
from channels_app.http import http_client
from channels_app.secrets import ChannelSecretsUnreadable, decrypt_secrets
from inbox.delivery_failures import failure_in_english
from inbox.outgoing_webhooks.deliveries import (
    RESPONSE_BODY_KEPT_BYTES,
    webhook_attempt_record,
    webhook_delivery_claim,
)
from inbox.outgoing_webhooks.models import WebhookDelivery

logger = logging.getLogger(__name__)


def webhook_deliveries_send(*, delivery_ids: list[int]) -> None:
    """Make one attempt at each delivery that is still due (the others are done, or being
    sent by another worker)."""
    for delivery_id in delivery_ids:
        delivery = webhook_delivery_claim(delivery_id=delivery_id)
        if delivery is not None:
            _attempt(delivery)


def _attempt(delivery: WebhookDelivery) -> None:
    body = delivery.body.encode()
    attempted_at = timezone.now()
    started = time.monotonic()
    status: int | None = None
    answer = b""
    error = ""
    is_retryable = True
    try:
        secret = decrypt_secrets(delivery.subscription.secret_encrypted).get("secret", "")
        with http_client().stream(
            "POST",
            delivery.subscription.url,
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Switchboard-Signature": switchboard_signature(secret, body),
                "X-Switchboard-Event": delivery.event,
                "X-Switchboard-Delivery": str(delivery.delivery_id),
            },
        ) as response:
            status = response.status_code
            answer = _answer_start(response)
    except ChannelSecretsUnreadable as unreadable:
        error, is_retryable = unreadable.reason, False
    except DeliveryFailed as failed:  # the outbound guard refused the address
        error, is_retryable = failure_in_english(failed.failure), failed.is_retryable
    except httpx.HTTPError as transport_error:
        error = f"{type(transport_error).__name__}: {transport_error}"
    if error:
        logger.info("webhook delivery %s not delivered: %s", delivery.delivery_id, error)
    webhook_attempt_record(
        delivery=delivery,
        attempted_at=attempted_at,
        duration_ms=round((time.monotonic() - started) * 1000),
        response_status=status,
        response_body=answer,
        error=error,
        is_retryable=is_retryable,
    )


def _answer_start(response: httpx.Response) -> bytes:
    """The first bytes of the receiver's answer, the rest left unread."""
    kept = b""
    try:
        for chunk in response.iter_bytes():
            kept += chunk
            if len(kept) >= RESPONSE_BODY_KEPT_BYTES:
                break
    except httpx.HTTPError:
        pass  # the status is what counts; a body cut short is still shown as far as it came
    return kept[:RESPONSE_BODY_KEPT_BYTES]
