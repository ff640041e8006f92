"""The conversation export: one row per conversation, as the API reads it, in CSV (safe
to open in a spreadsheet) or JSON lines, for supervisors."""

import csv
import io
import json
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncRequestFactory
from django.utils import timezone
from rest_framework.test import force_authenticate

from inbox.api.export_views import ConversationExportApi, csv_safe_cell
from inbox.models import (
    Conversation,
    ConversationStatus,
    CsatSurvey,
    MessageDirection,
    SurveyKind,
    SurveyStatus,
)
from tests.factories import (
    ConversationFactory,
    CustomerFactory,
    LabelFactory,
    MessageFactory,
)

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/conversations/export/"


def streamed_text(response) -> str:
    assert response.status_code == 200, response.content
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(streamed_text(response))))


def json_rows(response) -> list[dict]:
    return [json.loads(line) for line in streamed_text(response).splitlines()]


@pytest.fixture
def worked_conversation(channel, team, operator):
    """Resolved after an answer, rated 4 of 5, with labels and notes."""
    customer = CustomerFactory(name="Maria Lopez")
    conversation = ConversationFactory(
        channel=channel, customer=customer, team=team, assignee=operator
    )
    created = conversation.created_at
    Conversation.objects.filter(pk=conversation.pk).update(
        status=ConversationStatus.RESOLVED,
        first_response_at=created + timedelta(minutes=3),
        resolved_at=created + timedelta(hours=2),
    )
    conversation.labels.set([LabelFactory(name="VIP"), LabelFactory(name="Refund")])
    for direction, private in [("in", False), ("in", False), ("out", False), ("out", True)]:
        MessageFactory(conversation=conversation, direction=direction, is_private=private)
    CsatSurvey.objects.create(
        conversation=conversation,
        customer=customer,
        channel=channel,
        operator=operator,
        kind=SurveyKind.CSAT,
        status=SurveyStatus.ANSWERED,
        rating=4,
        token="t-1",
        due_at=timezone.now(),
        answered_at=timezone.now(),
    )
    return conversation


def test_a_row_holds_the_conversation_as_the_api_reads_it(supervisor_client, worked_conversation):
    (row,) = json_rows(supervisor_client.get(f"{EXPORT}?format=jsonl"))
    api = supervisor_client.get(f"/api/v1/conversations/{worked_conversation.pk}/").json()

    assert row["id"] == api["id"]
    assert row["channel"] == api["channel"]["name"]
    assert row["channel_kind"] == api["channel"]["kind"]
    assert (row["customer_id"], row["customer"]) == (api["customer"]["id"], "Maria Lopez")
    assert row["team"] == api["team"]["name"]
    assert row["assignee"] == api["assignee"]["name"] == "Anna"
    assert row["status"] == api["status"] == "resolved"
    for time in ("created_at", "first_response_at", "resolved_at"):
        assert row[time] == api[time]
    assert row["first_response_seconds"] == 180
    assert row["resolution_seconds"] == 7200
    assert row["labels"] == [label["name"] for label in api["labels"]] == ["Refund", "VIP"]
    assert (row["csat"], row["ces"], row["nps"]) == (4, None, None)
    assert (row["messages_in"], row["messages_out"], row["notes"]) == (2, 1, 1)
    assert row["sla_met"] is None  # no SLA policy applied


def test_csv_has_the_same_values_with_a_header(supervisor_client, worked_conversation):
    response = supervisor_client.get(EXPORT)

    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="conversations-')
    (row,) = csv_rows(response)
    assert row["customer"] == "Maria Lopez"
    assert row["labels"] == "Refund; VIP"
    assert (row["csat"], row["ces"], row["nps"]) == ("4", "", "")
    assert row["sla_met"] == ""


def test_cells_a_spreadsheet_would_run_are_written_as_text(supervisor_client, channel):
    for name in ('=HYPERLINK("http://evil.example","x")', "+1 555", "-2", "@SUM(A1)", "Ann"):
        ConversationFactory(channel=channel, customer=CustomerFactory(name=name))

    names = [row["customer"] for row in csv_rows(supervisor_client.get(EXPORT))]

    assert names == [
        '\'=HYPERLINK("http://evil.example","x")',
        "'+1 555",
        "'-2",
        "'@SUM(A1)",
        "Ann",
    ]
    assert csv_safe_cell(-2) == -2  # numbers are numbers, not formulas


def test_sla_met_says_whether_a_decided_conversation_missed_a_target(supervisor_client, channel):
    from inbox.models import SlaPolicy

    policy = SlaPolicy.objects.create(name="Standard", first_response_minutes=60)
    met = ConversationFactory(
        channel=channel, sla_policy=policy, status=ConversationStatus.RESOLVED
    )
    missed = ConversationFactory(channel=channel, sla_policy=policy, first_response_breached=True)
    running = ConversationFactory(channel=channel, sla_policy=policy)

    rows = {row["id"]: row for row in json_rows(supervisor_client.get(f"{EXPORT}?format=jsonl"))}

    assert rows[met.pk]["sla_met"] is True
    assert rows[missed.pk]["sla_met"] is False
    assert rows[running.pk]["sla_met"] is None


def test_the_period_and_the_list_filters_choose_the_rows(supervisor_client, channel):
    recent = ConversationFactory(channel=channel)
    old = ConversationFactory(channel=channel)
    Conversation.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=90))
    pending = ConversationFactory(channel=channel, status=ConversationStatus.PENDING)
    today = timezone.now().date().isoformat()

    def ids(query: str) -> list[int]:
        return [
            row["id"] for row in json_rows(supervisor_client.get(f"{EXPORT}?format=jsonl&{query}"))
        ]

    assert ids("") == [recent.pk, pending.pk]  # the last 30 days by default, oldest first
    assert ids(f"from=2000-01-01&to={today}") == [recent.pk, old.pk, pending.pk]
    assert ids("from=2000-01-01&status=pending") == [pending.pk]
    assert ids("to=2001-01-01&from=2000-01-01") == []


def test_an_empty_export_is_the_header_alone(supervisor_client):
    text = streamed_text(supervisor_client.get(EXPORT))

    assert text.splitlines() == [text.splitlines()[0]]
    assert text.startswith("id,channel,channel_kind,customer_id,customer,team,assignee,status")


def test_rows_of_several_chunks_come_each_once_in_order(supervisor_client, channel, monkeypatch):
    from inbox.selectors import conversation_export

    monkeypatch.setattr(conversation_export, "EXPORT_CHUNK_SIZE", 2)
    created = [ConversationFactory(channel=channel).pk for _ in range(5)]

    response = supervisor_client.get(f"{EXPORT}?format=jsonl")

    assert [row["id"] for row in json_rows(response)] == created


def test_only_supervisors_and_admins_export(operator_client, admin_client_api, worked_conversation):
    refused = operator_client.get(EXPORT)

    assert refused.status_code == 403
    assert refused.json()["error"] == "permission_denied"
    assert admin_client_api.get(EXPORT).status_code == 200


@pytest.mark.parametrize(
    "query",
    ["format=xml", "from=yesterday", "from=2026-02-01&to=2026-01-01", "status=asleep", "team=x"],
)
def test_bad_input_is_a_400_with_a_json_error(supervisor_client, query):
    response = supervisor_client.get(f"{EXPORT}?{query}")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid"


def test_under_asgi_the_rows_are_read_as_they_are_sent(supervisor, channel, worked_conversation):
    """An ASGI server would read a synchronous iterator whole before sending a byte."""
    request = AsyncRequestFactory().get(EXPORT, {"format": "jsonl"})
    force_authenticate(request, user=supervisor)

    response = ConversationExportApi.as_view()(request)

    assert response.is_async

    async def read_all() -> bytes:
        return b"".join([part async for part in response.streaming_content])

    (row,) = [json.loads(line) for line in async_to_sync(read_all)().decode().splitlines()]
    assert row["id"] == worked_conversation.pk


def test_private_notes_and_replies_count_apart(supervisor_client, channel):
    conversation = ConversationFactory(channel=channel)
    MessageFactory(conversation=conversation, direction=MessageDirection.OUTBOUND, is_private=True)

    (row,) = json_rows(supervisor_client.get(f"{EXPORT}?format=jsonl"))

    assert (row["messages_in"], row["messages_out"], row["notes"]) == (0, 0, 1)
