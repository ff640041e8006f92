"""The regular receiving path: one inbound message, any kind, in one transaction.

`message_receive` resolves the customer (customers.services.customer_identify), finds or
opens the conversation, inserts the message idempotently on (channel, external_id),
moves the conversation, and after commit tells operators and queues auto-assignment.
The batched path (inbox.receiving.batched) stores the common cases the same way."""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from channels_app.contracts import InboundAttachment, InboundMessage
from customers import plain_sql
from customers.models import Customer
from customers.normalization import normalize_identity_value
from customers.services import IdentityEvidence, customer_identify
from customers.transactions import atomic_retrying_conflicts
from inbox import realtime, survey_answers
from inbox.events import conversation_event_record
from inbox.models import (
    Attachment,
    Conversation,
    ConversationEventKind,
    ConversationStatus,
    Message,
    MessageDirection,
)
from inbox.outgoing_webhooks.emitting import (
    CONVERSATION_CREATED,
    CONVERSATION_UPDATED,
    PendingEvent,
    conversation_event,
    message_event,
    webhook_events_emit,
)
from inbox.receiving.lookups import (
    conversations_named,
    inbound_message_id,
    inbound_message_id_of_sender,
)
from inbox.receiving.rows import row_insert
from inbox.receiving.stored import (
    channel_default_team,
    conversation_auto_assign_on_commit,
    inbound_message_values,
)
from inbox.rule_events import Trigger, rule_event_on_commit
from inbox.sla.clock import (
    sla_attach_on_open,
    sla_on_status_change,
    sla_wait_on_customer_message,
)
from inbox.sla.policies import policies_in_force


@dataclass(frozen=True)
class ReceiveOutcome:
    message: Message
    conversation: Conversation
    is_duplicate: bool = False
    is_new_conversation: bool = False
    # The sender's identities (kind, normalized value) known reachable as it was stored.
    reachable_identities: frozenset[tuple[str, str]] = frozenset()
    # The message's attachments as stored with it (none for a duplicate).
    attachments: tuple[Attachment, ...] = ()


def message_receive(*, channel, inbound: InboundMessage) -> ReceiveOutcome:
    """Store one inbound message: resolve the customer, find or open the conversation, insert.

    Idempotent on (channel, external_id): a duplicate delivery changes nothing. A message
    on a resolved conversation reopens it within the channel's reopen window, and opens a
    new conversation after it.
    """
    # A concurrent delivery of the same message or sender may win the race; the second
    # pass sees what it stored.
    return atomic_retrying_conflicts(lambda: _receive(channel, inbound))


def _receive(channel, inbound: InboundMessage) -> ReceiveOutcome:
    # Narrow queries on this path: compiling wide joined rows costs more than running them.
    if inbound.external_id_per_sender and inbound.identities:
        existing_id, inbound = _sender_message_id(channel, inbound)
    else:
        existing_id = inbound_message_id(channel_id=channel.pk, external_id=inbound.external_id)
    if existing_id is not None:
        existing = Message.objects.select_related("conversation").get(pk=existing_id)
        return ReceiveOutcome(
            message=existing, conversation=existing.conversation, is_duplicate=True
        )

    identified = customer_identify(
        identities=[
            IdentityEvidence(
                kind=item.kind,
                value=item.value,
                is_verified=item.is_verified,
                avatar_url=item.avatar_url,
                client_info=item.client_info,
            )
            for item in inbound.identities
        ],
        name=inbound.sender_name,
        language=inbound.sender_language,
    )
    customer, is_new_customer = identified.customer, identified.is_created
    now = timezone.now()
    if is_new_customer and not inbound.threads_by_reference:
        # Nobody else can see a customer this transaction created: no conversation to
        # join, and none a concurrent message could be opening.
        conversation, is_new, answers_survey = (
            _conversation_open(channel, customer, inbound, now),
            True,
            False,
        )
    else:
        conversation, is_new, answers_survey = _conversation_for_inbound(
            channel, customer, inbound, now
        )

    message = Message(
        conversation=conversation,
        channel=channel,
        created_at=now,
        updated_at=now,
        **inbound_message_values(inbound),
    )
    row_insert(message)
    attachments = [
        Attachment(
            message=message,
            file=_attachment_file(item),
            remote_url=item.url,
            media_id=item.media_id,
            content_id=item.content_id[:255],
            filename=item.filename[:255],
            content_type=item.content_type[:255],
            size=item.size or len(item.content),
        )
        for item in inbound.attachments
    ]
    if attachments:
        Attachment.objects.bulk_create(attachments)

    was_status = conversation.status
    conversation.last_message_at = now
    conversation.last_inbound_at = now
    update_fields = ["last_message_at", "last_inbound_at", "updated_at"]
    # A survey answer is kept in the thread but does not reopen the conversation.
    is_reopened = conversation.status != ConversationStatus.OPEN and not answers_survey
    if is_reopened:
        conversation.status = ConversationStatus.OPEN
        conversation.snoozed_until = None
        conversation.resolved_at = None
        conversation.resolved_by = None
        update_fields += ["status", "snoozed_until", "resolved_at", "resolved_by"]
        update_fields += sla_on_status_change(conversation, was=was_status, now=now)
    sla_changed = False
    if not is_new and not answers_survey:
        sla_fields = sla_wait_on_customer_message(conversation, now=now)
        sla_changed = bool(sla_fields)
        update_fields += sla_fields
    if not is_new:
        conversation.updated_at = now
        plain_sql.row_update(conversation, list(dict.fromkeys(update_fields)))
    if is_reopened and not is_new:
        conversation_event_record(
            conversation=conversation, kind=ConversationEventKind.REOPENED, reason="customer_wrote"
        )

    if conversation.customer_id == customer.pk:
        conversation.customer = customer
    conversation.channel = channel
    realtime.message_created(message, channel_id=channel.pk, attachments=attachments)
    labels = None
    if is_new or was_status != ConversationStatus.OPEN or sla_changed:
        # A conversation just opened has no labels yet; another's are read once, for the
        # live event and the webhook's.
        labels = [] if is_new else list(conversation.labels.all())
        realtime.conversation_changed(conversation, is_new=is_new, labels=labels)
    # The conversation first, so that a receiver knows it when the message arrives.
    webhook_events: list[PendingEvent] = []
    if is_new or was_status != ConversationStatus.OPEN:
        webhook_events.append(
            conversation_event(
                conversation,
                event=CONVERSATION_CREATED if is_new else CONVERSATION_UPDATED,
                labels=labels,
            )
        )
    webhook_events.append(message_event(message, attachments=attachments))
    webhook_events_emit(webhook_events)
    if is_new:
        conversation_auto_assign_on_commit(conversation)
    rule_event_on_commit(
        triggers=_rule_triggers(
            is_new=is_new, is_reopened=is_reopened, answers_survey=answers_survey
        ),
        key=f"message:{message.pk}",
        conversation_id=conversation.pk,
        message_id=message.pk,
    )
    return ReceiveOutcome(
        message=message,
        conversation=conversation,
        is_new_conversation=is_new,
        reachable_identities=identified.reachable_identities,
        attachments=tuple(attachments),
    )


def _attachment_file(item: InboundAttachment) -> ContentFile | str | None:
    """What a new attachment's file is: bytes saved to storage as the row is inserted, or a
    file already in storage, named."""
    if item.stored_name:
        return item.stored_name
    return ContentFile(item.content, name=item.filename) if item.content else None


def _rule_triggers(*, is_new: bool, is_reopened: bool, answers_survey: bool) -> list[str]:
    triggers: list[str] = [Trigger.CONVERSATION_CREATED] if is_new else []
    if not answers_survey:
        triggers.append(Trigger.MESSAGE_CREATED)
    if is_reopened and not is_new:
        triggers.append(Trigger.CONVERSATION_REOPENED)
    return triggers


def _latest_conversation(
    channel, customer: Customer, inbound: InboundMessage
) -> Conversation | None:
    # No related rows: the common case (a message joining an open conversation) needs
    # none; a status change loads the few its event shows.
    conversations = Conversation.objects.filter(customer=customer, channel=channel)
    if inbound.conversation_per_address:
        conversations = conversations.filter(recipient_address=inbound.recipient_address)
    return conversations.order_by("-id").first()


def _sender_message_id(channel, inbound: InboundMessage) -> tuple[int | None, InboundMessage]:
    """The stored message this one repeats, where its sender chose the external id (a
    Message-ID): only the same sender's message under that id. Another sender's message
    under the same id is kept, under the id and its own address (so that its redeliveries
    are duplicates of it)."""
    kind = inbound.identities[0].kind
    address = normalize_identity_value(kind, inbound.identities[0].value)
    found = inbound_message_id_of_sender(
        channel_id=channel.pk, external_id=inbound.external_id, kind=kind, value=address
    )
    if found is None:
        return None, inbound
    existing_id, is_same_sender = found
    if is_same_sender:
        return existing_id, inbound
    own = replace(inbound, external_id=f"{inbound.external_id} {address}"[:255])
    return inbound_message_id(channel_id=channel.pk, external_id=own.external_id), own


def _conversation_for_inbound(
    channel, customer: Customer, inbound: InboundMessage, now: datetime
) -> tuple[Conversation, bool, bool]:
    """The conversation a new message belongs to: (conversation, is new, answers its survey)."""
    if inbound.threads_by_reference:
        return _conversation_for_threaded_inbound(channel, customer, inbound, now)
    latest = _latest_conversation(channel, customer, inbound)
    if latest is not None and latest.status != ConversationStatus.RESOLVED:
        return latest, False, False
    # Off the common path: serialize on the customer so that two first messages arriving
    # together do not each open a conversation, then look again.
    list(Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk"))
    latest = _latest_conversation(channel, customer, inbound)
    if latest is not None and latest.status != ConversationStatus.RESOLVED:
        return latest, False, False
    if latest is not None and survey_answers.csat_answer_from_message(
        conversation=latest, text=inbound.text, button_payload=inbound.button_payload
    ):
        return latest, False, True
    if latest is not None and _is_within_reopen_window(channel, latest, now):
        return latest, False, False
    return _conversation_open(channel, customer, inbound, now), True, False


def _is_within_reopen_window(channel, conversation: Conversation, now: datetime) -> bool:
    window = channel.reopen_window_seconds
    if window is None:
        window = settings.CONVERSATION_REOPEN_WINDOW_SECONDS
    return (
        conversation.resolved_at is not None
        and conversation.resolved_at + timedelta(seconds=window) > now
    )


def _conversation_open(
    channel, customer: Customer, inbound: InboundMessage, now: datetime
) -> Conversation:
    conversation = Conversation(
        customer=customer,
        channel=channel,
        recipient_address=inbound.recipient_address,
        subject=inbound.subject[:255],
        team=channel_default_team(channel),
        last_message_at=now,
        last_inbound_at=now,
        created_at=now,
        updated_at=now,
    )
    sla_attach_on_open(conversation, now=now, policies=policies_in_force())
    row_insert(conversation)
    return conversation


def _conversation_for_threaded_inbound(
    channel, customer: Customer, inbound: InboundMessage, now: datetime
) -> tuple[Conversation, bool, bool]:
    """Email: the conversation whose messages this one names (or whose reply address it
    was sent to); a message that names none starts a conversation of its own.

    Our own Message-IDs and reply addresses reach only the people we wrote to; a
    customer's Message-ID may have been seen by anyone, so it joins only that customer's
    own mail to their conversation.
    """
    named, addressed = conversations_named(
        channel_id=channel.pk,
        references=inbound.thread_references,
        conversation_id=inbound.reply_conversation_id,
    )
    known = {
        external_id: conversation
        for external_id, direction, conversation in named
        if direction == MessageDirection.OUTBOUND or conversation.customer_id == customer.pk
    }
    conversation = next(
        (known[reference] for reference in inbound.thread_references if reference in known), None
    )
    if conversation is not None and conversation.channel_id != channel.pk:
        conversation = None
    elif conversation is None:
        conversation = addressed
    if conversation is None:
        return _conversation_open(channel, customer, inbound, now), True, False
    if conversation.status != ConversationStatus.RESOLVED:
        return conversation, False, False
    if survey_answers.csat_answer_from_message(
        conversation=conversation, text=inbound.text, button_payload=inbound.button_payload
    ):
        return conversation, False, True
    if _is_within_reopen_window(channel, conversation, now):
        return conversation, False, False
    return _conversation_open(channel, customer, inbound, now), True, False
