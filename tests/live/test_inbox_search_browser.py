"""Searching from the inbox's list pane, in a real browser against the live server."""

import pytest

from tests.live.test_inbox_browser import (
    conversation_id_of,
    item,
    operator_with_password,
    post_webhook,
    signed_in,
)

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def test_slash_focuses_search_and_results_show_the_matching_snippet(
    live_server_url, open_pages, team, live_channel
):
    anna = operator_with_password("anna", "Anna", team)
    kettle = conversation_id_of(
        post_webhook(
            live_server_url,
            live_channel,
            message_id="s-1",
            sender_id="u-1",
            name="Maria Garcia",
            text="The <b>kettle</b> I bought leaks",
        )
    )
    other = conversation_id_of(
        post_webhook(
            live_server_url,
            live_channel,
            message_id="s-2",
            sender_id="u-2",
            name="Jonas Weber",
            text="Can I change my address?",
        )
    )
    page = signed_in(open_pages(), live_server_url, anna)
    assert page.locator(".conversation-item").count() == 2

    page.keyboard.press("/")
    page.keyboard.type("kettle")
    item(page, other).wait_for(state="detached")
    snippet = item(page, kettle).locator(".conversation-snippet")
    assert snippet.inner_text() == "The <b>kettle</b> I bought leaks"
    assert snippet.locator("mark").inner_text() == "kettle"
    assert "1 conversation matching" in page.locator("#search-status").inner_text()

    # By customer too; Escape goes back to the view.
    page.fill("#search-input", "Jonas")
    item(page, kettle).wait_for(state="detached")
    item(page, other).wait_for()
    page.keyboard.press("Escape")
    item(page, kettle).wait_for()
    assert page.locator(".conversation-item").count() == 2
    assert page.errors == []
