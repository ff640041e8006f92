"""Labels on the inbox page: chips on list items and the header, the label filter."""

import pytest

from tests.factories import ConversationFactory, CustomerFactory, LabelFactory, MessageFactory
from tests.helpers import inbox_page_data

pytestmark = pytest.mark.django_db


def test_label_filter_shows_only_labelled_conversations_with_their_chips(client, operator, channel):
    refund = LabelFactory(name="Refund", color="#dc2626")
    LabelFactory(name="VIP")
    labelled = ConversationFactory(channel=channel, customer=CustomerFactory(name="Labelled Lee"))
    labelled.labels.add(refund)
    MessageFactory(conversation=labelled)
    other = ConversationFactory(channel=channel, customer=CustomerFactory(name="Plain Pat"))
    MessageFactory(conversation=other)
    client.force_login(operator)

    response = client.get(f"/?label={refund.pk}")

    # The list comes as data (chips are drawn by the page's script from `labels`).
    [item] = inbox_page_data(response.content)["items"]
    assert item["customer"]["name"] == "Labelled Lee"
    assert item["labels"] == [{"id": refund.pk, "name": "Refund", "color": "#dc2626"}]
    assert "Plain Pat" not in response.content.decode()
    assert f'<option value="{refund.pk}" selected>Refund</option>' in response.content.decode()


def test_header_menu_offers_every_label_with_the_conversations_checked(client, operator, channel):
    refund, vip = LabelFactory(name="Refund"), LabelFactory(name="VIP")
    conversation = ConversationFactory(channel=channel)
    conversation.labels.add(vip)
    client.force_login(operator)

    pane = client.get(f"/inbox/conversations/{conversation.pk}/").json()

    header = pane["header_html"]
    assert f'data-label-toggle value="{vip.pk}" checked' in header
    assert f'data-label-toggle value="{refund.pk}">' in header
    assert pane["conversation"]["labels"] == [{"id": vip.pk, "name": "VIP", "color": vip.color}]


def test_unknown_label_in_the_query_falls_back_to_every_conversation(client, operator, channel):
    MessageFactory(
        conversation=ConversationFactory(channel=channel, customer=CustomerFactory(name="Kim"))
    )
    client.force_login(operator)

    assert "Kim" in client.get("/?label=999").content.decode()
