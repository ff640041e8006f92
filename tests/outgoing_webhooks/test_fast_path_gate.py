"""The webhook fast path stores no event an outgoing webhook wants: it leaves such
messages to the regular path, which emits them, and decides without a query."""

import pytest

from inbox.outgoing_webhooks.emitting import (
    CONVERSATION_RESOLVED,
    MESSAGE_CREATED,
    events_subscribed,
    events_subscribed_forget_cached,
)
from inbox.receiving.batched import events_subscribed_by_webhooks
from tests.outgoing_webhooks.conftest import subscribe

pytestmark = pytest.mark.django_db


def test_without_subscriptions_the_fast_path_keeps_its_messages(django_assert_num_queries):
    events_subscribed()

    with django_assert_num_queries(0):
        assert events_subscribed_by_webhooks() is False


def test_a_subscription_to_messages_sends_them_to_the_regular_path(receiver):
    subscribe(receiver.url, [MESSAGE_CREATED])
    events_subscribed()

    assert events_subscribed_by_webhooks() is True


def test_a_subscription_to_other_events_leaves_the_fast_path_alone(receiver):
    subscribe(receiver.url, [CONVERSATION_RESOLVED])
    events_subscribed()

    assert events_subscribed_by_webhooks() is False


def test_without_a_fresh_copy_the_regular_path_takes_the_message(django_assert_num_queries):
    events_subscribed_forget_cached()

    with django_assert_num_queries(0):
        assert events_subscribed_by_webhooks() is True
