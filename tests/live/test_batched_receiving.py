"""The batched receiving path stores what the regular path would, and declines everything else."""

import asyncio
import contextlib
import hashlib
import json
import os
import time

import httpx
import pytest
from asgiref.testing import ApplicationCommunicator
from channels.layers import get_channel_layer
from django.db import connection
from django.forms.models import model_to_dict

from channels_app import webhook_edge
from channels_app.contracts import WebhookRequest
from channels_app.models import WebhookEvent
from channels_app.services import channel_get_active
from customers.models import Identity
from inbox import realtime
from inbox.models import Conversation, Message
from inbox.outgoing_webhooks.emitting import events_subscribed
from inbox.receiving import batched
from inbox.services import conversation_resolve
from tests.channels_app.test_api_webhook import post_webhook
from tests.helpers import api_payload, sign
from tests.live.conftest import hold_in_another_transaction
from tests.live.test_live_server import events_until, websocket

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def fast(
    channel, body: bytes, signature: str | None = None, content_type: str = "application/json"
):
    answer, _ = fast_and_broadcast(channel, body, signature, content_type)
    return answer


def fast_and_broadcast(
    channel, body: bytes, signature: str | None = None, content_type: str = "application/json"
) -> tuple[dict | None, list[dict]]:
    """The fast path's answer, and what it broadcast to supervisors meanwhile."""
    answers, broadcasts = fast_together(channel, [(body, signature, content_type)])
    return answers[0], broadcasts


async def fast_answer(channel, body: bytes, signature: str | None, content_type: str):
    request = WebhookRequest(
        body=body,
        headers={"x-switchboard-signature": signature or sign(body), "content-type": content_type},
    )
    async with webhook_edge.received(
        kind=channel.kind, public_id=str(channel.public_id), request=request
    ) as answer:
        return answer


def fast_together(
    channel,
    deliveries: list[tuple[bytes, str | None, str]],
    *,
    meanwhile=None,
    listen: bool = True,
) -> tuple[list, list[dict]]:
    """The fast path's answers to deliveries that arrive at once (one web process), and
    what it broadcast to supervisors. `meanwhile(tasks)` runs while they are under way; a
    request it cancels answers CancelledError."""

    async def attempt():
        layer = get_channel_layer()
        listener = None
        if listen:
            listener = await layer.new_channel()
            await layer.group_add(realtime.ALL_CONVERSATIONS_GROUP, listener)
        try:
            tasks = [
                asyncio.ensure_future(fast_answer(channel, body, signature, content_type))
                for body, signature, content_type in deliveries
            ]
            if meanwhile is not None:
                await meanwhile(tasks)
            # Bounded: a request left waiting for good fails the test instead of hanging it.
            answers = await asyncio.wait_for(
                asyncio.gather(*tasks, return_exceptions=True), timeout=15
            )
            broadcasts = []
            with contextlib.suppress(TimeoutError):
                while listener is not None:
                    event = await asyncio.wait_for(layer.receive(listener), timeout=0.5)
                    broadcasts.append(json.loads(event["text"]))
            return answers, broadcasts
        finally:
            if listener is not None:
                await layer.group_discard(realtime.ALL_CONVERSATIONS_GROUP, listener)
            await batched.close()

    channel_get_active(kind=channel.kind, public_id=str(channel.public_id))

    # As the regular path keeps it: which events outgoing webhooks want (none).

    events_subscribed()
    return asyncio.run(attempt())


@pytest.fixture
def known_sender(client, channel):
    post_webhook(client, channel, api_payload(message_id="first", email="maria@example.com"))
    return Conversation.objects.get()


def test_a_known_sender_in_an_open_conversation_takes_the_fast_path(channel, known_sender):
    body = api_payload(message_id="second", text="Any news?", email="maria@example.com")

    answer = fast(channel, body)

    message = Message.objects.get(external_id="second")
    assert answer == {
        "status": "ok",
        "messages": [{"id": message.pk, "conversation_id": known_sender.pk, "duplicate": False}],
    }
    assert (message.conversation_id, message.body, message.direction, message.status) == (
        known_sender.pk,
        "Any news?",
        "in",
        "received",
    )
    refreshed = Conversation.objects.get()
    assert refreshed.last_message_at > known_sender.last_message_at
    assert refreshed.last_inbound_at == refreshed.last_message_at
    assert WebhookEvent.objects.get(body_sha256__isnull=False, body=body).status == "processed"


@pytest.mark.parametrize(
    "case",
    ["new identity", "duplicate", "attachment", "bad signature", "resolved", "new email", "name"],
)
def test_anything_else_is_left_to_the_regular_path(channel, known_sender, operator, case):
    body = api_payload(message_id="other", email="maria@example.com")
    signature = None
    if case == "new identity":
        # Maria, known by her email, writes with an API id we have not seen.
        body = api_payload(message_id="other", sender_id="someone-new", email="maria@example.com")
    elif case == "duplicate":
        body = api_payload(message_id="first", email="maria@example.com")
    elif case == "attachment":
        payload = json.loads(body)
        payload["attachments"] = [{"url": "https://cdn.example.com/a.png"}]
        body = json.dumps(payload).encode()
    elif case == "bad signature":
        signature = sign(b"something else")
    elif case == "resolved":
        conversation_resolve(conversation=known_sender, resolved_by=operator)
    elif case == "new email":
        body = api_payload(message_id="other", email="maria.new@example.com")
    elif case == "name":
        known_sender.customer.__class__.objects.update(name="")
    before = Message.objects.count()
    events_before = WebhookEvent.objects.count()
    last_message_at = Conversation.objects.get(pk=known_sender.pk).last_message_at

    assert fast(channel, body, signature) is None
    # Declining leaves no trace: the regular path then does (or refuses) all of it.
    assert Message.objects.count() == before
    assert Conversation.objects.get(pk=known_sender.pk).last_message_at == last_message_at
    assert WebhookEvent.objects.count() == events_before


def test_many_messages_over_the_wire_all_arrive_once_and_live(
    live_server_url, channel, operator, known_sender
):
    url = f"{live_server_url}/webhooks/api/{channel.public_id}/"
    with websocket(live_server_url, operator) as socket, httpx.Client() as http:
        for index in range(20):
            body = api_payload(message_id=f"burst-{index}", text=f"message {index}",
                               email="maria@example.com")  # fmt: skip
            response = http.post(
                url,
                content=body,
                headers={"Content-Type": "application/json", "X-Switchboard-Signature": sign(body)},
            )
            assert response.status_code == 200, response.text
            assert response.json()["messages"][0]["conversation_id"] == known_sender.pk
        again = http.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", "X-Switchboard-Signature": sign(body)},
        )
        assert again.json()["messages"][0]["duplicate"] is True
        bodies = set()
        deadline = time.monotonic() + 10
        while len(bodies) < 20 and time.monotonic() < deadline:
            bodies.add(events_until(socket, "message.created")["message"]["body"])

    assert bodies == {f"message {index}" for index in range(20)}
    assert Message.objects.filter(external_id__startswith="burst-").count() == 20
    assert Conversation.objects.count() == 1


def test_email_is_left_to_the_regular_path_which_threads_it(client, channel):
    email_channel = channel.__class__.objects.create(
        kind="email", name="Mail", config={"address": "help@example.com"}
    )
    email_channel.set_secrets({"secret": "mail-secret"})
    email_channel.save()
    first = (
        b"From: maria@example.com\r\nTo: help@example.com\r\nSubject: A\r\n"
        b"Message-ID: <a-1@example.com>\r\n\r\nFirst question\r\n"
    )
    client.post(
        f"/webhooks/email/{email_channel.public_id}/",
        data=first,
        content_type="message/rfc822",
        HTTP_X_SWITCHBOARD_SIGNATURE=sign(first, "mail-secret"),
    )
    second = first.replace(b"<a-1@", b"<a-2@").replace(b"First", b"Unrelated")

    answer = fast(email_channel, second, sign(second, "mail-secret"), content_type="message/rfc822")

    assert answer is None
    assert Message.objects.filter(channel=email_channel).count() == 1


def stored_shape(conversation: Conversation, body: bytes) -> dict:
    """What was stored for a first message, without ids, times and the sender's own data."""
    sender_specific = {"id", "customer", "name", "email", "recipient_address", "external_id"}
    sender_specific |= {"body", "conversation", "sent_at", "last_message_at", "last_inbound_at"}

    def fields(instance) -> dict:
        return {k: v for k, v in model_to_dict(instance).items() if k not in sender_specific}

    customer = conversation.customer
    message = conversation.messages.get()
    return {
        "customer": fields(customer),
        "identity kinds": sorted(customer.identities.values_list("kind", "is_reachable")),
        "conversation": fields(conversation),
        "bumped": conversation.last_message_at is not None
        and conversation.last_message_at == conversation.last_inbound_at,
        "message": fields(message),
        "raw event": list(
            WebhookEvent.objects.filter(body_sha256=hashlib.sha256(body).hexdigest()).values_list(
                "status", "error", "attempts"
            )
        ),
    }


def test_a_new_senders_first_message_is_stored_as_the_regular_path_stores_it(client, channel):
    regular_body = api_payload(
        message_id="r-1", sender_id="olga-1", name="Olga", text="Hi", email="olga@example.com"
    )
    post_webhook(client, channel, regular_body)
    regular = stored_shape(Conversation.objects.get(), regular_body)
    fast_body = api_payload(
        message_id="f-1", sender_id="nina-1", name="Nina", text="Hi", email="Nina@Example.com"
    )

    answer, broadcasts = fast_and_broadcast(channel, fast_body)

    assert answer is not None, "the fast path declined a new sender"
    conversation = Conversation.objects.get(customer__name="Nina")
    assert answer["messages"] == [
        {"id": conversation.messages.get().pk, "conversation_id": conversation.pk,
         "duplicate": False}
    ]  # fmt: skip
    assert stored_shape(conversation, fast_body) == regular
    assert conversation.customer.email == "nina@example.com"
    assert set(conversation.customer.identities.values_list("kind", "value")) == {
        ("api", f"{channel.public_id}:nina-1"),
        ("email", "nina@example.com"),
    }
    assert conversation.recipient_address == "nina-1"
    assert conversation.team == channel.teams.get()
    # The same events as the regular path, in the same order.
    assert [event["type"] for event in broadcasts] == ["message.created", "conversation.created"]
    assert broadcasts[1]["conversation"]["customer"] == {
        "id": conversation.customer_id,
        "name": "Nina",
    }
    assert broadcasts[1]["conversation"]["team"]["id"] == conversation.team_id


def test_a_first_message_that_collides_changes_nothing_and_is_left_to_the_regular_path(
    client, channel
):
    body = api_payload(message_id="dup-1", sender_id="nina-1", name="Nina", email="n@example.com")
    post_webhook(client, channel, body)
    # The same message id again, now from a sender nobody knows: the insert collides.
    other = api_payload(message_id="dup-1", sender_id="zoe-1", name="Zoe", email="z@example.com")
    counts = (Message.objects.count(), Conversation.objects.count(), WebhookEvent.objects.count())

    assert fast(channel, other) is None
    assert not Conversation.objects.filter(customer__name="Zoe").exists()
    assert (
        Message.objects.count(),
        Conversation.objects.count(),
        WebhookEvent.objects.count(),
    ) == counts
    assert not Identity.objects.filter(value="zoe-1").exists()


# Messages that arrive together are written together: one statement for all the known
# senders' messages of a web process that wait while the previous statement runs.


FIRST = "Where is my order?"


def known_customer(client, channel, sender_id: str) -> Conversation:
    """A customer who wrote once through the regular path and has an open conversation."""
    post_webhook(
        client,
        channel,
        api_payload(
            message_id=f"{sender_id}-first",
            sender_id=sender_id,
            text=FIRST,
            name=sender_id.title(),
            email=f"{sender_id}@example.com",
        ),
    )
    return Conversation.objects.get(customer__name=sender_id.title())


def delivery(sender_id: str, message_id: str, text: str = "Hello") -> tuple[bytes, None, str]:
    body = api_payload(
        message_id=message_id,
        sender_id=sender_id,
        name=sender_id.title(),
        text=text,
        email=f"{sender_id}@example.com",
    )
    return body, None, "application/json"


def written_by_one_transaction(*external_ids: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT xmin::text FROM inbox_message WHERE external_id = ANY(%s)",
            [list(external_ids)],
        )
        return len(cursor.fetchall()) == 1


def bodies_of(conversation: Conversation) -> list[str]:
    return list(conversation.messages.order_by("id").values_list("body", flat=True))


def test_messages_arriving_together_are_stored_together_as_each_would_be_alone(
    client, channel, operator
):
    maria = known_customer(client, channel, "maria")
    olga = known_customer(client, channel, "olga")
    petra = known_customer(client, channel, "petra")
    conversation_resolve(conversation=petra, resolved_by=operator)
    alone = fast(channel, delivery("maria", "maria-alone", "Stored alone")[0])
    events_before = WebhookEvent.objects.count()
    deliveries = [
        delivery("maria", "maria-2", "One"),
        delivery("olga", "olga-2", "Two"),
        delivery("maria", "maria-3", "Three"),
        delivery("petra", "petra-2", "Into a resolved conversation"),
        delivery("maria", "maria-first", FIRST),  # an earlier delivery again
        delivery("nina", "nina-1", "A new sender"),
        delivery("olga", "olga-2", "Two"),  # the same delivery twice in one burst
    ]

    answers, broadcasts = fast_together(channel, deliveries)

    stored = {message.external_id: message for message in Message.objects.all()}
    assert [answer and answer["messages"][0]["id"] for answer in answers] == [
        stored["maria-2"].pk,
        stored["olga-2"].pk,
        stored["maria-3"].pk,
        None,
        None,
        stored["nina-1"].pk,
        None,  # the twin, left to the regular path, which answers it as a duplicate
    ]
    assert bodies_of(maria) == [FIRST, "Stored alone", "One", "Three"]
    assert bodies_of(olga) == [FIRST, "Two"]
    assert bodies_of(petra) == [FIRST]
    assert Conversation.objects.get(pk=petra.pk).status == "resolved"
    # Written by one statement (one transaction, one clock reading).
    # maria-2 and olga-2 went in one statement; the new sender's in one of its own.
    assert written_by_one_transaction("maria-2", "olga-2")
    assert not written_by_one_transaction("maria-2", "nina-1")
    # Stored field for field as a message stored alone.
    unique = {"id", "external_id", "body", "created_at", "updated_at"}

    def fields(message):
        return {k: v for k, v in model_to_dict(message).items() if k not in unique}

    assert alone is not None
    assert fields(stored["maria-2"]) == fields(stored["maria-alone"])
    for conversation in (maria, olga):
        refreshed = Conversation.objects.get(pk=conversation.pk)
        assert refreshed.last_message_at == refreshed.last_inbound_at
        assert refreshed.last_message_at == conversation.messages.latest("id").created_at
    # A raw event for each message stored, none for what was declined.
    assert WebhookEvent.objects.count() == events_before + 4
    for key in ("maria-2", "olga-2", "maria-3", "nina-1"):
        body = next(body for body, _, _ in deliveries if f'"{key}"'.encode() in body)
        assert WebhookEvent.objects.get(body=body).status == "processed"
    created = [
        event["message"]["body"] for event in broadcasts if event["type"] == "message.created"
    ]
    assert sorted(created) == sorted(["One", "Two", "Three", "A new sender"])
    assert created.index("One") < created.index("Three")
    assert [event["type"] for event in broadcasts].count("conversation.created") == 1


def test_a_burst_larger_than_one_statement_takes_arrives_whole_and_in_order(client, channel):
    senders = [f"sender{index}" for index in range(batched.MAX_BATCH + 6)]
    conversations = {sender: known_customer(client, channel, sender) for sender in senders}
    deliveries = [
        delivery(sender, f"{sender}-{turn}", f"{sender} says {turn}")
        for turn in range(2)
        for sender in senders
    ]

    answers, broadcasts = fast_together(channel, deliveries)

    assert all(isinstance(answer, dict) for answer in answers), answers
    for sender in senders:
        assert bodies_of(conversations[sender]) == [FIRST, f"{sender} says 0", f"{sender} says 1"]
    # The first MAX_BATCH waiting messages go in one statement.
    assert written_by_one_transaction(*(f"{sender}-0" for sender in senders[: batched.MAX_BATCH]))
    assert not written_by_one_transaction(*(f"{sender}-0" for sender in senders))
    created = [
        event["message"]["body"] for event in broadcasts if event["type"] == "message.created"
    ]
    expected = [f"{sender} says {turn}" for turn in range(2) for sender in senders]
    assert sorted(created) == sorted(expected)


def test_a_new_sender_writing_three_times_at_once_is_one_customer_in_order(channel):
    deliveries = [delivery("nina", f"nina-{index}", f"part {index}") for index in range(3)]

    answers, broadcasts = fast_together(channel, deliveries)

    assert all(isinstance(answer, dict) for answer in answers), answers
    conversation = Conversation.objects.get()
    assert bodies_of(conversation) == ["part 0", "part 1", "part 2"]
    assert [event["type"] for event in broadcasts] == [
        "message.created",
        "conversation.created",
        "message.created",
        "message.created",
    ]


async def first_message_taken_by_a_writer() -> None:
    while batched._writer is None or batched._writer.waiting or not batched._writer.tasks:
        await asyncio.sleep(0)


async def first_message_still_waiting() -> None:
    pass


@pytest.mark.parametrize("moment", [first_message_still_waiting, first_message_taken_by_a_writer])
def test_a_request_that_goes_away_holds_up_none_of_the_senders_next_messages(channel, moment):
    deliveries = [delivery("nina", f"nina-{index}", f"part {index}") for index in range(3)]

    async def cancel_the_first(tasks):
        await moment()
        tasks[0].cancel()

    answers, _ = fast_together(channel, deliveries, meanwhile=cancel_the_first)

    assert all(isinstance(answer, dict) for answer in answers[1:]), answers
    conversation = Conversation.objects.get()
    # The first message is stored if a writer had taken it, and dropped if it still waited.
    assert bodies_of(conversation)[-2:] == ["part 1", "part 2"]


def test_a_conversation_another_transaction_holds_is_left_to_the_regular_path(client, channel):
    maria = known_customer(client, channel, "maria")
    olga = known_customer(client, channel, "olga")
    holder = hold_in_another_transaction(
        "SELECT id FROM inbox_conversation WHERE id = %s FOR UPDATE", (olga.pk,)
    )
    try:
        together, _ = fast_together(
            channel, [delivery("maria", "maria-2", "One"), delivery("olga", "olga-2", "Two")]
        )
        alone, _ = fast_together(channel, [delivery("olga", "olga-3", "Three")])
    finally:
        holder.rollback()
        holder.close()

    assert isinstance(together[0], dict) and together[1] is None and alone == [None]
    assert bodies_of(maria) == [FIRST, "One"]
    assert bodies_of(olga) == [FIRST]
    assert not WebhookEvent.objects.filter(body=delivery("olga", "olga-2", "Two")[0]).exists()


def test_a_burst_that_would_wait_on_another_delivery_gives_up_and_is_left_whole(client, channel):
    maria = known_customer(client, channel, "maria")
    olga = known_customer(client, channel, "olga")
    last_moves = {c.pk: c.last_message_at for c in Conversation.objects.all()}
    events_before = WebhookEvent.objects.count()
    # The regular path is storing another delivery of "olga-2" at this very moment (and
    # locks in the other order): waiting to see whether it commits could deadlock.
    holder = hold_in_another_transaction(
        "INSERT INTO inbox_message (conversation_id, channel_id, direction, body, is_private,"
        " status, error, external_id, delivery_attempts, created_at, updated_at)"
        " VALUES (%s, %s, 'in', 'Two', false, 'received', '{}', 'olga-2', 0, now(), now())",
        (olga.pk, channel.pk),
    )
    started = time.monotonic()
    try:
        answers, broadcasts = fast_together(
            channel, [delivery("maria", "maria-2", "One"), delivery("olga", "olga-2", "Two")]
        )
    finally:
        holder.rollback()
        holder.close()

    assert answers == [None, None]
    assert time.monotonic() - started < 5
    assert bodies_of(maria) == [FIRST] and bodies_of(olga) == [FIRST]
    assert {c.pk: c.last_message_at for c in Conversation.objects.all()} == last_moves
    assert WebhookEvent.objects.count() == events_before
    assert broadcasts == []


def terminate_connections_named(application_name: str, *, sparing: int) -> int:
    """Cut the database connections of that name (but the one of backend `sparing`)."""
    with hold_in_another_transaction("SELECT 1", ()) as observer:
        return len(
            observer.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s AND pid <> %s",
                (application_name, sparing),
            ).fetchall()
        )


def backend_pid_of_this_test() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


def test_a_lost_database_connection_declines_a_burst_and_the_next_gets_through(client, channel):
    maria = known_customer(client, channel, "maria")
    olga = known_customer(client, channel, "olga")
    events_before = WebhookEvent.objects.count()
    channel_get_active(kind=channel.kind, public_id=str(channel.public_id))
    # As the regular path keeps it: which events outgoing webhooks want (none).
    events_subscribed()
    ours = backend_pid_of_this_test()

    async def scenario():
        try:
            first = await fast_answer(channel, *delivery("maria", "maria-2", "One"))
            # The database restarts, say: this process's fast-path connections are gone.
            terminate_connections_named(f"switchboard webhooks {os.getpid()}", sparing=ours)
            burst = await asyncio.gather(
                fast_answer(channel, *delivery("maria", "maria-3", "Two")),
                fast_answer(channel, *delivery("olga", "olga-2", "Three")),
            )
            after = await fast_answer(channel, *delivery("olga", "olga-3", "Four"))
            return first, burst, after
        finally:
            await batched.close()

    first, burst, after = asyncio.run(scenario())

    assert isinstance(first, dict) and isinstance(after, dict)
    assert burst == [None, None]  # left to the regular path
    assert bodies_of(maria) == [FIRST, "One"]
    assert bodies_of(olga) == [FIRST, "Four"]
    assert WebhookEvent.objects.count() == events_before + 2


def test_stored_messages_are_answered_as_stored_when_broadcasting_fails(client, channel, settings):
    maria = known_customer(client, channel, "maria")
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "config.channel_layer.PipelinedPubSubChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:9/0"]},  # nothing listens there
        }
    }

    answers, _ = fast_together(
        channel,
        [delivery("maria", "maria-2", "One"), delivery("nina", "nina-1", "Hi")],
        listen=False,
    )

    stored = {message.external_id: message.pk for message in Message.objects.all()}
    assert [answer["messages"][0]["id"] for answer in answers] == [
        stored["maria-2"],
        stored["nina-1"],
    ]
    assert bodies_of(maria) == [FIRST, "One"]


async def post_through_the_server(channel, body: bytes) -> tuple[int, dict]:
    """One webhook through the web application as the server runs it (both paths)."""
    from config.asgi import application

    communicator = ApplicationCommunicator(
        application,
        {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": f"/webhooks/api/{channel.public_id}/",
            "raw_path": f"/webhooks/api/{channel.public_id}/".encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"host", b"testserver"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-switchboard-signature", sign(body).encode()),
            ],
            "client": ("127.0.0.1", 40000),
            "server": ("testserver", 80),
        },
    )
    await communicator.send_input({"type": "http.request", "body": body, "more_body": False})
    start = await communicator.receive_output(timeout=15)
    content = b""
    while True:
        part = await communicator.receive_output(timeout=15)
        content += part.get("body", b"")
        if not part.get("more_body"):
            break
    await communicator.wait(timeout=15)  # Django finishes the request (request_finished)
    return start["status"], json.loads(content)


def test_a_senders_next_message_waits_for_one_the_regular_path_is_storing(
    client, channel, monkeypatch, settings
):
    maria = known_customer(client, channel, "maria")
    with_a_file = json.loads(delivery("maria", "maria-2", "Here is the photo")[0])
    with_a_file["attachments"] = [{"url": "https://cdn.example.com/photo.jpg"}]
    text = delivery("maria", "maria-3", "Did you get it?")[0]
    channel_get_active(kind=channel.kind, public_id=str(channel.public_id))
    # As the regular path keeps it: which events outgoing webhooks want (none).
    events_subscribed()

    async def one_after_the_other():
        # The file takes the regular path (slower); the text right after could take the
        # fast path and overtake it.
        first = asyncio.ensure_future(
            post_through_the_server(channel, json.dumps(with_a_file).encode())
        )
        await asyncio.sleep(0)
        second = asyncio.ensure_future(post_through_the_server(channel, text))
        try:
            return await first, await second
        finally:
            await batched.close()

    (first_status, first), (second_status, second) = asyncio.run(one_after_the_other())

    assert (first_status, second_status) == (200, 200)
    assert first["messages"][0]["id"] < second["messages"][0]["id"]
    assert bodies_of(maria) == [FIRST, "Here is the photo", "Did you get it?"]
