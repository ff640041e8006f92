"""Searching conversations by customer (name, email, phone, any identity) and message text."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.models import Conversation, ConversationStatus
from inbox.representations import conversation_row_representation
from inbox.web.selectors import conversation_search_for_user
from tests.conftest import real_services_available
from tests.factories import (
    ChannelFactory,
    ConversationFactory,
    CustomerFactory,
    IdentityFactory,
    LabelFactory,
    MessageFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def found_ids(user, query: str) -> list[int]:
    return [row["id"] for row in conversation_search_for_user(user=user, query=query)]


@pytest.mark.parametrize(
    "query",
    ["Maria", "garcia", "maria.garcia@example.com", "+34 600 123 456", "tg-987654"],
)
def test_a_customer_matches_by_name_email_phone_or_identity(operator, channel, query):
    customer = CustomerFactory(
        name="Maria Garcia", email="maria.garcia@example.com", phone="+34600123456"
    )
    IdentityFactory(customer=customer, kind="telegram", value="tg-987654")
    theirs = ConversationFactory(channel=channel, customer=customer)
    ConversationFactory(
        channel=channel, customer=CustomerFactory(name="Olaf Berg", email="o@b.example")
    )

    assert found_ids(operator, query) == [theirs.pk]


def test_message_text_matches_in_any_status_with_a_snippet(operator, channel):
    resolved = ConversationFactory(channel=channel, status=ConversationStatus.RESOLVED)
    MessageFactory(conversation=resolved, body="Hello there")
    MessageFactory(
        conversation=resolved,
        body="I ordered a kettle last week " + "and waited " * 30 + "but the parcel never came",
    )
    MessageFactory(conversation=ConversationFactory(channel=channel), body="Printer jam again")

    [found] = conversation_search_for_user(user=operator, query="parcel")

    assert found["id"] == resolved.pk
    assert "parcel never came" in found["snippet"]
    assert found["snippet"].startswith("…")
    assert len(found["snippet"]) <= 170


def test_a_customer_only_match_has_no_snippet_but_keeps_the_preview(operator, channel):
    conversation = ConversationFactory(channel=channel, customer=CustomerFactory(name="Ines Ruiz"))
    MessageFactory(conversation=conversation, body="Thanks!")

    [found] = conversation_search_for_user(user=operator, query="Ines")

    assert found["snippet"] is None
    assert found["preview"] == "Thanks!"


def test_search_finds_nothing_the_operator_may_not_see_nor_private_notes(operator, channel):
    elsewhere = ChannelFactory(teams=[TeamFactory(name="Billing")])
    hidden = ConversationFactory(channel=elsewhere, customer=CustomerFactory(name="Maria Garcia"))
    MessageFactory(conversation=hidden, body="refund please")
    noted = ConversationFactory(channel=channel, customer=CustomerFactory(name="Olaf Berg"))
    MessageFactory(conversation=noted, body="refund approved", is_private=True)

    assert found_ids(operator, "Maria") == []
    assert found_ids(operator, "refund") == []


def test_a_blank_query_finds_nothing_without_querying(operator, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert conversation_search_for_user(user=operator, query="   ") == []


def test_search_costs_the_same_queries_for_one_result_or_many(operator, channel, team):
    def queries_for_search() -> int:
        with CaptureQueriesContext(connection) as captured:
            results = conversation_search_for_user(user=operator, query="invoice")
            # Everything the list shows is loaded already.
            for row in results:
                conversation_row_representation(row)
        return len(captured)

    assigned = ConversationFactory(channel=channel, assignee=operator)
    MessageFactory(conversation=assigned, body="invoice missing")
    one = queries_for_search()
    for _ in range(8):
        conversation = ConversationFactory(channel=channel, assignee=UserFactory(teams=[team]))
        conversation.labels.add(LabelFactory())
        MessageFactory(conversation=conversation, body="second invoice")
        MessageFactory(conversation=conversation, body="where is the invoice")

    # The operator's channels, the results, their operators, labels and previews.
    assert queries_for_search() == one == 5


def test_supervisors_search_in_four_queries(supervisor, channel, django_assert_num_queries):
    for _ in range(3):
        conversation = ConversationFactory(channel=channel, assignee=UserFactory())
        MessageFactory(conversation=conversation, body="invoice missing")

    # The results, then the operators, labels and previews of all of them.
    with django_assert_num_queries(4):
        assert len(conversation_search_for_user(user=supervisor, query="invoice")) == 3


def test_the_api_q_filter_uses_the_same_match(operator_client, channel):
    customer = CustomerFactory(name="Zed")
    IdentityFactory(customer=customer, kind="whatsapp", value="491701234567")
    by_identity = ConversationFactory(channel=channel, customer=customer)
    by_text = ConversationFactory(channel=channel)
    MessageFactory(conversation=by_text, body="my kettle leaks")

    def ids(query: str) -> set[int]:
        response = operator_client.get("/api/v1/conversations/", {"q": query})
        assert response.status_code == 200
        return {item["id"] for item in response.json()["results"]}

    assert ids("491701234567") == {by_identity.pk}
    assert ids("kettle") == {by_text.pk}


@pytest.mark.real_services
def test_postgresql_searches_message_text_through_the_gin_index(operator, channel):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'message_body_words'")
        [(definition,)] = cursor.fetchall()
    assert "gin" in definition.lower() and "inbox_message_words(body)" in definition
    # Each word as written and stemmed.
    with connection.cursor() as cursor:
        cursor.execute("SELECT tsvector_to_array(inbox_message_words('Orders заказа'))")
        [(words,)] = cursor.fetchall()
    assert sorted(words) == ["order", "orders", "заказ", "заказа"]

    conversation = ConversationFactory(channel=channel)
    MessageFactory(conversation=conversation, body="The blue kettle leaks")
    other = ConversationFactory(channel=channel)
    MessageFactory(conversation=other, body="kettles are fine")

    # Every word counts, as the beginning of a word: what someone still typing expects.
    assert found_ids(operator, "BLUE KETTLE") == [conversation.pk]
    assert found_ids(operator, "blu kett") == [conversation.pk]
    assert set(found_ids(operator, "kettle")) == {conversation.pk, other.pk}
    assert found_ids(operator, "ettle") == []

    from inbox.selectors import messages_matching_text

    query = messages_matching_text(text="kettle").values("conversation_id")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "message_body_words" in plan, plan


def test_a_phone_typed_in_another_spelling_finds_the_identity(operator, channel):
    customer = CustomerFactory(name="Zed", phone="")
    IdentityFactory(customer=customer, kind="whatsapp", value="+34600123456")
    theirs = ConversationFactory(channel=channel, customer=customer)
    ConversationFactory(channel=channel)

    assert found_ids(operator, "+34 600 12 34 56") == [theirs.pk]


@pytest.mark.real_services
def test_postgresql_answers_every_part_of_a_search_from_an_index(operator, channel):
    from inbox.selectors import conversation_text_match

    # Every part of the match has an index: customers' names and emails, identities and
    # subjects (trigrams, for substrings), the customer's phone and message text.
    search = Conversation.objects.filter(conversation_text_match(text="+34 600 123 456"))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = search.values("pk").query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    for index in (
        "customer_name_trigram",
        "customer_email_trigram",
        "customers_c_phone",
        "identity_value_trigram",
        "conversation_subject_trigram",
        "message_body_words",
    ):
        assert index in plan, plan
    assert "Seq Scan" not in plan, plan


@pytest.mark.real_services
@pytest.mark.parametrize(
    "query",
    ["it's", "a\\b", "&|!():*<->", "'", "''':*", "order #1234", "!!!", "maria@example.com"],
)
def test_postgresql_search_takes_any_text_as_words(operator, channel, query):
    conversation = ConversationFactory(channel=channel)
    MessageFactory(conversation=conversation, body="Order #1234 from maria@example.com: it's a\\b")

    found = found_ids(operator, query)

    assert found in ([], [conversation.pk])
    if query in ("it's", "order #1234", "maria@example.com"):
        assert found == [conversation.pk]


@pytest.mark.skipif(real_services_available(), reason="SQLite matches substrings")
def test_sqlite_matches_substrings_of_message_text(operator, channel):
    conversation = ConversationFactory(channel=channel)
    MessageFactory(conversation=conversation, body="The blue kettle leaks")

    assert found_ids(operator, "kett") == [conversation.pk]


def test_a_nul_character_in_a_search_is_no_server_error(operator, operator_client, client):
    client.force_login(operator)

    # Refused at the door, as any request with text PostgreSQL cannot store.
    assert operator_client.get("/api/v1/customers/", {"q": "a\x00b"}).status_code == 400
    assert operator_client.get("/api/v1/conversations/", {"q": "a\x00b"}).status_code == 400
    assert client.get("/inbox/search/", {"q": "a\x00b"}).status_code == 400
