"""The inbox's search box and the JSON fragment its script fetches."""

import pytest

from tests.factories import (
    ChannelFactory,
    ConversationFactory,
    CustomerFactory,
    MessageFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db


def test_search_requires_login(client):
    response = client.get("/inbox/search/", {"q": "parcel"})

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_the_list_pane_has_a_search_box_focused_by_slash(client, operator):
    client.force_login(operator)

    content = client.get("/").content.decode()

    assert 'role="search"' in content
    assert 'id="search-input"' in content and 'aria-keyshortcuts="/"' in content


def test_search_answers_visible_matches_with_snippets(client, operator, channel):
    client.force_login(operator)
    by_text = ConversationFactory(channel=channel, customer=CustomerFactory(name="Maria Garcia"))
    MessageFactory(conversation=by_text, body="Where is my <b>parcel</b>?")
    by_name = ConversationFactory(channel=channel, customer=CustomerFactory(name="Parcel Hub GmbH"))
    hidden = ConversationFactory(channel=ChannelFactory(teams=[TeamFactory(name="Billing")]))
    MessageFactory(conversation=hidden, body="parcel lost")

    response = client.get("/inbox/search/", {"q": "  parcel "})

    assert response.status_code == 200
    data = response.json()
    assert data["query"] == "parcel"
    found = {item["id"]: item for item in data["items"]}
    assert set(found) == {by_text.pk, by_name.pk}
    # Raw text: the page's script escapes it when it renders.
    assert found[by_text.pk]["snippet"] == "Where is my <b>parcel</b>?"
    assert found[by_name.pk]["snippet"] is None
    assert found[by_text.pk]["customer"] == {"id": by_text.customer_id, "name": "Maria Garcia"}


def test_an_empty_search_answers_no_items(client, operator, channel):
    client.force_login(operator)
    ConversationFactory(channel=channel)

    assert client.get("/inbox/search/", {"q": ""}).json()["items"] == []
