"""Over HTTP, a change of access counts from the very next request: nothing about who may
see what is kept from one request to the next."""

import pytest

from tests.conftest import client_for
from tests.factories import ConversationFactory, MessageFactory
from tests.helpers import inbox_page_data

pytestmark = pytest.mark.django_db


def what_anna_sees(api, browser, conversation) -> dict:
    return {
        "api list": [item["id"] for item in api.get("/api/v1/conversations/").json()["results"]],
        "api detail": api.get(f"/api/v1/conversations/{conversation.pk}/").status_code,
        "api messages": api.get(f"/api/v1/conversations/{conversation.pk}/messages/").status_code,
        "api customers": [item["id"] for item in api.get("/api/v1/customers/").json()["results"]],
        "page list": [item["id"] for item in inbox_page_data(browser.get("/").content)["items"]],
        "pane": browser.get(f"/inbox/conversations/{conversation.pk}/").status_code,
    }


@pytest.fixture
def conversation(channel):
    conversation = ConversationFactory(channel=channel)
    MessageFactory(conversation=conversation)
    return conversation


@pytest.fixture
def browser(client, operator):
    client.force_login(operator)
    return client


def expected(conversation, *, sees: bool) -> dict:
    ids = [conversation.pk] if sees else []
    return {
        "api list": ids,
        "api detail": 200 if sees else 404,
        "api messages": 200 if sees else 404,
        "api customers": [conversation.customer_id] if sees else [],
        "page list": ids,
        "pane": 200 if sees else 404,
    }


def test_a_channel_taken_from_the_team_is_hidden_at_once(
    operator, channel, team, conversation, browser
):
    api = client_for(operator)
    assert what_anna_sees(api, browser, conversation) == expected(conversation, sees=True)

    channel.teams.remove(team)

    assert what_anna_sees(api, browser, conversation) == expected(conversation, sees=False)

    channel.teams.add(team)

    assert what_anna_sees(api, browser, conversation) == expected(conversation, sees=True)


def test_leaving_the_team_hides_its_conversations_at_once(operator, team, conversation, browser):
    api = client_for(operator)
    assert what_anna_sees(api, browser, conversation) == expected(conversation, sees=True)

    operator.teams.remove(team)

    assert what_anna_sees(api, browser, conversation) == expected(conversation, sees=False)


def test_a_revoked_token_is_refused_at_once(operator, conversation):
    api = client_for(operator)
    assert api.get("/api/v1/conversations/").status_code == 200

    operator.auth_token.delete()

    assert api.get("/api/v1/conversations/").status_code == 401
