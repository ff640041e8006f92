"""Text search over conversations: a customer's name, email, phone or identities, the
subject, and public message text."""

import string
from contextlib import suppress
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BooleanField, CharField, F, Func, Q, QuerySet, Value
from django.db.models.expressions import RawSQL

from customers.models import Customer
from customers.selectors import customer_ids_matching_sql, sql_column, sql_contains
from inbox.models import Conversation, Message


class _SimpleTextVector(Func):
    # Spelled exactly as the index of migration 0005 so that PostgreSQL can use it.
    function = "to_tsvector"
    template = "%(function)s('simple', %(expressions)s)"


class _SimpleQuery(Func):
    function = "to_tsquery"
    template = "%(function)s('simple', %(expressions)s)"


class _TextSearchMatch(Func):
    arg_joiner = " @@ "
    template = "(%(expressions)s)"
    output_field = BooleanField()


def _words_as_prefixes(text: str) -> str:
    """A tsquery requiring every word of the text as the start of a word: what someone
    typing "invo" or "kett" expects to find. Words are quoted, so no character of the
    text is read as tsquery syntax."""
    words = (word.strip(string.punctuation) for word in text.split())
    return " & ".join(
        "'" + word.replace("\\", "\\\\").replace("'", "''") + "':*" for word in words if word
    )


def messages_matching_text(*, text: str) -> QuerySet[Message]:
    """Public messages whose body matches: words or their beginnings, full-text
    (GIN-indexed) on PostgreSQL; a case-insensitive substring elsewhere."""
    messages = Message.objects.filter(is_private=False)
    if connection.vendor == "postgresql":
        query = _words_as_prefixes(text)
        if not query:
            return messages.none()
        return messages.filter(
            _TextSearchMatch(_SimpleTextVector(F("body")), _SimpleQuery(Value(query, CharField())))
        )
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
