"""The conversations list shows each conversation's SLA and filters by it
(`sla=breached|due_soon`) at a cost that does not grow with the page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox import selectors
from inbox.models import BusinessHours, SlaPolicy
from inbox.representations import conversation_row_representation
from tests.factories import ConversationFactory
from tests.inbox.test_query_counts import conversation_queries, query_count

pytestmark = pytest.mark.django_db


def under_sla(channel, policy, **clocks):
    return ConversationFactory(channel=channel, sla_policy=policy, **clocks)


@pytest.fixture
def conversations(channel, standard):
    now = timezone.now()
    return {
        "none": ConversationFactory(channel=channel),
        "far": under_sla(
            channel,
            standard,
            first_response_due_at=now + timedelta(hours=3),
            sla_next_due_at=now + timedelta(hours=3),
        ),
        "soon": under_sla(
            channel,
            standard,
            first_response_due_at=now + timedelta(minutes=10),
            sla_next_due_at=now + timedelta(minutes=10),
        ),
        "breached": under_sla(
            channel,
            standard,
            first_response_due_at=now - timedelta(minutes=10),
            first_response_breached=True,
        ),
        "resolution breached, answered": under_sla(channel, standard, resolution_breached=True),
    }


def listed_ids(client, query: str) -> set[int]:
    response = client.get(f"/api/v1/conversations/?{query}")
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def rows_path_ids(user, sla: str) -> set[int]:
    filters = selectors.ConversationFilters(sla=sla)
    return {row["id"] for row in selectors.conversation_rows_for_user(user=user, filters=filters)}


@pytest.mark.parametrize(
    ("sla", "expected"),
    [
        ("breached", {"breached", "resolution breached, answered"}),
        ("due_soon", {"soon"}),
    ],
)
def test_the_list_filters_by_sla(operator_client, operator, conversations, sla, expected):
    wanted = {conversations[name].pk for name in expected}

    assert listed_ids(operator_client, f"sla={sla}") == wanted
    assert rows_path_ids(operator, sla) == wanted


def test_an_unknown_sla_filter_is_refused(operator_client, conversations):
    response = operator_client.get("/api/v1/conversations/?sla=late")

    assert response.status_code == 400
    assert "sla" in response.json()["fields"]


def test_each_listed_conversation_reads_its_sla(operator_client, conversations, standard):
    rows = {
        row["id"]: row for row in operator_client.get("/api/v1/conversations/").json()["results"]
    }

    assert rows[conversations["none"].pk]["sla"] is None
    breached = rows[conversations["breached"].pk]["sla"]
    assert breached["policy"] == {"id": standard.pk, "name": "Standard"}
    assert breached["breached"] == ["first_response"]
    assert breached["next_response_due_at"] is None
    assert rows[conversations["soon"].pk]["sla"]["breached"] == []


def test_the_rows_path_reads_the_same_sla(operator, conversations):
    rows = selectors.conversation_rows_complete(
        list(
            selectors.conversation_rows_for_user(
                user=operator, filters=selectors.ConversationFilters()
            )
        )
    )
    shown = {row["id"]: conversation_row_representation(row)["sla"] for row in rows}

    assert shown[conversations["none"].pk] is None
    assert shown[conversations["breached"].pk]["policy"]["name"] == "Standard"
    assert shown[conversations["breached"].pk]["breached"] == ["first_response"]


def fill(channel, count: int) -> None:
    calendar = BusinessHours.objects.create(
        name=f"Calendar {count}", time_zone="UTC", weekly={"mon": [["09:00", "17:00"]]}
    )
    for index in range(count):
        policy = SlaPolicy.objects.create(
            name=f"Policy {count}-{index}", business_hours=calendar if index % 2 else None
        )
        under_sla(
            channel,
            policy,
            first_response_due_at=timezone.now() + timedelta(minutes=index),
            sla_next_due_at=timezone.now() + timedelta(minutes=index),
            next_response_breached=bool(index % 3),
        )


@pytest.mark.parametrize(
    "query", ["page_size=100", "page_size=100&sla=breached", "page_size=100&sla=due_soon"]
)
def test_the_list_costs_the_same_queries_whatever_the_slas_of_its_page(
    operator_client, channel, query
):
    fill(channel, 2)
    small = query_count(operator_client, f"/api/v1/conversations/?{query}")

    fill(channel, 30)
    large = query_count(operator_client, f"/api/v1/conversations/?{query}")

    # On other databases than PostgreSQL, the policies' names take one more query (and
    # the page's operators none: these conversations have none).
    assert large == small == conversation_queries()


@pytest.mark.parametrize("url", ["/api/v1/sla-policies/", "/api/v1/business-hours/"])
def test_the_settings_lists_cost_the_same_queries_however_long(admin_client_api, channel, url):
    fill(channel, 2)
    small = query_count(admin_client_api, url)

    fill(channel, 25)
    large = query_count(admin_client_api, url)

    assert large == small <= 2
