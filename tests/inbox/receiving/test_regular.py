from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app.contracts import InboundIdentity, InboundMessage
from inbox.models import Conversation, ConversationStatus, CsatSurvey
from inbox.services import (
    ConversationActionInvalid,
    conversation_reopen,
    conversation_resolve,
    conversation_snooze,
    conversations_wake_snoozed,
    message_receive,
)
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db


def inbound(external_id: str, text: str = "hello") -> InboundMessage:
    return InboundMessage(
        external_id=external_id,
        recipient_address="u-1",
        identities=(InboundIdentity("api", "shop:u-1"),),
        sender_name="Maria",
        text=text,
    )


def test_a_message_on_a_recently_resolved_conversation_reopens_it(channel, operator):
    first = message_receive(channel=channel, inbound=inbound("m-1")).conversation
    conversation_resolve(conversation=first, resolved_by=operator)

    outcome = message_receive(channel=channel, inbound=inbound("m-2"))

    assert outcome.conversation.pk == first.pk
    assert not outcome.is_new_conversation
    first.refresh_from_db()
    assert first.status == ConversationStatus.OPEN
    assert first.resolved_at is None


def test_a_message_after_the_reopen_window_opens_a_new_conversation(channel, operator):
    channel.reopen_window_seconds = 3600
    channel.save()
    first = message_receive(channel=channel, inbound=inbound("m-1")).conversation
    conversation_resolve(conversation=first, resolved_by=operator)
    Conversation.objects.filter(pk=first.pk).update(resolved_at=timezone.now() - timedelta(hours=2))

    outcome = message_receive(channel=channel, inbound=inbound("m-2"))

    assert outcome.is_new_conversation
    assert outcome.conversation.pk != first.pk
    first.refresh_from_db()
    assert first.status == ConversationStatus.RESOLVED


def test_a_message_wakes_a_snoozed_conversation(channel):
    conversation = message_receive(channel=channel, inbound=inbound("m-1")).conversation
    conversation_snooze(conversation=conversation, until=timezone.now() + timedelta(days=1))

    message_receive(channel=channel, inbound=inbound("m-2"))

    conversation.refresh_from_db()
    assert (conversation.status, conversation.snoozed_until) == (ConversationStatus.OPEN, None)


def test_beat_wakes_snoozed_conversations_when_their_time_comes(channel):
    due = message_receive(channel=channel, inbound=inbound("m-1")).conversation
    conversation_snooze(conversation=due, until=timezone.now() + timedelta(minutes=5))
    Conversation.objects.filter(pk=due.pk).update(
        snoozed_until=timezone.now() - timedelta(seconds=1)
    )
    later = message_receive(
        channel=channel,
        inbound=InboundMessage(
            external_id="other",
            recipient_address="u-2",
            identities=(InboundIdentity("api", "shop:u-2"),),
            text="hi",
        ),
    ).conversation
    conversation_snooze(conversation=later, until=timezone.now() + timedelta(hours=1))

    assert conversations_wake_snoozed() == 1

    due.refresh_from_db()
    later.refresh_from_db()
    assert due.status == ConversationStatus.OPEN
    assert later.status == ConversationStatus.SNOOZED


def test_a_channel_served_by_one_team_files_new_conversations_under_it(channel, team):
    conversation = message_receive(channel=channel, inbound=inbound("m-1")).conversation

    assert conversation.team == team


def test_status_callbacks_and_edits_lock_only_the_message_row(channel, operator):
    """PostgreSQL refuses FOR UPDATE on the nullable side of an outer join (the author)."""
    from inbox.services import message_edit_inbound, message_reply, message_update_status

    conversation = message_receive(channel=channel, inbound=inbound("m-1", "helo")).conversation
    reply = message_reply(conversation=conversation, author=operator, body="hi")
    reply.external_id, reply.status = "platform-7", "sent"
    reply.save()

    delivered = message_update_status(channel=channel, external_id="platform-7", status="delivered")
    edited = message_edit_inbound(channel=channel, external_id="m-1", text="hello")

    assert delivered is not None and delivered.status == "delivered"
    assert edited is not None and edited.body == "hello" and edited.edited_at is not None


def test_an_action_on_a_stale_copy_sees_what_happened_meanwhile(operator, channel):
    conversation = ConversationFactory(channel=channel)
    first_tab = Conversation.objects.get(pk=conversation.pk)
    second_tab = Conversation.objects.get(pk=conversation.pk)
    conversation_resolve(conversation=first_tab, resolved_by=operator)

    # The second operator's page still shows it open: a clear refusal, one survey, no 500.
    with pytest.raises(ConversationActionInvalid, match="already resolved"):
        conversation_resolve(conversation=second_tab, resolved_by=operator)
    assert CsatSurvey.objects.filter(conversation=conversation).count() == 1

    conversation_reopen(conversation=second_tab, actor=operator)
    with pytest.raises(ConversationActionInvalid, match="already open"):
        conversation_reopen(conversation=first_tab, actor=operator)
    assert Conversation.objects.get(pk=conversation.pk).status == ConversationStatus.OPEN


def test_retries_back_off_exponentially_with_jitter_up_to_a_cap(settings):
    settings.DELIVERY_RETRY_BASE_SECONDS = 2.0
    # Deadlines far enough for the cap to show (the ceiling they set is tested apart).
    settings.DELIVERY_SENDING_DEADLINE_SECONDS = 1000
    from inbox.services import delivery_retry_delay

    for attempt, base in ((1, 2.0), (2, 4.0), (3, 8.0), (6, 64.0), (20, 600.0)):
        delays = [delivery_retry_delay(attempt=attempt) for _ in range(50)]
        assert all(0.8 * base <= delay <= 1.2 * base for delay in delays), (attempt, delays)
        assert len(set(delays)) > 1  # jittered, so retries of many messages spread out
    # A platform asking for longer is obeyed.
    assert delivery_retry_delay(attempt=1, retry_after=90) == 90
