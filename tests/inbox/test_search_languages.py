"""Searching message text in the customers' languages: another form of a Russian or
English word finds the message, a Polish word is found by its beginning."""

import pytest

from inbox.web.selectors import conversation_search_for_user
from tests.conftest import real_services_available
from tests.factories import ConversationFactory, CustomerFactory, MessageFactory

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    not real_services_available(), reason="SQLite matches substrings, without stems"
)


def found_ids(user, query: str) -> list[int]:
    return [row["id"] for row in conversation_search_for_user(user=user, query=query)]


def conversation_saying(channel, body: str, *, language: str = ""):
    conversation = ConversationFactory(channel=channel, customer=CustomerFactory(language=language))
    MessageFactory(conversation=conversation, body=body)
    return conversation


@postgresql_only
@pytest.mark.parametrize(
    ("body", "query"),
    [
        ("Где мой заказ? Жду уже неделю.", "заказа"),
        ("Где мой заказ? Жду уже неделю.", "Заказом"),
        ("Заказы не приходят", "заказ"),
        ("I placed an order on Monday", "orders"),
        ("Both orders arrived broken", "order"),
        ("The parcel was delivered yesterday", "delivering"),
        ("Moje zamówienie nie dotarło", "zamówie"),
        ("Moje zamówienie nie dotarło", "ZAMÓWIENIE"),
        ("Proszę o fakturę do zamówienia", "faktur zamówie"),
    ],
)
def test_a_word_in_another_form_or_begun_finds_the_message(operator, channel, body, query):
    conversation = conversation_saying(channel, body)
    conversation_saying(channel, "Printer jam again / Принтер снова зажевал бумагу")

    assert found_ids(operator, query) == [conversation.pk]


@postgresql_only
@pytest.mark.parametrize(
    ("body", "query"),
    [
        # Another word that only begins alike is not the same word.
        ("Новый заказчик из Казани", "заказа"),
        ("An ordinary question", "orders"),
        # Every word counts, in whichever form it was written.
        ("Где мой заказ?", "заказа посылка"),
        # A Polish word in another form is not stemmed: only its beginning finds it.
        ("Moje zamówienie nie dotarło", "zamówieniem"),
    ],
)
def test_a_different_word_finds_nothing(operator, channel, body, query):
    conversation_saying(channel, body)

    assert found_ids(operator, query) == []


@postgresql_only
def test_a_russian_customers_message_is_found_by_another_inflection_with_its_snippet(
    operator, channel
):
    theirs = conversation_saying(
        channel,
        "Здравствуйте! " + "Я писал вам раньше. " * 10 + "Мой заказ 4242 так и не пришёл.",
        language="ru",
    )
    conversation_saying(channel, "Спасибо, всё получили", language="ru")

    [found] = conversation_search_for_user(user=operator, query="заказы 4242")

    assert found["id"] == theirs.pk
    assert "Мой заказ 4242 так и не пришёл." in found["snippet"]
    assert found["snippet"].startswith("…")


@postgresql_only
def test_the_api_list_finds_stemmed_words_in_russian_and_english(operator_client, channel):
    russian = conversation_saying(channel, "Оплатил заказ картой", language="ru")
    english = conversation_saying(channel, "Where are my orders?", language="en")
    conversation_saying(channel, "Hello there", language="pl")

    def ids(query: str) -> set[int]:
        response = operator_client.get("/api/v1/conversations/", {"q": query})
        assert response.status_code == 200
        return {item["id"] for item in response.json()["results"]}

    assert ids("заказом") == {russian.pk}
    assert ids("order") == {english.pk}
    # What was found before still is: the beginning of a word as written.
    assert ids("Опла") == {russian.pk}


@postgresql_only
def test_stop_words_alone_still_match_as_typed(operator, channel):
    # Stemming leaves out words such as "the" and "и"; typed alone they still match the
    # words they begin.
    conversation = conversation_saying(channel, "The end и всё")

    assert found_ids(operator, "the") == [conversation.pk]
    assert found_ids(operator, "и") == [conversation.pk]


@pytest.mark.skipif(real_services_available(), reason="PostgreSQL matches words")
def test_sqlite_finds_russian_and_polish_text_by_substring(operator, channel):
    russian = conversation_saying(channel, "Где мой заказа номер?")
    polish = conversation_saying(channel, "Moje zamówienie nie dotarło")

    assert found_ids(operator, "заказ") == [russian.pk]
    assert found_ids(operator, "zamówie") == [polish.pk]


@postgresql_only
def test_the_inbox_search_box_finds_a_polish_word_by_its_beginning(client, operator, channel):
    client.force_login(operator)
    theirs = conversation_saying(channel, "Dzień dobry, moje zamówienie nie dotarło", language="pl")

    response = client.get("/inbox/search/", {"q": "zamówie"})

    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["id"] == theirs.pk
    assert item["snippet"] == "Dzień dobry, moje zamówienie nie dotarło"


@postgresql_only
def test_a_word_that_is_its_own_stem_is_searched_once_and_another_form_also_by_its_stem():
    from django.db import connection

    from inbox.selectors import messages_matching_text

    def planned_query(text: str) -> str:
        sql, params = messages_matching_text(text=text).query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}", params)
            return "\n".join(row[0] for row in cursor.fetchall())

    # What PostgreSQL plans with: no stem where the word is its own (the estimate, and
    # so the plan, stays that of a search by beginnings), the stem where it differs.
    assert "@@ '''order'':* & ''4242'':*'::tsquery" in planned_query("order 4242")
    assert "@@ '''orders'':* | ''order'''::tsquery" in planned_query("orders")
    assert "@@ '''заказа'':* | ''заказ'''::tsquery" in planned_query("заказа")
