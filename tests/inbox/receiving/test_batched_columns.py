"""Every INSERT of the batched receiving path names every column of its table, so a field
added to a model cannot be left out of that path (it would store the database's default,
or fail, where the regular path stores the model's)."""

import re
from datetime import UTC, datetime

import pytest
from django.apps import apps

from channels_app.contracts import InboundIdentity, InboundMessage
from channels_app.models import WebhookEvent, WebhookEventStatus
from customers.models import Customer, Identity
from inbox.models import Conversation, Message
from inbox.receiving import batched_statements as statements
from inbox.receiving.rows import model_row
from inbox.receiving.stored import inbound_message_values

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def inserted_columns(sql: str) -> dict[str, set[str]]:
    return {
        table: {column.strip() for column in columns.split(",")}
        for table, columns in re.findall(r"INSERT INTO (\w+) \(([^)]*)\)", sql)
    }


def concrete_columns(model) -> set[str]:
    return {field.column for field in model._meta.concrete_fields if not field.primary_key}


def rows():
    inbound = InboundMessage(
        external_id="m1",
        recipient_address="olga",
        identities=(InboundIdentity(kind="api", value="olga", is_verified=True),),
        text="Hello",
    )
    message = Message(
        channel_id=1, created_at=NOW, updated_at=NOW, **inbound_message_values(inbound)
    )
    raw_event = WebhookEvent(
        channel_id=1,
        body=b"{}",
        body_sha256="0" * 64,
        envelope_sender="",
        status=WebhookEventStatus.PROCESSED,
        created_at=NOW,
        processed_at=NOW,
    )
    customer = Customer(name="Olga", created_at=NOW, updated_at=NOW)
    return {
        "message": model_row(message, filled_by_statement=("conversation_id",)).shape,
        "raw_event": model_row(raw_event).shape,
        "customer": model_row(customer).shape,
        "identity": model_row(
            Identity(kind="api", value="olga", created_at=NOW),
            filled_by_statement=("customer_id",),
        ).shape,
        "conversation": model_row(
            Conversation(channel_id=1, created_at=NOW, updated_at=NOW),
            filled_by_statement=("customer_id",),
        ).shape,
    }


@pytest.mark.parametrize(
    "statement",
    [
        lambda shapes: statements.store_message(shapes["message"], shapes["raw_event"]),
        lambda shapes: statements.store_messages(shapes["message"], shapes["raw_event"]),
        lambda shapes: statements.store_message(shapes["message"], shapes["raw_event"], True),
        lambda shapes: statements.store_messages(shapes["message"], shapes["raw_event"], True),
        lambda shapes: statements.store_first_message(
            shapes["customer"],
            shapes["identity"],
            shapes["conversation"],
            shapes["message"],
            shapes["raw_event"],
        ),
        lambda shapes: statements.store_first_message(
            shapes["customer"],
            shapes["identity"],
            shapes["conversation"],
            shapes["message"],
            shapes["raw_event"],
            True,
        ),
    ],
    ids=[
        "one known sender",
        "known senders together",
        "one known sender, rules queued",
        "known senders together, rules queued",
        "first message",
        "first message, rules queued",
    ],
)
def test_every_insert_of_the_batched_path_names_every_column_of_its_table(statement):
    written = inserted_columns(statement(rows()))

    assert written, "no INSERT found"
    for table, columns in written.items():
        model = next(m for m in apps.get_models() if m._meta.db_table == table)
        assert columns == concrete_columns(model), table


def test_a_first_message_writes_the_tables_of_every_row_it_stores():
    shapes = rows()
    sql = statements.store_first_message(
        shapes["customer"],
        shapes["identity"],
        shapes["conversation"],
        shapes["message"],
        shapes["raw_event"],
    )

    assert set(inserted_columns(sql)) == {
        Customer._meta.db_table,
        Identity._meta.db_table,
        Conversation._meta.db_table,
        Message._meta.db_table,
        WebhookEvent._meta.db_table,
    }
