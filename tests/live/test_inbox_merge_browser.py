"""Merging two customers from the inbox's profile pane, in a real browser against the live
server (fixtures and helpers shared with test_inbox_browser)."""

import pytest

from tests.live.test_inbox_browser import (
    conversation_id_of,
    operator_with_password,
    post_webhook,
    signed_in,
)

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def test_an_operator_merges_a_duplicate_customer_and_undoes_it(
    live_server_url, open_pages, team, live_channel
):
    anna = operator_with_password("anna", "Anna", team)
    by_email = conversation_id_of(
        post_webhook(
            live_server_url,
            live_channel,
            message_id="m-1",
            sender_id="u-1",
            name="Maria Garcia",
            text="My order is late",
        )
    )
    by_chat = conversation_id_of(
        post_webhook(
            live_server_url,
            live_channel,
            message_id="m-2",
            sender_id="u-2",
            name="<i>Maria</i> from chat",
            text="Any news on my order?",
        )
    )
    page = signed_in(open_pages(), live_server_url, anna, f"/?conversation={by_email}")
    timeline = page.locator("#customer-profile .timeline-item")
    assert timeline.count() == 1

    page.click("#merge-open")
    page.fill("#merge-search", "from chat")
    pick = page.locator("#merge-results button", has_text="<i>Maria</i> from chat")
    pick.click()
    assert page.locator("#merge-summary").inner_text() == (
        "<i>Maria</i> from chat will be merged into Maria Garcia; this can be undone."
    )
    page.click("#merge-submit")

    page.wait_for_selector("#customer-profile [data-merge-undo]")
    assert page.locator("#merge-dialog").is_hidden()
    assert timeline.count() == 2
    assert page.locator(f"#customer-profile [data-open-conversation='{by_chat}']").count() == 1
    assert "<i>Maria</i> from chat" in page.locator(".profile-merge").inner_text()
    assert page.locator("#customer-profile i").count() == 0  # text, never markup

    page.click("#customer-profile [data-merge-undo]")
    page.wait_for_selector("#customer-profile [data-merge-undo]", state="detached")
    assert timeline.count() == 1
    assert page.errors == []
