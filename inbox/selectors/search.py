"""Text search over conversations: a customer's name, email, phone or identities, the
subject, and public message text."""

import string
from contextlib import suppress
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BooleanField, CharField, F, Func, Q, QuerySet
from django.db.models.expressions import RawSQL

from customers.models import Customer
from customers.selectors import customer_ids_matching_sql, sql_column, sql_contains
from inbox.models import Conversation, Message

# The text search configurations of message words. `simple` keeps each word as written
# (lower-cased): what a word typed in part is matched against, and all there is for a
# language PostgreSQL has no stemmer for, such as Polish. `russian` stems Cyrillic words
# with the Russian stemmer and Latin ones with the English stemmer (PostgreSQL maps its
# ASCII words to `english_stem`), so that "заказа" finds "заказ" and "orders" finds "order"
# whichever language a customer, an operator or a single message writes in.
WORDS_AS_WRITTEN = "simple"
WORDS_STEMMED = "russian"


class _MessageWords(Func):
    # The function the inbox migration message_body_words_index defines and indexes:
    # to_tsvector(WORDS_AS_WRITTEN, body) || to_tsvector(WORDS_STEMMED, body).
    function = "inbox_message_words"


class _TextSearchMatch(Func):
    arg_joiner = " @@ "
    template = "(%(expressions)s)"
    output_field = BooleanField()


def _word_query(word: str) -> RawSQL:
    """One word as a tsquery: the beginning of a word as written, or a word with its stem.
    The stem is left out where it is the word itself ("order", "4242"), which the beginning
    already finds: PostgreSQL folds the CASE while planning, and estimates the simpler
    query as it did before stems were searched. A stop word's stem is an empty query,
    which leaves its beginning alone. The word is quoted, so no character of it is read
    as tsquery syntax."""
    quoted = "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"
    beginning = f"{quoted}:*"
    written, stemmed = (f"to_tsquery('{name}', %s)" for name in (WORDS_AS_WRITTEN, WORDS_STEMMED))
    return RawSQL(
        f"(CASE WHEN {stemmed} = {written} THEN {written} ELSE {written} || {stemmed} END)",
        [quoted, quoted, beginning, beginning, quoted],
        output_field=CharField(),
    )


class _Every(Func):
    arg_joiner = " && "
    template = "(%(expressions)s)"
    output_field = CharField()


def _every_word_query(words: list[str]) -> Func:
    """A tsquery requiring each word, as the beginning of a word written in a message or
    as a word with the same stem."""
    return _Every(*(_word_query(word) for word in words))


def _search_words(text: str) -> list[str]:
    """The words of a search, without the punctuation around them."""
    words = (word.strip(string.punctuation) for word in text.split())
    return [word for word in words if word]


def messages_matching_text(*, text: str) -> QuerySet[Message]:
    """Public messages whose body has every word of the text: as the beginning of a word
    ("kett" finds "kettle") or in another form of it ("orders" finds "order", "заказа"
    finds "заказ"), full-text (GIN-indexed) on PostgreSQL; a case-insensitive substring
    elsewhere."""
    messages = Message.objects.filter(is_private=False)
    if connection.vendor == "postgresql":
        words = _search_words(text)
        if not words:
            return messages.none()
        return messages.filter(_TextSearchMatch(_MessageWords(F("body")), _every_word_query(words)))
    return messages.filter(body__icontains=text)


def conversation_text_match(*, text: str) -> Q:
    """Conversations whose customer (name, email, phone, any identity), subject or any
    public message matches the text."""
    return Q(pk__in=RawSQL(*conversation_ids_matching_sql(text=text)))


def conversation_ids_matching_sql(*, text: str) -> tuple[str, list[Any]]:
    """SQL (and its parameters) selecting the ids of conversation_text_match."""
    # A union of ids, each part answered by its own index: over conditions on other tables
    # OR-ed together PostgreSQL would test every conversation. Written out as SQL, as the
    # customers' part is (customer_ids_matching_sql), for the same reason.
    conversation_id, customer = sql_column(Conversation, "id"), sql_column(Conversation, "customer")
    customers = connection.ops.quote_name(Customer._meta.db_table)
    conversations = connection.ops.quote_name(Conversation._meta.db_table)
    matching_customers, customer_params = customer_ids_matching_sql(text=text)
    subject, subject_params = sql_contains(sql_column(Conversation, "subject"), text)
    sql = (
        f"SELECT {conversation_id} FROM {conversations} WHERE {customer} IN "
        f"(SELECT {sql_column(Customer, 'id')} FROM {customers} "
        f"WHERE {sql_column(Customer, 'merged_into')} IS NULL "
        f"AND {sql_column(Customer, 'id')} IN ({matching_customers})) "
        f"UNION SELECT {conversation_id} FROM {conversations} WHERE {subject}"
    )
    params = [*customer_params, *subject_params]
    with suppress(EmptyResultSet):  # no word to look for in message text
        by_message, message_params = (
            messages_matching_text(text=text).values("conversation_id").query.sql_with_params()
        )
        sql, params = f"{sql} UNION {by_message}", [*params, *message_params]
    return sql, list(params)
