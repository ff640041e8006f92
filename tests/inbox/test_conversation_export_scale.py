"""Exporting 100,000 conversations takes the memory of one chunk of rows, under the test
client's WSGI-like handler and under ASGI alike, and its rows say what the API says."""

import csv
import io
import json
import random
import tracemalloc

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test import AsyncRequestFactory
from rest_framework.test import force_authenticate

from inbox.api.export_views import ConversationExportApi
from tests.factories import LabelFactory

pytestmark = [pytest.mark.real_services, pytest.mark.django_db]

CONVERSATIONS = 100_000
# What a chunk of 2,000 rows and its text take, with room to spare; 100,000 rows held at
# once would take well over 100 MB.
MEMORY_LIMIT = 12 * 1024 * 1024
EXPORT = "/api/v1/conversations/export/?from=2000-01-01"


def add_conversations(channel, team, operator, label, count: int) -> None:
    """Customers, conversations (a third assigned, a tenth labelled and with a message)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_customer (name, email, phone, attributes, created_at, "
            "updated_at) SELECT 'Customer ' || i, 'c' || i || '@example.com', '', '{}', now(), "
            "now() FROM generate_series(1, %s) i",
            [count],
        )
        cursor.execute(
            "INSERT INTO inbox_conversation (customer_id, channel_id, recipient_address, status, "
            "priority, subject, assignee_id, team_id, last_message_at, first_response_at, "
            "created_at, updated_at, sla_paused_seconds, first_response_breached, "
            "next_response_breached, resolution_breached) "
            "SELECT c.id, %s, 'r' || c.id, (ARRAY['open', 'pending', 'resolved'])[1 + c.id %% 3], "
            "'none', '', CASE WHEN c.id %% 3 = 0 THEN %s END, %s, now(), "
            "CASE WHEN c.id %% 2 = 0 THEN now() + interval '90 seconds' END, now(), now(), "
            "0, false, false, false "
            "FROM customers_customer c WHERE NOT EXISTS "
            "(SELECT 1 FROM inbox_conversation x WHERE x.customer_id = c.id)",
            [channel.pk, operator.pk, team.pk],
        )
        cursor.execute(
            "INSERT INTO inbox_conversation_labels (conversation_id, label_id) "
            "SELECT id, %s FROM inbox_conversation WHERE id %% 10 = 0",
            [label.pk],
        )
        cursor.execute(
            "INSERT INTO inbox_message (conversation_id, channel_id, direction, body, is_private, "
            "status, error, delivery_attempts, created_at, updated_at) "
            "SELECT v.id, v.channel_id, 'in', 'Where is my order ' || v.id || '?', false, "
            "'received', '{}', 0, now(), now() FROM inbox_conversation v WHERE v.id % 10 = 0"
        )
        cursor.execute("ANALYZE")


def test_100k_conversations_export_in_flat_memory_with_the_apis_values(
    client, supervisor, channel, team, operator
):
    add_conversations(channel, team, operator, LabelFactory(name="Refund"), CONVERSATIONS)
    csv_of_100k_conversations_in_flat_memory_with_the_apis_values(client, supervisor)
    json_lines_of_100k_conversations_under_asgi_in_flat_memory(supervisor)


def csv_of_100k_conversations_in_flat_memory_with_the_apis_values(client, supervisor):
    client.force_login(supervisor)
    response = client.get(EXPORT)
    assert response.status_code == 200
    parts = iter(response.streaming_content)
    text = [next(parts)]  # the first chunk read, what stays is measured

    tracemalloc.start()
    try:
        size = 0
        sample_text = []
        for part in parts:
            size += len(part)
            if random.random() < 0.05:
                sample_text.append(part)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert size > 5 * 1024 * 1024  # far more than the memory it took
    assert peak < MEMORY_LIMIT
    header_and_first = text[0].decode()
    header = header_and_first.splitlines()[0]
    rows = list(csv.DictReader(io.StringIO(header_and_first)))
    for part in sample_text[:2]:
        rows += list(csv.DictReader(io.StringIO(header + "\n" + part.decode())))
    for row in random.sample(rows, 25):
        api = client.get(f"/api/v1/conversations/{row['id']}/").json()
        assert row["customer"] == api["customer"]["name"]
        assert row["channel"] == api["channel"]["name"]
        assert row["status"] == api["status"]
        assert row["assignee"] == (api["assignee"]["name"] if api["assignee"] else "")
        assert row["team"] == api["team"]["name"]
        assert row["created_at"] == api["created_at"]
        assert row["first_response_at"] == (api["first_response_at"] or "")
        assert row["labels"] == "; ".join(label["name"] for label in api["labels"])
        assert row["messages_in"] == ("1" if int(row["id"]) % 10 == 0 else "0")


def json_lines_of_100k_conversations_under_asgi_in_flat_memory(supervisor):
    request = AsyncRequestFactory().get(EXPORT + "&format=jsonl")
    force_authenticate(request, user=supervisor)
    response = ConversationExportApi.as_view()(request)
    assert response.is_async

    async def measure() -> tuple[int, int, int]:
        lines = 0
        size = 0
        peak = 0
        parts = aiter(response.streaming_content)
        first = await anext(parts)
        lines += first.count(b"\n")
        tracemalloc.start()
        try:
            async for part in parts:
                lines += part.count(b"\n")
                size += len(part)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        json.loads(first.splitlines()[0])  # each line is a JSON document
        return lines, size, peak

    lines, size, peak = async_to_sync(measure)()

    assert lines == CONVERSATIONS
    assert size > 10 * 1024 * 1024
    assert peak < MEMORY_LIMIT
