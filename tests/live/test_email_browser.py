"""A hostile HTML email, received over the real email webhook, is shown inert: its text in
the thread, its original formatting only in a sandboxed frame that runs no script and
loads nothing from the sender's trackers."""

from pathlib import Path

import httpx
import pytest

from inbox.models import Message
from tests.factories import ChannelFactory
from tests.helpers import sign
from tests.live.test_inbox_browser import operator_with_password, signed_in

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

HOSTILE = (
    Path(__file__).resolve().parents[1]
    / "channels_app"
    / "fixtures"
    / "email"
    / "29_html_only_hostile.eml"
).read_bytes()


def test_a_hostile_html_email_runs_nothing_and_loads_nothing(live_server_url, open_pages, team):
    channel = ChannelFactory(kind="email", teams=[team], config={"address": "support@acme.example"})
    response = httpx.post(
        f"{live_server_url}/webhooks/email/{channel.public_id}/",
        content=HOSTILE,
        headers={"Content-Type": "message/rfc822", "X-Switchboard-Signature": sign(HOSTILE)},
    )
    assert response.status_code == 200, response.text
    message = Message.objects.get(channel=channel)
    anna = operator_with_password("anna", "Anna", team)
    page = open_pages()
    outside_requests: list[str] = []
    page.context.on(
        "request",
        lambda request: (
            outside_requests.append(request.url)
            if not request.url.startswith(live_server_url) and not request.url.startswith("data:")
            else None
        ),
    )
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    signed_in(page, live_server_url, anna, f"/?conversation={message.conversation_id}")
    bubble = page.locator(f"#message-{message.pk}")
    assert "My account was locked" in bubble.inner_text()

    bubble.locator("button[data-toggle-original]").click()
    frame_element = bubble.locator("iframe.message-original")
    frame_element.wait_for()
    assert frame_element.get_attribute("sandbox") == ""
    frame = frame_element.content_frame
    assert "please unlock it" in frame.locator("body").inner_text()
    page.wait_for_timeout(500)

    assert dialogs == []
    assert outside_requests == []
    assert page.errors == []
    assert frame.locator("script, iframe, object, form, [onclick], [onload]").count() == 0
    assert frame.locator("a[href^='javascript']").count() == 0
