"""An email costs the same whatever the mailbox holds: every statement it runs is answered
from an index on tables large enough that PostgreSQL would scan them if it could, and the
number of statements depends neither on the stored mail nor on the References a reply
carries."""

import re
from email.message import EmailMessage
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels_app.adapters.email import EmailAdapter
from channels_app.adapters.email.addressing import message_id_for
from channels_app.mail_batches import store_together
from channels_app.services import mail_receive
from customers.models import Identity
from inbox.models import Message
from inbox.outgoing_webhooks.emitting import events_subscribed
from inbox.rule_events import watched_triggers
from inbox.sla.policies import policies_in_force
from tests.channels_app.email.helpers import delivery_status_report
from tests.factories import ChannelFactory, ConversationFactory, IdentityFactory, MessageFactory

pytestmark = pytest.mark.django_db

SUPPORT = "support@acme.test"
STORED = 60_000
# Tables whose size grows with the mail kept; the small ones (channels, teams) may be scanned.
GROWING_TABLES = (
    "inbox_message",
    "inbox_conversation",
    "customers_identity",
    "customers_customer",
    "channels_app_webhookevent",
)


def mail(*, sender: str, message_id: str, references: list[str], to: str = SUPPORT) -> bytes:
    message = EmailMessage()
    message["From"] = f"Lena Novak <{sender}>"
    message["To"] = to
    message["Subject"] = "Re: my order"
    message["Message-ID"] = f"<{message_id}>"
    if references:
        message["In-Reply-To"] = f"<{references[-1]}>"
        message["References"] = " ".join(f"<{reference}>" for reference in references)
    message.set_content("Any news about it?\n\nOn Monday, support wrote:\n> We are on it.")
    return message.as_bytes()


def load_stored_mail(channel, count: int) -> None:
    """`count` earlier messages with Message-IDs on the channel, their customers and
    conversations, inserted in bulk by PostgreSQL itself, then ANALYZEd."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_customer (name, email, phone, attributes, created_at, "
            "updated_at) SELECT 'Stored ' || i, 'stored' || i || '@example.org', '', '{}', "
            "now(), now() FROM generate_series(1, %s) i",
            [count // 10],
        )
        cursor.execute(
            "INSERT INTO customers_identity (customer_id, kind, value, is_reachable, created_at) "
            "SELECT id, 'email', email, true, now() FROM customers_customer "
            "WHERE email LIKE 'stored%%@example.org'"
        )
        cursor.execute(
            "INSERT INTO inbox_conversation (customer_id, channel_id, recipient_address, status, "
            "priority, subject, last_message_at, created_at, updated_at) SELECT id, %s, email, "
            "'resolved', 'none', '', now(), now(), now() FROM customers_customer "
            "WHERE email LIKE 'stored%%@example.org'",
            [channel.pk],
        )
        cursor.execute(
            "INSERT INTO inbox_message (conversation_id, channel_id, direction, body, is_private, "
            "status, error, external_id, delivery_attempts, created_at, updated_at) "
            "SELECT c.id, c.channel_id, CASE WHEN n %% 2 = 0 THEN 'in' ELSE 'out' END, "
            "'Message ' || n, false, 'received', '{}', 'stored.' || c.id || '.' || n || "
            "'@example.org', 0, now(), now() FROM inbox_conversation c "
            "CROSS JOIN generate_series(1, 10) n WHERE c.channel_id = %s",
            [channel.pk],
        )
        for table in GROWING_TABLES:
            cursor.execute(f"ANALYZE {table}")


def conversation_with_our_mail(channel):
    """Lena's conversation on the channel, where we wrote to her as ours.1@acme.test."""
    conversation = ConversationFactory(channel=channel, recipient_address="lena@example.com")
    IdentityFactory(customer=conversation.customer, kind="email", value="lena@example.com")
    MessageFactory(
        conversation=conversation, direction="out", status="sent", external_id="ours.1@acme.test"
    )
    return conversation


def plan_of(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def scanned_tables(plan: str) -> set[str]:
    return set(re.findall(r"Seq Scan on (\w+)", plan))


@pytest.fixture
def large_mailbox(postgres_only):
    channel = ChannelFactory(kind="email", config={"address": SUPPORT})
    load_stored_mail(channel, STORED)
    return channel


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's")


def test_the_table_is_large_enough_that_a_lookup_without_an_index_is_a_scan(large_mailbox):
    # The threading lookup as it was: the channel and the ids, no direction.
    plan = plan_of(
        f"SELECT id FROM inbox_message WHERE channel_id = {large_mailbox.pk} AND external_id "
        "IN ('stored.1.1@example.org', 'unknown@example.net')"
    )

    assert "inbox_message" in scanned_tables(plan)


@pytest.mark.parametrize(
    "case", ["reply to our mail", "reply to the reply address", "new sender", "bounce of our mail"]
)
def test_every_statement_of_an_email_uses_an_index(large_mailbox, case):
    channel = large_mailbox
    conversation = conversation_with_our_mail(channel)
    references = [f"unknown.{number}@elsewhere.example" for number in range(18)]
    if case == "bounce of our mail":
        ours = MessageFactory(conversation=conversation, direction="out", status="sent")
        ours.external_id = message_id_for(channel, ours.pk)
        ours.save(update_fields=["external_id"])
        raw = delivery_status_report(
            "lena@example.com",
            status="5.1.1",
            diagnostic="550 5.1.1 <lena@example.com>: User unknown",
            original_message_id=ours.external_id,
        )
        with CaptureQueriesContext(connection) as captured:
            mail_receive(channel=channel, raw=raw)
        ours.refresh_from_db()
        assert ours.status == "failed"
        assert not Identity.objects.get(kind="email", value="lena@example.com").is_reachable
        assert_every_read_uses_an_index(captured)
        return
    if case == "reply to our mail":
        message_id, sender = "reply.1@example.com", "lena@example.com"
        raw = mail(
            sender=sender, message_id=message_id, references=[*references, "ours.1@acme.test"]
        )
    elif case == "reply to the reply address":
        message_id, sender = "reply.2@example.com", "lena@example.com"
        reply_address = EmailAdapter(channel).reply_address(conversation.pk)
        raw = mail(sender=sender, message_id=message_id, references=references, to=reply_address)
    else:
        message_id, sender = "first.1@example.net", "new@example.net"
        raw = mail(sender=sender, message_id=message_id, references=[])

    with CaptureQueriesContext(connection) as captured:
        mail_receive(channel=channel, raw=raw)

    stored = Message.objects.get(external_id=message_id)
    assert (stored.conversation_id == conversation.pk) == (case != "new sender")
    assert_every_read_uses_an_index(captured)


def assert_every_read_uses_an_index(captured: CaptureQueriesContext) -> None:
    for sql in (query["sql"] for query in captured.captured_queries):
        if sql.startswith(("SELECT", "UPDATE", "DELETE")):
            plan = plan_of(sql)
            assert not scanned_tables(plan) & set(GROWING_TABLES), f"{sql}\n{plan}"


def receive_counting(channel, raw: bytes) -> list[str]:
    # Which triggers automation rules watch is read once every few seconds per process.
    watched_triggers()
    with CaptureQueriesContext(connection) as captured:
        mail_receive(channel=channel, raw=raw)
    return [query["sql"] for query in captured.captured_queries]


def test_a_reply_costs_the_same_statements_however_many_references_it_names(db):
    channel = ChannelFactory(kind="email", config={"address": SUPPORT})
    conversation = conversation_with_our_mail(channel)
    events_subscribed()  # read every few seconds, not per email
    few = receive_counting(
        channel,
        mail(
            sender="lena@example.com", message_id="a@example.com", references=["ours.1@acme.test"]
        ),
    )
    many = receive_counting(
        channel,
        mail(
            sender="lena@example.com",
            message_id="b@example.com",
            references=[*(f"x{number}@elsewhere.example" for number in range(40)), "a@example.com"],
        ),
    )

    assert len(few) == len(many)
    assert Message.objects.filter(conversation=conversation, direction="in").count() == 2


@pytest.mark.parametrize(
    ("case", "statements"),
    [
        # savepoint, duplicate check, sender, the conversations the references name,
        # message, conversation moved up, raw event, release (the sender known reachable:
        # no write)
        ("reply", 8),
        # savepoint, duplicate check, sender, customer, identity, team, conversation,
        # message, raw event, release
        ("new sender", 10),
        # savepoint, duplicate check, the message stored already, raw event, release
        ("duplicate", 5),
    ],
)
def test_statements_per_email(db, case, statements):
    channel = ChannelFactory(kind="email", config={"address": SUPPORT})
    conversation = conversation_with_our_mail(channel)
    reply = mail(
        sender="lena@example.com", message_id="r@example.com", references=["ours.1@acme.test"]
    )
    if case == "duplicate":
        mail_receive(channel=channel, raw=reply)
    raw = (
        mail(sender="new@example.net", message_id="n@example.net", references=[])
        if case == "new sender"
        else reply
    )
    # The SLA policies and the events webhooks want are read once every few seconds per
    # process, not per email.
    policies_in_force()
    events_subscribed()

    executed = receive_counting(channel, raw)

    assert len(executed) == statements, "\n".join(executed)
    if case == "reply":
        assert Message.objects.get(external_id="r@example.com").conversation_id == conversation.pk


def test_mail_stored_together_costs_what_each_costs_alone_and_one_commit(db):
    channel = ChannelFactory(kind="email", config={"address": SUPPORT})
    conversation_with_our_mail(channel)
    events_subscribed()  # read every few seconds, not per email
    replies = [
        mail(
            sender="lena@example.com",
            message_id=f"together.{number}@example.com",
            references=["ours.1@acme.test"],
        )
        for number in range(8)
    ]
    watched_triggers()

    with CaptureQueriesContext(connection) as captured:
        store_together([partial(mail_receive, channel=channel, raw=raw) for raw in replies])

    executed = [query["sql"] for query in captured.captured_queries]
    # Each reply's 8 (as alone), and the batch's own savepoint and release (in a test, the
    # transaction each commits is itself a savepoint of the test's).
    assert len(executed) == 8 * 8 + 2, "\n".join(executed)
    assert Message.objects.filter(external_id__startswith="together.").count() == 8
