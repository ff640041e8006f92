"""The inbox's first screen over 100,000 conversations costs the queries it costs over 3."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ConversationFactory, MessageFactory
from tests.helpers import inbox_page_data

pytestmark = [pytest.mark.real_services, pytest.mark.django_db]

CONVERSATIONS = 100_000


def add_conversations(channel, operator, count: int) -> None:
    """Customers, conversations (a third assigned to the operator) and one message each."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_customer (name, email, phone, attributes, created_at, "
            "updated_at) SELECT 'Customer ' || i, 'c' || i || '@example.com', '', '{}', now(), "
            "now() FROM generate_series(1, %s) i RETURNING id",
            [count],
        )
        cursor.execute(
            "INSERT INTO inbox_conversation (customer_id, channel_id, recipient_address, status, "
            "priority, subject, assignee_id, last_message_at, created_at, updated_at) "
            "SELECT c.id, %s, 'r' || c.id, "
            "(ARRAY['open', 'open', 'pending', 'resolved'])[1 + c.id %% 4], "
            "'none', '', CASE WHEN c.id %% 3 = 0 THEN %s END, "
            "now() - (c.id %% 100000) * interval '1 second', now(), now() "
            "FROM customers_customer c WHERE NOT EXISTS "
            "(SELECT 1 FROM inbox_conversation x WHERE x.customer_id = c.id)",
            [channel.pk, operator.pk],
        )
        cursor.execute(
            "INSERT INTO inbox_message (conversation_id, channel_id, direction, body, is_private, "
            "status, error, delivery_attempts, created_at, updated_at) "
            "SELECT v.id, v.channel_id, 'in', 'Where is my order ' || v.id || '?', false, "
            "'received', '{}', 0, v.last_message_at, v.last_message_at "
            "FROM inbox_conversation v WHERE NOT EXISTS "
            "(SELECT 1 FROM inbox_message m WHERE m.conversation_id = v.id)"
        )
        cursor.execute("ANALYZE")


def query_count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def test_the_first_screen_over_100k_conversations_costs_the_same_queries(client, channel, operator):
    client.force_login(operator)
    selected = ConversationFactory(channel=channel, assignee=operator)
    MessageFactory(conversation=selected)
    urls = ["/", f"/?conversation={selected.pk}", "/?view=mine&status=open", "/inbox/list/"]
    few = {url: query_count(client, url) for url in urls}

    add_conversations(channel, operator, CONVERSATIONS)
    many = {url: query_count(client, url) for url in urls}

    assert many == few
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM inbox_conversation")
        assert cursor.fetchone()[0] > CONVERSATIONS
    assert len(inbox_page_data(client.get("/").content)["items"]) == 25
