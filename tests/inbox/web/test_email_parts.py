"""An email's quoted text and original formatting: offered behind toggles, never inlined."""

import pytest

from tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def pane(client, operator, conversation) -> str:
    client.force_login(operator)
    return client.get(f"/inbox/conversations/{conversation.pk}/").json()["thread_html"]


def test_quoted_text_is_offered_when_the_full_text_says_more(client, operator, channel):
    conversation = ConversationFactory(channel=channel)
    MessageFactory(
        conversation=conversation,
        body="Thanks!",
        body_full="Thanks!\n\nOn Monday Anna wrote:\n> Your parcel left",
    )

    thread = pane(client, operator, conversation)

    assert "data-toggle-quoted" in thread
    assert '<div class="message-body message-body-full" hidden>Thanks!' in thread
    assert "&gt; Your parcel left" in thread


def test_no_quoted_toggle_when_the_full_text_is_the_body(client, operator, channel):
    conversation = ConversationFactory(channel=channel)
    MessageFactory(conversation=conversation, body="Thanks!", body_full="Thanks!\n")

    assert "data-toggle-quoted" not in pane(client, operator, conversation)


def test_original_html_is_only_an_escaped_attribute_for_a_sandboxed_frame(
    client, operator, channel
):
    conversation = ConversationFactory(channel=channel)
    MessageFactory(
        conversation=conversation, body="Hi", body_html='<p style="color:red">Hi <b>there</b></p>'
    )

    thread = pane(client, operator, conversation)

    assert "data-toggle-original" in thread
    assert 'data-original-html="&lt;p style=&quot;color:red&quot;&gt;Hi &lt;b&gt;' in thread
    assert "<b>there</b>" not in thread
    assert "<iframe" not in thread
