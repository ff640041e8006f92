"""Raw webhook events that failed run through the inbox again, by beat or from the admin."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from channels_app.contracts import ENVELOPE_SENDER_HEADER, PayloadMalformed, WebhookRequest
from channels_app.models import WebhookEvent, WebhookEventStatus
from channels_app.registry import adapter_for
from channels_app.services.inbound import webhook_event_apply
from channels_app.services.media_fetch import message_media_fetch_on_commit
from inbox.services import ReceiveOutcome


def webhook_events_reprocess_failed(*, limit: int = 100, now: datetime | None = None) -> int:
    """Run failed raw events through the inbox again (after a fix or an outage), oldest
    first, each less often as its failures add up: due WEBHOOK_REPROCESS_SECONDS *
    (2^(attempts-1) - 1) after it arrived, so twelve runs stretch over about a week. One
    that still fails after WEBHOOK_REPROCESS_MAX_ATTEMPTS stays failed, with its last
    error, for an admin to look at (and process again from Django admin)."""
    now = now or timezone.now()
    candidates = (
        WebhookEvent.objects.filter(
            status=WebhookEventStatus.FAILED,
            attempts__lt=settings.WEBHOOK_REPROCESS_MAX_ATTEMPTS,
        )
        .order_by("id")
        .values_list("pk", "created_at", "attempts")[: limit * 10]
    )
    due = [
        pk
        for pk, created_at, attempts in candidates
        if created_at + _reprocess_delay(attempts) <= now
    ][:limit]
    return webhook_events_reprocess(
        events=WebhookEvent.objects.filter(pk__in=due).select_related("channel").order_by("id")
    )


def _reprocess_delay(attempts: int) -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_REPROCESS_SECONDS * (2 ** max(attempts - 1, 0) - 1))


def webhook_events_reprocess(*, events: Iterable[WebhookEvent]) -> int:
    """Run these raw events through the inbox again; returns how many now went through."""
    reprocessed = 0
    for event in events:
        headers = {"content-type": event.content_type}
        if event.envelope_sender:
            headers[ENVELOPE_SENDER_HEADER] = event.envelope_sender
        request = WebhookRequest(body=bytes(event.body), headers=headers)
        try:
            inbound_events = adapter_for(event.channel).parse(request)
            with transaction.atomic():
                for inbound in inbound_events:
                    outcome = webhook_event_apply(channel=event.channel, event=inbound)
                    if isinstance(outcome, ReceiveOutcome) and outcome.is_duplicate:
                        # Stored on an earlier try whose follow-up work may never have
                        # been queued: the files it still lacks are asked for again.
                        message_media_fetch_on_commit(outcome.message.attachments.all())
                event.status = WebhookEventStatus.PROCESSED
                event.processed_at = timezone.now()
                event.error = ""
                event.attempts += 1
                event.save(update_fields=["status", "processed_at", "error", "attempts"])
            reprocessed += 1
        except PayloadMalformed:
            WebhookEvent.objects.filter(pk=event.pk).update(status=WebhookEventStatus.IGNORED)
        except Exception as error:
            WebhookEvent.objects.filter(pk=event.pk).update(
                error=repr(error), attempts=event.attempts + 1
            )
    return reprocessed
