"""An Instagram conversation open in a real browser while the customer reacts to our reply,
takes the reaction back and deletes a message of theirs: each shows on its message at once,
without a reload."""

import json

import httpx
import pytest

from inbox.models import Conversation, Message
from tests.channels_app.meta_messaging import INSTAGRAM, first_item, meta_config
from tests.factories import MessageFactory
from tests.fakes.meta_messaging import FakeSendApi
from tests.helpers import channel_serving, sign
from tests.live.test_inbox_browser import operator_with_password, signed_in

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def instagram_account(team):
    with FakeSendApi() as send_api:
        yield channel_serving(
            team, kind="instagram", name="@lumen.home", config=meta_config(INSTAGRAM, send_api)
        )


def post_instagram(live_server_url: str, channel, payload: dict) -> None:
    body = json.dumps(payload).encode()
    response = httpx.post(
        f"{live_server_url}/webhooks/instagram/{channel.public_id}/",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(body, INSTAGRAM.app_secret),
        },
    )
    assert response.status_code == 200, response.text


def test_a_reaction_and_a_deletion_show_on_their_messages_live(
    live_server_url, open_pages, team, instagram_account
):
    operator = operator_with_password("anna", "Anna", team)
    post_instagram(live_server_url, instagram_account, INSTAGRAM.fixture_json("text"))
    theirs = Message.objects.get()
    ours = MessageFactory(
        conversation=Conversation.objects.get(),
        direction="out",
        status="sent",
        body="We do!",
        external_id="aWdfours1",
    )
    page = signed_in(open_pages(), live_server_url, operator)
    page.wait_for_selector(f"#message-{ours.pk}")

    post_instagram(live_server_url, instagram_account, INSTAGRAM.fixture_json("reaction"))

    reaction = page.locator(f"#message-{ours.pk} .message-reaction")
    reaction.wait_for()
    assert reaction.inner_text() == "❤️"
    assert reaction.get_attribute("aria-label") == "The customer reacted ❤️"

    taken_back = INSTAGRAM.fixture_json("reaction")
    first_item(taken_back)["reaction"] = {"mid": "aWdfours1", "action": "unreact"}
    post_instagram(live_server_url, instagram_account, taken_back)

    reaction.wait_for(state="detached")

    post_instagram(live_server_url, instagram_account, INSTAGRAM.fixture_json("deleted"))

    deleted = page.locator(f"#message-{theirs.pk} .message-deleted")
    deleted.wait_for()
    assert deleted.inner_text() == "The customer deleted this message"
    assert "Do you ship to Gdańsk?" not in page.locator("#thread").inner_text()
