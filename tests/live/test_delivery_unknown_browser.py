"""In a real browser: a reply whose send was cut off reads "may not have been delivered"
and the operator sends it again; the composer gives each reply its Idempotency-Key."""

import pytest
from playwright.sync_api import expect

from inbox.models import Message, MessageDirection, MessageStatus
from tests.factories import MessageFactory, UserFactory
from tests.live.test_inbox_browser import conversation_id_of, post_webhook, signed_in

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def test_an_unknown_reply_is_shown_with_a_warning_and_sent_again_on_request(
    live_server_url, celery_worker, open_pages, team, live_channel, callback_server
):
    anna = UserFactory(username="anna", first_name="Anna", teams=[team])
    conversation = conversation_id_of(
        post_webhook(live_server_url, live_channel, message_id="u-1", sender_id="c-1")
    )
    reply = MessageFactory(
        conversation_id=conversation,
        channel=live_channel,
        direction=MessageDirection.OUTBOUND,
        status=MessageStatus.UNKNOWN,
        external_id=None,
        body="Your refund is on its way.",
        author=anna,
    )
    page = signed_in(open_pages(), live_server_url, anna, f"/?conversation={conversation}")

    shown = page.locator(f"#message-{reply.pk}")
    expect(shown.locator(".message-error")).to_contain_text("May not have been delivered")
    expect(shown.locator(".delivery")).to_have_attribute("aria-label", "Delivery unknown")
    assert callback_server.requests == []  # nothing sent until the operator says so

    shown.get_by_role("button", name="Send this message again").click()

    # Sent, live: the warning goes away.
    expect(page.locator(f"#message-{reply.pk}[data-status='sent']")).to_be_visible()
    expect(page.locator(f"#message-{reply.pk} .message-error")).to_have_count(0)
    assert [request.json()["id"] for request in callback_server.requests] == [reply.pk]
    assert page.errors == []


def test_the_composer_sends_each_reply_with_its_own_idempotency_key(
    live_server_url, open_pages, team, live_channel
):
    anna = UserFactory(username="anna", first_name="Anna", teams=[team])
    conversation = conversation_id_of(
        post_webhook(live_server_url, live_channel, message_id="u-2", sender_id="c-2")
    )
    page = signed_in(open_pages(), live_server_url, anna, f"/?conversation={conversation}")
    keys = []
    page.on(
        "request",
        lambda request: (
            keys.append(request.headers.get("idempotency-key"))
            if request.method == "POST" and request.url.endswith("/messages/")
            else None
        ),
    )

    for text in ("First answer", "Second answer"):
        page.fill("#reply-body", text)
        page.click("#send-button")
        expect(page.locator(".message-out", has_text=text)).to_be_visible()

    assert len(keys) == 2 and all(keys) and keys[0] != keys[1]
    assert Message.objects.filter(conversation_id=conversation, direction="out").count() == 2
    assert page.errors == []
