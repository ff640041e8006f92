"""The inbox's Breached and Due soon views: what they list, their counts in the view menu,
and what the page gives its countdowns."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.models import SlaPolicy
from tests.factories import ConversationFactory
from tests.inbox.sla_support import due_in
from tests.inbox.web.test_inbox_page import listed_ids, page_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def standard(db):
    return SlaPolicy.objects.create(
        name="Standard", first_response_minutes=60, resolution_minutes=480
    )


def test_the_views_list_breached_and_due_soon_conversations_with_their_counts(
    client, operator, channel, standard
):
    client.force_login(operator)
    breached = due_in(channel, standard, -5, first_response_breached=True)
    breached_pending = due_in(channel, standard, -5, first_response_breached=True, status="pending")
    soon = due_in(channel, standard, 20)
    later = due_in(channel, standard, 50)
    ConversationFactory(channel=channel)  # no policy

    assert listed_ids(client.get("/?view=breached")) == [breached.pk]
    assert listed_ids(client.get("/?view=breached&status=pending")) == [breached_pending.pk]
    assert listed_ids(client.get("/?view=due_soon")) == [soon.pk]
    assert later.pk in listed_ids(client.get("/?view=all"))

    counts = client.get("/inbox/counts/?view=breached&status=open").json()
    assert counts["views"]["breached"] == 1
    assert counts["views"]["due_soon"] == 1
    assert counts["views"]["all"] == 4
    assert counts["statuses"] == {"open": 1, "pending": 1, "snoozed": 0}
    page = client.get("/?view=due_soon").content.decode()
    assert 'data-view="breached"' in page
    assert 'data-view="due_soon" aria-current="page"' in page


def test_the_page_gives_its_countdowns_each_policys_targets(client, operator, channel, standard):
    client.force_login(operator)

    data = page_data(client.get("/"))

    assert data["sla"]["targets"] == {
        str(standard.pk): {"first_response": 60, "next_response": None, "resolution": 480}
    }
    assert data["sla"]["due_soon_minutes"] == 30
    assert data["view"]["name"] == "all"


def test_the_counts_cost_one_query_however_many_conversations(client, operator, channel, standard):
    client.force_login(operator)
    client.get("/inbox/counts/?view=breached")  # the session and the operator's channels

    def counted() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/inbox/counts/?view=breached").status_code == 200
        return len(captured)

    due_in(channel, standard, -5, first_response_breached=True)
    few = counted()
    for minutes in range(30):
        due_in(channel, standard, minutes - 10, first_response_breached=minutes < 10)
    assert counted() == few


@pytest.mark.parametrize(
    ("query", "view_filter"),
    [
        ("view=breached", {"status": "open", "sla": "breached"}),
        ("view=due_soon&status=pending", {"status": "pending", "sla": "due_soon"}),
        ("view=mine", {"status": "open", "assignee": "me"}),
        ("view=all", {"status": "open"}),
    ],
)
def test_select_all_in_a_view_acts_on_the_views_own_filter(
    client, operator, channel, query, view_filter
):
    client.force_login(operator)

    data = page_data(client.get(f"/?{query}"))

    assert data["view"]["filter"] == view_filter
