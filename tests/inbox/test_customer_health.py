"""A customer's health worked out from constructed histories: each signal, the risk level
the documented rules give, the API's `customer.health`, the profile pane, and the list's
"at risk" filter (in a flat number of queries)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Customer
from inbox.events import conversation_event_record
from inbox.models import ConversationEventKind, CsatSurvey, SurveyStatus
from inbox.selectors.customer_health import customer_health, customers_health
from inbox.services.customer_health import customers_health_refresh
from tests.factories import ChannelFactory, ConversationFactory, CustomerFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def contact(customer, channel, *, days_ago: float, status: str = "resolved", **fields):
    """A conversation opened `days_ago`, last active then unless told otherwise."""
    conversation = ConversationFactory(customer=customer, channel=channel, status=status)
    opened = NOW - timedelta(days=days_ago)
    values = {"created_at": opened, "last_message_at": opened, **fields}
    type(conversation).objects.filter(pk=conversation.pk).update(**values)
    conversation.refresh_from_db()
    return conversation


def answered(conversation, *, kind: str, rating: int, days_ago: float = 1) -> CsatSurvey:
    return CsatSurvey.objects.create(
        conversation=conversation,
        customer=conversation.customer,
        channel=conversation.channel,
        kind=kind,
        token=f"health-{conversation.pk}",
        due_at=NOW,
        status=SurveyStatus.ANSWERED,
        sent_at=NOW - timedelta(days=days_ago, hours=1),
        answered_at=NOW - timedelta(days=days_ago),
        rating=rating,
    )


def reopened(conversation, *, times: int = 1) -> None:
    for _ in range(times):
        conversation_event_record(conversation=conversation, kind=ConversationEventKind.REOPENED)


def test_a_quiet_customer_is_low_risk(channel):
    customer = CustomerFactory()
    answered(contact(customer, channel, days_ago=40), kind="csat", rating=5)

    health = customer_health(customer_id=customer.pk, now=NOW)

    assert (health.risk, health.reasons) == ("low", ())
    assert health.latest_scores["csat"].rating == 5
    assert (health.contacts_30_days, health.contacts_90_days) == (0, 1)


def test_a_poor_latest_score_alone_is_medium_and_a_later_good_one_clears_it(channel):
    customer = CustomerFactory()
    answered(contact(customer, channel, days_ago=20), kind="ces", rating=2, days_ago=20)
    assert customer_health(customer_id=customer.pk, now=NOW).risk == "medium"

    answered(contact(customer, channel, days_ago=5), kind="ces", rating=6, days_ago=5)

    health = customer_health(customer_id=customer.pk, now=NOW)
    assert health.risk == "low"
    assert health.latest_scores["ces"].rating == 6


def test_a_detractor_who_switched_channels_is_at_risk(channel):
    customer = CustomerFactory()
    email = ChannelFactory(kind="email")
    answered(contact(customer, channel, days_ago=10), kind="nps", rating=4)
    contact(customer, email, days_ago=8)  # two days after the first: the same issue

    health = customer_health(customer_id=customer.pk, now=NOW)

    assert health.channel_switches == 1
    assert health.risk == "high"
    assert health.reasons == ("poor_nps", "channel_switches")


def test_another_channel_weeks_later_is_no_switch(channel):
    customer = CustomerFactory()
    contact(customer, channel, days_ago=30)
    contact(customer, ChannelFactory(kind="email"), days_ago=10)
    contact(customer, ChannelFactory(kind="email"), days_ago=9.5, status="resolved")

    health = customer_health(customer_id=customer.pk, now=NOW)

    # The third is on another channel than the second, within a day: one switch.
    assert health.channel_switches == 1
    assert health.risk == "medium"


def test_frequent_contacts_reopenings_and_a_long_wait_add_up_to_high(channel):
    customer = CustomerFactory()
    for days_ago in (25, 15):
        reopened(contact(customer, channel, days_ago=days_ago))
    waiting_since = NOW - timedelta(hours=30)
    contact(
        customer,
        channel,
        days_ago=1.25,
        status="open",
        last_inbound_at=waiting_since,
        last_message_at=waiting_since,
    )

    health = customer_health(customer_id=customer.pk, now=NOW)

    assert health.contacts_30_days == 3
    assert health.reopened_conversations == 2
    assert health.unanswered_seconds == pytest.approx(30 * 3600, abs=5)
    assert health.reasons == ("frequent_contacts", "reopened_conversations", "unanswered")
    assert health.risk == "high"


def test_a_reply_after_the_customer_wrote_ends_the_wait_and_a_snooze_is_no_reopening(channel):
    customer = CustomerFactory()
    wrote = NOW - timedelta(hours=30)
    conversation = contact(
        customer,
        channel,
        days_ago=2,
        status="open",
        last_inbound_at=wrote,
        last_message_at=wrote + timedelta(minutes=5),
    )
    conversation_event_record(
        conversation=conversation, kind=ConversationEventKind.REOPENED, reason="snooze_ended"
    )

    health = customer_health(customer_id=customer.pk, now=NOW)

    assert health.unanswered_seconds is None
    assert health.reopened_conversations == 0
    assert health.risk == "low"


def test_old_history_ages_out(channel):
    customer = CustomerFactory()
    for days_ago in (200, 199, 198, 197, 196, 195, 194):
        reopened(contact(customer, channel, days_ago=days_ago))
    for conversation in customer.conversations.all():
        conversation.events.update(created_at=NOW - timedelta(days=190))

    health = customer_health(customer_id=customer.pk, now=NOW)

    assert (health.contacts_90_days, health.reopened_conversations, health.risk) == (0, 0, "low")


def test_the_api_shows_customer_health(supervisor_client, channel):
    customer = CustomerFactory()
    answered(contact(customer, channel, days_ago=3), kind="csat", rating=1)

    health = supervisor_client.get(f"/api/v1/customers/{customer.pk}/").json()["health"]

    assert health["risk"] == "medium"
    assert health["reasons"] == ["poor_csat"]
    assert health["last_csat"]["rating"] == 1
    assert health["last_ces"] is None and health["last_nps"] is None
    assert health["contacts_90_days"] == 1
    assert set(health) == {
        "risk", "reasons", "last_csat", "last_ces", "last_nps", "contacts_30_days",
        "contacts_90_days", "reopened_conversations", "channel_switches", "unanswered_seconds",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("language", "at_risk", "detractor"),
    [("en", "At risk", "Detractor (NPS)"), ("ru", "Под угрозой", "Критик (NPS)"),
     ("pl", "Zagrożony", "Krytyk (NPS)")],
)  # fmt: skip
def test_the_profile_pane_shows_the_risk_in_the_operators_language(
    client, supervisor, channel, language, at_risk, detractor
):
    supervisor.language = language
    supervisor.save()
    customer = CustomerFactory()
    conversation = contact(customer, channel, days_ago=3)
    answered(conversation, kind="nps", rating=2)
    contact(customer, ChannelFactory(kind="email", teams=[channel.teams.first()]), days_ago=2)
    client.force_login(supervisor)

    pane = client.get(f"/inbox/conversations/{conversation.pk}/").json()["profile_html"]

    assert 'data-health-risk="high"' in pane
    assert at_risk in pane
    assert detractor in pane


def test_the_list_filters_customers_at_risk_once_refreshed(supervisor_client, channel):
    calm, worried = CustomerFactory(), CustomerFactory()
    contact(calm, channel, days_ago=3)
    answered(contact(worried, channel, days_ago=3), kind="csat", rating=1)
    contact(worried, ChannelFactory(kind="email"), days_ago=2)

    customers_health_refresh(customer_ids=[calm.pk, worried.pk], now=NOW)
    at_risk = supervisor_client.get("/api/v1/customers/?health=high").json()["results"]
    calm_ones = supervisor_client.get("/api/v1/customers/?health=low").json()["results"]

    assert [row["id"] for row in at_risk] == [worried.pk]
    assert [row["id"] for row in calm_ones] == [calm.pk]


def test_a_bad_health_filter_is_a_json_400(supervisor_client):
    response = supervisor_client.get("/api/v1/customers/?health=doomed")

    assert response.status_code == 400
    assert "health" in response.json()["fields"]


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_at_risk_list_and_the_batch_health_take_flat_queries(
    supervisor_client, channel, django_assert_num_queries
):
    def at_risk_customers(count: int) -> list[int]:
        ids = []
        for _ in range(count):
            customer = CustomerFactory()
            answered(contact(customer, channel, days_ago=3), kind="csat", rating=1)
            contact(customer, ChannelFactory(kind="email"), days_ago=2)
            ids.append(customer.pk)
        customers_health_refresh(customer_ids=ids, now=NOW)
        return ids

    url = "/api/v1/customers/?health=high&page_size=100"
    few = at_risk_customers(2)
    small = queries_for(supervisor_client, url)
    many = few + at_risk_customers(20)
    large = queries_for(supervisor_client, url)

    assert large == small
    assert Customer.objects.filter(health_risk="high").count() == 22
    with django_assert_num_queries(3):
        health = customers_health(customer_ids=many, now=NOW)
    assert {entry.risk for entry in health.values()} == {"high"}
