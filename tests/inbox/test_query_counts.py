"""List endpoints cost the same number of queries whatever the page holds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import IdentityClaim
from inbox.events import conversation_event_record
from inbox.models import ConversationEventKind
from tests.factories import (
    CannedResponseFactory,
    ChannelFactory,
    ConversationFactory,
    IdentityFactory,
    LabelFactory,
    MessageFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def query_count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


def fill(channel, operator, count: int) -> None:
    """Conversations with every relation a list shows set, several rows of each."""
    team = channel.teams.first()
    for index in range(count):
        conversation = ConversationFactory(
            channel=channel,
            assignee=operator,
            team=team,
            resolved_by=UserFactory(teams=[team]),
            subject=f"Order {index}",
        )
        conversation.labels.add(LabelFactory(), LabelFactory())
        MessageFactory(conversation=conversation, body=f"About order {index}")
        IdentityFactory(customer=conversation.customer)
        IdentityFactory(customer=conversation.customer, kind="telegram")
        IdentityClaim.objects.create(
            customer=conversation.customer, kind="email", value="x@example.com"
        )


def conversation_queries() -> int:
    # On PostgreSQL the page is written as JSON with what it refers to (a conversation's
    # operators and labels, a customer's identities and claims) and the operator's
    # channels read in one statement (inbox.json_rows); elsewhere they take three more.
    return 2 if connection.vendor == "postgresql" else 5


# The token, the operator's channels, the page, then what the page refers to.
@pytest.mark.parametrize(
    ("url", "queries"),
    [
        # + its operators and labels
        ("/api/v1/conversations/?page_size=100", conversation_queries),
        ("/api/v1/conversations/?page_size=100&status=open&assignee=me", conversation_queries),
        ("/api/v1/conversations/?page_size=100&q=order", conversation_queries),
        # + their identities and claims
        ("/api/v1/customers/?page_size=100", conversation_queries),
        ("/api/v1/customers/?page_size=100&q=example", conversation_queries),
        ("/api/v1/operators/", 3),
        ("/api/v1/teams/", 3),
    ],
)
def test_list_query_count_is_flat(operator_client, operator, channel, team, url, queries):
    fill(channel, operator, 2)
    UserFactory(teams=[team])
    small = query_count(operator_client, url)

    fill(channel, operator, 30)
    for _ in range(10):
        UserFactory(teams=[team])
    large = query_count(operator_client, url)

    assert large == small == (queries() if callable(queries) else queries)


@pytest.mark.real_services
def test_a_search_by_another_form_of_a_word_costs_the_same_queries(
    operator_client, operator, channel
):
    url = "/api/v1/conversations/?page_size=100&q=orders"  # the messages say "order"
    fill(channel, operator, 2)
    small = query_count(operator_client, url)

    fill(channel, operator, 30)
    large = query_count(operator_client, url)

    assert large == small == conversation_queries()
    assert len(operator_client.get(url).json()["results"]) == 32


def test_conversation_detail_query_count(operator_client, operator, channel):
    fill(channel, operator, 1)
    conversation = channel.conversations.get()

    # The token, the operator's channels, the conversation (and its operators and labels).
    url = f"/api/v1/conversations/{conversation.pk}/"
    assert query_count(operator_client, url) == conversation_queries()


def test_message_list_query_count_is_flat(operator_client, operator, channel):
    conversation = ConversationFactory(channel=channel)
    MessageFactory(conversation=conversation)
    url = f"/api/v1/conversations/{conversation.pk}/messages/?page_size=100"
    small = query_count(operator_client, url)

    for index in range(40):
        MessageFactory(conversation=conversation, direction="out", author=operator, status="sent")
        if index % 5 == 0:
            MessageFactory(conversation=conversation).attachments.create(
                filename="a.png",
                content_type="image/png",
                remote_url="https://cdn.example.com/a.png",
            )
    large = query_count(operator_client, url)

    # The token, the operator's channels, the conversation's visibility, the page and its
    # attachments; on PostgreSQL the token, the conversation's visibility in the operator's
    # channels, and the page with its attachments.
    assert large == small == (3 if connection.vendor == "postgresql" else 5)


def test_customer_timeline_query_count_is_flat(operator_client, channel):
    conversation = ConversationFactory(channel=channel)
    url = f"/api/v1/customers/{conversation.customer_id}/"
    small = query_count(operator_client, url)

    for _ in range(15):
        ConversationFactory(channel=channel, customer=conversation.customer)
    large = query_count(operator_client, url)

    assert large == small
    assert len(operator_client.get(url).json()["timeline"]) == 16


def fill_settings(team, operator, count: int) -> None:
    for _ in range(count):
        ChannelFactory(teams=[team, TeamFactory()])
        CannedResponseFactory(created_by=operator)
        LabelFactory()


@pytest.mark.parametrize(
    "url", ["/api/v1/channels/", "/api/v1/canned-responses/", "/api/v1/labels/"]
)
def test_settings_lists_query_count_is_flat(admin_client_api, operator, team, url):
    fill_settings(team, operator, 2)
    small = query_count(admin_client_api, url)

    fill_settings(team, operator, 25)
    large = query_count(admin_client_api, url)

    assert large == small
    assert small <= 6


def test_conversation_event_list_query_count_is_flat(operator_client, operator, channel):
    conversation = ConversationFactory(channel=channel)
    url = f"/api/v1/conversations/{conversation.pk}/events/"

    def add_events(count: int) -> None:
        for _ in range(count):
            conversation_event_record(
                conversation=conversation,
                kind=ConversationEventKind.ASSIGNED,
                actor=UserFactory(),
                operator="Anna",
            )

    add_events(2)
    small = query_count(operator_client, url)
    add_events(30)
    large = query_count(operator_client, url)

    assert large == small
