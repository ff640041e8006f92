"""The operator inbox in a real browser (Debian's Chromium driven by Playwright) against
the live ASGI server, channels-redis and a Celery worker: signing in, replying, seeing
colleagues' replies and typing, and webhooks arriving without a reload."""

import json
import re
import time

import httpx
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client

from tests.factories import UserFactory
from tests.helpers import api_payload, sign

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


def operator_with_password(username: str, first_name: str, team):
    user = UserFactory(username=username, first_name=first_name, teams=[team])
    # The server checks passwords with its own (production) hashers, not the tests' MD5.
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt(), iterations=1000)
    user.save(update_fields=["password"])
    return user


def signed_in(page, live_server_url: str, user, path: str = "/"):
    """Open the inbox with a session made here, as a login would make it."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server_url}]
    )
    page.goto(live_server_url + path)
    wait_live(page)
    # The conversation the page opens (the chosen one, else the first) has arrived.
    page.wait_for_selector("#thread:not([aria-busy='true'])", state="attached")
    return page


def wait_live(page) -> None:
    page.wait_for_selector("#live-status[data-state='live']")


def post_webhook(live_server_url: str, channel, **payload) -> dict:
    body = api_payload(**payload)
    response = httpx.post(
        f"{live_server_url}/webhooks/api/{channel.public_id}/",
        content=body,
        headers={"Content-Type": "application/json", "X-Switchboard-Signature": sign(body)},
    )
    assert response.status_code == 200, response.text
    return response.json()


def conversation_id_of(answer: dict) -> int:
    return answer["messages"][0]["conversation_id"]


def item(page, conversation_id: int):
    return page.locator(f".conversation-item[data-conversation-id='{conversation_id}']")


def test_an_operator_signs_in_opens_a_conversation_and_sends_a_reply(
    live_server_url, celery_worker, open_pages, team, live_channel, callback_server
):
    operator_with_password("anna", "Anna", team)
    first = conversation_id_of(
        post_webhook(
            live_server_url,
            live_channel,
            message_id="b-1",
            sender_id="u-1",
            name="Maria Garcia",
            text="My order is late",
        )
    )
    second = conversation_id_of(
        post_webhook(
            live_server_url,
            live_channel,
            message_id="b-2",
            sender_id="u-2",
            name="Jonas Weber",
            text="Can I change my address?",
        )
    )
    page = open_pages()

    page.goto(live_server_url + "/")
    assert "/login/" in page.url
    page.fill("#id_username", "anna")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#conversation-list")
    wait_live(page)
    assert page.locator(".conversation-item").count() == 2

    item(page, first).locator("a").click()
    page.wait_for_selector(f"#thread-header[data-conversation-id='{first}']")
    assert f"conversation={first}" in page.url
    assert page.locator("#thread-title").inner_text() == "Maria Garcia"
    assert "My order is late" in page.locator("#thread-messages").inner_text()

    page.keyboard.press("r")
    page.keyboard.type("It ships today, sorry for the wait!")
    page.keyboard.press("Control+Enter")

    reply = page.locator(".message-out", has_text="It ships today")
    reply.wait_for()
    # Queued at first, then sent once the worker has delivered it to the callback URL.
    page.wait_for_selector(".message-out[data-status='sent'] .delivery[aria-label='Sent']")
    assert page.locator("#reply-body").input_value() == ""
    assert callback_server.received.wait(5)
    assert callback_server.requests[-1].json()["text"] == "It ships today, sorry for the wait!"
    expect_preview = item(page, first).locator(".conversation-preview")
    assert "It ships today" in expect_preview.inner_text()

    # A private note stays inside the team, styled apart; nothing more is delivered.
    page.check("#private-note", force=True)
    page.fill("#reply-body", "Customer asked twice already")
    page.click("#send-button")
    page.wait_for_selector(".message-note .message-body:has-text('Customer asked twice')")
    assert len(callback_server.requests) == 1

    # Keyboard: j moves to the next conversation, e resolves it.
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.wait_for_selector(f"#thread-header[data-conversation-id='{second}']")
    page.keyboard.press("e")
    page.wait_for_selector(
        f"#thread-header[data-conversation-id='{second}'][data-status='resolved']"
    )
    item(page, second).wait_for(state="detached")
    assert page.errors == []


def test_a_second_operator_sees_the_reply_live_and_who_is_typing(
    live_server_url, open_pages, team, live_channel
):
    anna = operator_with_password("anna", "Anna", team)
    ben = operator_with_password("ben", "Ben", team)
    conversation = conversation_id_of(
        post_webhook(live_server_url, live_channel, text="Hello, anyone there?")
    )
    path = f"/?conversation={conversation}"
    first = signed_in(open_pages(), live_server_url, anna, path)
    second = signed_in(open_pages(), live_server_url, ben, path)

    first.click("#reply-body")
    first.keyboard.type("Hi! Let me check")
    second.wait_for_selector("#typing-indicator:has-text('Anna is typing…')")
    assert first.locator("#typing-indicator").inner_text() == ""

    first.keyboard.press("Control+Enter")
    second.wait_for_selector(".message-out .message-body:has-text('Hi! Let me check')")
    assert "Anna" in second.locator(".message-out .message-author").inner_text()
    second.wait_for_selector("#typing-indicator:empty")
    assert second.locator(".message-out").count() == 1

    # An action by one operator shows at once for the other.
    first.click("[data-action='assign-me']")
    second.wait_for_selector("#thread-header[data-assigned='other']")
    assert "Anna" in item(second, conversation).locator(".assignee").inner_text()
    assert first.errors == [] and second.errors == []


def test_an_inbound_webhook_appears_in_an_open_inbox_without_a_reload(
    live_server_url, open_pages, team, live_channel
):
    anna = operator_with_password("anna", "Anna", team)
    open_one = conversation_id_of(
        post_webhook(
            live_server_url,
            live_channel,
            message_id="w-1",
            sender_id="u-1",
            name="Maria Garcia",
            text="First question",
        )
    )
    page = signed_in(open_pages(), live_server_url, anna, f"/?conversation={open_one}")
    page.evaluate("window.__sameDocument = true")
    assert page.locator("[data-count-status='open']").inner_text() == "1"

    answer = post_webhook(
        live_server_url,
        live_channel,
        message_id="w-2",
        sender_id="u-9",
        name="Aiko Tanaka",
        text="The app <b>crashes</b> on start",
    )
    new_one = conversation_id_of(answer)
    new_item = item(page, new_one)
    new_item.wait_for()
    assert new_item.locator(".customer-name").inner_text() == "Aiko Tanaka"
    assert (
        new_item.locator(".conversation-preview").inner_text() == "The app <b>crashes</b> on start"
    )
    assert new_item.locator(".unread-badge").inner_text() == "1"
    assert page.locator(".conversation-item").first.get_attribute("data-conversation-id") == str(
        new_one
    )
    page.wait_for_selector("[data-count-status='open']:text-is('2')")

    post_webhook(
        live_server_url,
        live_channel,
        message_id="w-3",
        sender_id="u-1",
        name="Maria Garcia",
        text="And a second one",
    )
    page.wait_for_selector("#thread-messages .message-in:has-text('And a second one')")
    assert item(page, open_one).locator(".unread-badge").is_hidden()
    assert page.evaluate("window.__sameDocument") is True
    assert page.errors == []


def test_after_a_dropped_connection_the_inbox_reconnects_and_catches_up(
    live_server_url, open_pages, team, live_channel
):
    anna = operator_with_password("anna", "Anna", team)
    conversation = conversation_id_of(
        post_webhook(live_server_url, live_channel, message_id="r-1", text="Before the drop")
    )
    page = open_pages()
    state = {"is_blocked": False, "routes": []}

    def route(websocket):
        if state["is_blocked"]:
            websocket.close()
            return
        state["routes"].append(websocket)
        websocket.connect_to_server()

    page.route_web_socket(re.compile(r".*/ws/inbox/$"), route)
    signed_in(page, live_server_url, anna, f"/?conversation={conversation}")

    state["is_blocked"] = True
    state["routes"][-1].close()
    page.wait_for_selector("#live-status[data-state='reconnecting']")
    post_webhook(live_server_url, live_channel, message_id="r-2", text="During the drop")
    post_webhook(
        live_server_url,
        live_channel,
        message_id="r-3",
        sender_id="u-7",
        name="Lena Fischer",
        text="New while offline",
    )
    time.sleep(0.5)
    assert page.locator(".message-in:has-text('During the drop')").count() == 0

    state["is_blocked"] = False
    wait_live(page)
    page.wait_for_selector(".message-in:has-text('During the drop')")
    page.wait_for_selector(".conversation-item .customer-name:text-is('Lena Fischer')")
    assert page.errors == []


def test_the_first_screen_draws_the_list_and_opens_the_newest_conversation(
    live_server_url, open_pages, team, live_channel
):
    anna = operator_with_password("anna", "Anna", team)
    older = conversation_id_of(
        post_webhook(live_server_url, live_channel, message_id="f-1", sender_id="u-1")
    )
    newest = conversation_id_of(
        post_webhook(
            live_server_url,
            live_channel,
            message_id="f-2",
            sender_id="u-2",
            name="Jonas Weber",
            text="Can I change my address?",
        )
    )

    page = signed_in(open_pages(), live_server_url, anna)

    ids = page.locator(".conversation-item").evaluate_all(
        "(items) => items.map((node) => Number(node.dataset.conversationId))"
    )
    assert ids == [newest, older]
    assert "Can I change my address?" in item(page, newest).inner_text()
    assert item(page, newest).get_attribute("class").split() == [
        "conversation-item",
        "is-selected",
    ]
    assert page.locator("#thread-title").inner_text() == "Jonas Weber"
    assert "Can I change my address?" in page.locator("#thread-messages").inner_text()
    assert page.locator("#customer-profile .profile-name").inner_text() == "Jonas Weber"
    assert "conversation=" not in page.url
    # The counts of the views and tabs arrive after the list.
    page.wait_for_selector("[data-count-status='open']:text-is('2')")
    page.wait_for_selector("[data-count-view='unassigned']:text-is('2')")
    assert page.errors == []


def test_the_inbox_is_usable_at_phone_width(live_server_url, open_pages, team, live_channel):
    anna = operator_with_password("anna", "Anna", team)
    conversation = conversation_id_of(post_webhook(live_server_url, live_channel))
    page = signed_in(open_pages(width=390, height=844), live_server_url, anna)

    assert page.locator("#conversation-list").is_visible()
    assert page.locator("#thread").is_hidden()
    item(page, conversation).locator("a").click()
    page.wait_for_selector("#reply-body", state="visible")
    assert page.locator("#conversation-list").is_hidden()
    page.click("#back-button")
    page.wait_for_selector("#conversation-list", state="visible")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"


def test_landmarks_and_icon_buttons_are_labelled(live_server_url, open_pages, team, live_channel):
    anna = operator_with_password("anna", "Anna", team)
    post_webhook(live_server_url, live_channel)
    page = signed_in(open_pages(), live_server_url, anna)

    for selector in [
        "main#thread",
        "aside#customer-profile",
        "nav[aria-label='Inbox views']",
        "nav[aria-label='Status']",
        "section[aria-labelledby='list-title']",
    ]:
        assert page.locator(selector).count() == 1, selector
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll(
                'button, select, textarea, input:not([type=hidden])')]
            .filter((node) => node.offsetParent !== null || node.type === 'radio')
            .filter((node) => !(node.getAttribute('aria-label') || node.labels?.length
                                || node.textContent.trim()))
            .map((node) => node.outerHTML.slice(0, 80))"""
    )
    assert unlabelled == []
    data = json.loads(page.locator("#inbox-data").text_content())
    assert data["user"]["username"] == "anna"
