"""Erasing personal data, with the raw webhook events that carry it: a customer's on an
admin's request, and everything older than RETENTION_DAYS by beat. The inbox erases the
profiles and conversations (inbox.personal_data.erasure); the raw events are ours."""

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from channels_app.models import WebhookEvent
from customers.models import Customer
from inbox.audit.models import AuditAction
from inbox.audit.records import SYSTEM, AuditActor, audit_record
from inbox.personal_data import erasure

# Shorter values (a Telegram id of a few digits) would match unrelated events by chance.
SHORTEST_SEARCHED_VALUE = 5
RETENTION_BATCH_SIZE = 500


@transaction.atomic
def customer_erase(*, customer: Customer, actor: AuditActor) -> erasure.ErasedCustomer:
    """Remove the customer's personal data for good, keeping anonymous counts and ratings;
    on the audit log with counts only."""
    erased = erasure.customer_personal_data_erase(customer=customer)
    events = webhook_events_naming_erase(
        channel_ids=erased.channel_ids, values=erased.identity_values
    )
    audit_record(
        action=AuditAction.CUSTOMER_ERASED,
        actor=actor,
        target_type="customer",
        target_id=customer.pk,
        details={
            "profiles": erased.profile_ids,
            "conversations": len(erased.conversation_ids),
            "raw_events": events,
        },
    )
    return erased


def webhook_events_naming_erase(*, channel_ids: Iterable[int], values: Iterable[str]) -> int:
    """Delete the channels' raw events whose body holds one of `values` (an address, a
    platform's user id), or whose envelope names it."""
    spellings = set()
    for value in values:
        # A phone is written without "+" by some platforms; an id scoped to its channel
        # ("<channel>:<id>") is the platform's id alone in what the platform sent.
        spellings.update({value, value.lstrip("+"), value.rsplit(":", 1)[-1]})
    spellings = {value for value in spellings if len(value) >= SHORTEST_SEARCHED_VALUE}
    channel_ids = list(channel_ids)
    if not channel_ids or not spellings:
        return 0
    body_holds = (
        "position(%s in body) > 0" if connection.vendor == "postgresql" else "instr(body, %s) > 0"
    )
    deleted = 0
    for value in sorted(spellings):
        events = WebhookEvent.objects.filter(channel_id__in=channel_ids)
        deleted += events.filter(envelope_sender__iexact=value).delete()[0]
        deleted += events.extra(where=[body_holds], params=[value.encode()]).delete()[0]
    return deleted


def retention_erase_expired() -> dict[str, int]:
    """Erase what is older than RETENTION_DAYS (nothing when it is 0): resolved
    conversations' content, attachments and raw events, a batch at a time."""
    days = settings.RETENTION_DAYS
    if days <= 0:
        return {}
    older_than = timezone.now() - timedelta(days=days)
    totals = {"conversations": 0, "attachments": 0, "raw_events": 0}
    while True:
        with transaction.atomic():
            conversation_ids = erasure.conversations_expired(
                older_than=older_than, limit=RETENTION_BATCH_SIZE
            )
            conversations = erasure.conversations_content_erase(conversation_ids=conversation_ids)
            attachments = erasure.attachments_expired_erase(
                older_than=older_than, limit=RETENTION_BATCH_SIZE
            )
            event_ids = list(
                WebhookEvent.objects.filter(created_at__lt=older_than)
                .order_by("id")
                .values_list("pk", flat=True)[:RETENTION_BATCH_SIZE]
            )
            events = WebhookEvent.objects.filter(pk__in=event_ids).delete()[0]
        totals["conversations"] += conversations
        totals["attachments"] += attachments
        totals["raw_events"] += events
        if not (conversations or attachments or events):
            break
    if any(totals.values()):
        with transaction.atomic():
            audit_record(
                action=AuditAction.RETENTION_ERASED,
                actor=SYSTEM,
                details={"retention_days": days, **totals},
            )
    return totals
