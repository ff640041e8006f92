"""The website chat widget in a real browser: a page on another origin embeds it with one
script tag; a visitor writes, an operator answers in the inbox, the visitor sees the answer
live and again after a reload. Live uvicorn, channels-redis and a Celery worker."""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from inbox.models import Attachment, Conversation, Message
from tests.factories import WebchatChannelFactory
from tests.live.conftest import free_port
from tests.live.test_inbox_browser import operator_with_password, signed_in

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

SITE_PORT = free_port()
SITE_ORIGIN = f"http://127.0.0.1:{SITE_PORT}"


@pytest.fixture
def site(live_server_url):
    """A shop's page on its own origin, embedding the widget of `site.channel`."""
    state: dict[str, str] = {}

    class ShopPage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = (
                "<!doctype html><html><head><title>Shop</title>"
                "<style>button, div { color: red !important; font-size: 40px; }</style>"
                "</head><body><h1>Shop</h1>"
                f'<script src="{live_server_url}/widget.js" '
                f'data-channel="{state["public_id"]}" {state.get("attributes", "")} async>'
                "</script>"
                "</body></html>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", SITE_PORT), ShopPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def webchat(team, site):
    channel = WebchatChannelFactory(
        teams=[team],
        config={
            "allowed_origins": [SITE_ORIGIN],
            "company_name": "Shop",
            "greeting": "Hi! Ask us anything.",
            "offline_message": "We answer within a day.",
            "color": "#0f766e",
        },
    )
    site["public_id"] = str(channel.public_id)
    return channel


def visitor_page(open_pages, *, locale: str = "en-US"):
    page = open_pages(width=1000, height=800, locale=locale)
    page.goto(SITE_ORIGIN + "/")
    page.locator(".launcher").click()
    page.wait_for_selector(".panel .status:not(:empty):not(:has-text('…'))")
    return page


def test_a_visitor_and_an_operator_chat_through_the_widget(
    live_server_url, celery_worker, open_pages, team, webchat
):
    anna = operator_with_password("anna", "Anna", team)
    visitor = visitor_page(open_pages)
    assert visitor.locator(".panel .title").inner_text() == "Shop"
    # The host page's styles do not reach into the widget.
    assert visitor.locator(".launcher").evaluate("node => getComputedStyle(node).color") == (
        "rgb(255, 255, 255)"
    )

    visitor.fill("textarea", "Hello <b>there</b>, where is my parcel?")
    visitor.keyboard.press("Enter")
    visitor.wait_for_selector(".message.in:not(.pending) .tick")
    assert visitor.locator(".message.in .body").inner_text() == (
        "Hello <b>there</b>, where is my parcel?"
    )
    conversation = Conversation.objects.get(channel=webchat)

    inbox = signed_in(open_pages(), live_server_url, anna, f"/?conversation={conversation.pk}")
    inbox.wait_for_selector("#thread-messages :text('where is my parcel?')")

    # The visitor types: the operator sees it.
    visitor.locator("textarea").press_sequentially("one more thing", delay=20)
    inbox.wait_for_selector("#typing-indicator:has-text('is typing')")

    inbox.fill("#reply-body", "It ships today!")
    inbox.click("#send-button")
    visitor.wait_for_selector(".message.out .body:has-text('It ships today!')")
    assert visitor.locator(".message.out .author").inner_text() == "Anna"

    # After a reload, the same visitor (token kept in localStorage) sees the whole thread.
    visitor.reload()
    visitor.locator(".launcher").click()
    visitor.wait_for_selector(".message.out .body:has-text('It ships today!')")
    assert visitor.locator(".message.in .body").first.inner_text().startswith("Hello <b>there</b>")
    assert Message.objects.filter(conversation=conversation).count() == 2
    assert visitor.errors == [] and inbox.errors == []


def test_operator_typing_shows_in_the_widget(
    live_server_url, celery_worker, open_pages, team, webchat
):
    anna = operator_with_password("anna", "Anna", team)
    visitor = visitor_page(open_pages)
    visitor.fill("textarea", "Hi")
    visitor.keyboard.press("Enter")
    visitor.wait_for_selector(".message.in:not(.pending)")
    conversation = Conversation.objects.get(channel=webchat)
    inbox = signed_in(open_pages(), live_server_url, anna, f"/?conversation={conversation.pk}")
    inbox.wait_for_selector("#thread-messages :text('Hi')")

    inbox.locator("#reply-body").press_sequentially("Let me check", delay=30)

    visitor.wait_for_selector(".typing:has-text('Anna is typing')")


def test_a_page_on_another_origin_gets_no_chat(live_server_url, open_pages, team, webchat):
    webchat.config = {**webchat.config, "allowed_origins": ["https://elsewhere.example"]}
    webchat.save()
    visitor = open_pages()
    visitor.goto(SITE_ORIGIN + "/")
    visitor.locator(".launcher").click()
    visitor.wait_for_selector(".panel .status:has-text('Reconnecting')")
    assert visitor.locator(".message").count() == 0


def test_the_prechat_form_and_an_attachment(live_server_url, open_pages, team, webchat):
    webchat.config = {**webchat.config, "prechat_form": True}
    webchat.save()
    visitor = visitor_page(open_pages)

    visitor.wait_for_selector(".prechat:not([hidden])")
    assert visitor.locator(".composer").is_hidden()
    visitor.fill(".prechat input[name=name]", "Jane")
    visitor.fill(".prechat input[name=email]", "jane@example.com")
    visitor.click(".prechat button")
    visitor.wait_for_selector(".composer:not([hidden])")

    visitor.fill("textarea", "Here is the receipt")
    visitor.keyboard.press("Enter")
    visitor.wait_for_selector(".message.in:not(.pending)")
    visitor.locator("input[type=file]").set_input_files(
        {"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 test"}
    )
    visitor.wait_for_selector(".message.in .attachment:has-text('receipt.pdf')")

    conversation = Conversation.objects.select_related("customer").get(channel=webchat)
    assert conversation.customer.name == "Jane"
    assert conversation.customer.claims.filter(value="jane@example.com").exists()
    assert visitor.errors == []


def test_a_rating_card_shows_once_and_stays_below_the_thread_after_a_reconnect(
    live_server_url, open_pages, webchat
):
    visitor = open_pages(width=1000, height=800)
    sockets = []

    def through_to_the_server(socket) -> None:
        socket.connect_to_server()
        sockets.append(socket)

    visitor.route_web_socket(re.compile(r".*/ws/widget/.*"), through_to_the_server)
    visitor.goto(SITE_ORIGIN + "/")
    visitor.locator(".launcher").click()
    visitor.wait_for_selector(".panel .status:has-text('We are')")
    visitor.fill("textarea", "Thanks for the help")
    visitor.keyboard.press("Enter")
    visitor.wait_for_selector(".message.in:not(.pending)")

    rating_request = json.dumps(
        {
            "type": "rating_request",
            "survey": 4242,
            "question": "How did we do?",
            "ratings": [{"value": v, "label": str(v), "payload": f"p{v}"} for v in range(1, 6)],
        }
    )
    # The same request twice (a retried send, a second tab's echo): one card.
    sockets[-1].send(rating_request)
    sockets[-1].send(rating_request)
    visitor.wait_for_selector(".rating .question:has-text('How did we do?')")
    assert visitor.locator(".rating").count() == 1

    # The connection drops; the widget reconnects and draws the thread again.
    sockets[-1].close()
    deadline = time.monotonic() + 15
    while len(sockets) < 2 and time.monotonic() < deadline:
        visitor.wait_for_timeout(200)
    assert len(sockets) == 2, "the widget did not reconnect"
    visitor.wait_for_selector(".panel .status:has-text('We are')")
    visitor.wait_for_timeout(500)

    assert visitor.locator(".rating").count() == 1
    assert visitor.locator(".message.in .body").inner_text() == "Thanks for the help"
    assert visitor.locator(".rating").evaluate(
        "card => card.parentElement.lastElementChild === card"
    )


def test_the_widget_speaks_the_visitors_browser_language_and_the_customer_keeps_it(
    live_server_url, open_pages, team, webchat
):
    visitor = visitor_page(open_pages, locale="pl-PL")

    assert visitor.locator(".panel .status").inner_text() == "Jesteśmy teraz niedostępni"
    assert visitor.locator(".composer .send").inner_text() == "Wyślij"
    assert visitor.locator("textarea").get_attribute("placeholder") == "Napisz wiadomość…"
    assert visitor.locator(".panel").get_attribute("lang") == "pl"

    visitor.fill("textarea", "Dzień dobry, gdzie jest moja paczka?")
    visitor.keyboard.press("Enter")
    visitor.wait_for_selector(".message.in:not(.pending) .tick")
    conversation = Conversation.objects.get(channel=webchat)
    assert conversation.customer.language == "pl"
    assert visitor.errors == []


def test_the_site_can_fix_the_widgets_language(live_server_url, open_pages, team, webchat, site):
    site["attributes"] = 'data-language="en"'

    visitor = visitor_page(open_pages, locale="pl-PL")

    assert visitor.locator(".composer .send").inner_text() == "Send"
    assert visitor.locator(".panel .status").inner_text() == "We are away"


def test_a_refused_file_is_explained_in_the_visitors_language(
    live_server_url, open_pages, team, webchat
):
    visitor = visitor_page(open_pages, locale="pl-PL")
    visitor.fill("textarea", "Dzień dobry")
    visitor.keyboard.press("Enter")
    visitor.wait_for_selector(".message.in:not(.pending)")

    visitor.locator("input[type=file]").set_input_files(
        {"name": "setup.exe", "mimeType": "application/x-msdownload", "buffer": b"MZ"}
    )

    error = visitor.wait_for_selector(".error:not([hidden])")
    assert error.inner_text() == (
        "Można wysyłać tylko obrazy, pliki PDF, pliki tekstowe i dokumenty biurowe."
    )
    assert not Attachment.objects.exists()
