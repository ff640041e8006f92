"""The website chat widget's socket, in process against the real ASGI application."""

import asyncio
import hashlib
import hmac
import itertools
import json
import random
import time

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from channels_app.services import message_deliver
from channels_app.widget import selectors as widget_selectors
from channels_app.widget.services import (
    ADDRESS_MESSAGES_PER_WINDOW,
    ADDRESS_WINDOW_SECONDS,
    VISITOR_WINDOW_SECONDS,
    visitor_message_allowed,
)
from config.asgi import application
from customers.models import Identity, IdentityClaim
from inbox import people, realtime
from inbox.models import Conversation, Message, MessageStatus
from tests.conftest import client_for
from tests.factories import (
    WEBCHAT_IDENTITY_SECRET,
    WEBCHAT_ORIGIN,
    CustomerFactory,
    IdentityFactory,
    WebchatChannelFactory,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

_addresses = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_presence(monkeypatch):
    # Presence is cached per process for a few seconds; each test sees its own.
    monkeypatch.setattr(widget_selectors, "_operators_online", (0.0, False))


@pytest.fixture
def webchat(db, team):
    return WebchatChannelFactory(teams=[team])


def user_hash(user_id: str, secret: str = WEBCHAT_IDENTITY_SECRET) -> str:
    return hmac.new(secret.encode(), f"user:{user_id}".encode(), hashlib.sha256).hexdigest()


def email_hash(email: str, secret: str = WEBCHAT_IDENTITY_SECRET) -> str:
    return hmac.new(secret.encode(), f"email:{email}".encode(), hashlib.sha256).hexdigest()


def widget_socket(channel, *, origin: str | None = WEBCHAT_ORIGIN) -> WebsocketCommunicator:
    headers = [(b"origin", origin.encode())] if origin else []
    communicator = WebsocketCommunicator(
        application, f"/ws/widget/{channel.public_id}/", headers=headers
    )
    # Each socket writes from its own network address: the per-address limit lives in the
    # shared cache, which outlives a test run by a minute.
    communicator.scope["client"] = (f"10.{random.randrange(256)}.{next(_addresses) % 256}.7", 5)
    return communicator


async def visitor(
    channel, *, token: str | None = None, language: str = ""
) -> tuple[WebsocketCommunicator, dict]:
    communicator = widget_socket(channel)
    connected, _ = await communicator.connect()
    assert connected
    hello = {"type": "hello", **({"token": token} if token else {})}
    await communicator.send_json_to({**hello, **({"language": language} if language else {})})
    ready = await communicator.receive_json_from()
    assert ready["type"] == "ready"
    return communicator, ready


async def next_frame(communicator, frame_type: str, timeout: float = 3.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        frame = json.loads(await communicator.receive_from(timeout=max(remaining, 0.01)))
        if frame["type"] == frame_type:
            return frame


async def write(communicator, text: str, client_id: str = "") -> dict:
    await communicator.send_json_to({"type": "message", "text": text, "client_id": client_id})
    return await next_frame(communicator, "message")


async def operator_socket(user) -> WebsocketCommunicator:
    token = await sync_to_async(people.operator_api_token)(user=user)
    communicator = WebsocketCommunicator(
        application,
        "/ws/inbox/",
        headers=[
            (b"authorization", f"Token {token}".encode()),
            (b"origin", b"http://127.0.0.1:8000"),
        ],
    )
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@sync_to_async
def stored_messages(channel) -> list[Message]:
    return list(Message.objects.filter(channel=channel).order_by("id"))


@sync_to_async
def customer_known_by_email(email: str):
    customer = CustomerFactory(email=email)
    IdentityFactory(customer=customer, kind="email", value=email)
    return customer


@sync_to_async
def email_identities_of(customer) -> list[str]:
    return list(
        Identity.objects.filter(customer=customer, kind="email").values_list("value", flat=True)
    )


@sync_to_async
def claimed_values_of(customer) -> list[str]:
    return list(
        IdentityClaim.objects.filter(customer=customer, kind="email").values_list(
            "value", flat=True
        )
    )


@sync_to_async
def customer_of(channel, visitor_id: str):
    return (
        Conversation.objects.select_related("customer")
        .get(channel=channel, recipient_address=visitor_id)
        .customer
    )


# -- the handshake ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.com",
        "http://shop.example.com",  # another scheme
        "https://shop.example.com:8443",  # another port
        "https://shop.example.com.evil.net",
        None,  # not a browser on an allowed page
    ],
)
async def test_a_page_outside_the_allowed_origins_is_refused(webchat, origin):
    communicator = widget_socket(webchat, origin=origin)

    connected, _ = await communicator.connect()

    assert not connected


async def test_an_inactive_or_other_kind_channel_is_refused(webchat, channel):
    await sync_to_async(type(webchat).objects.filter(pk=webchat.pk).update)(is_active=False)
    for target in (webchat, channel):
        connected, _ = await widget_socket(target).connect()
        assert not connected


async def test_ready_hands_out_a_token_that_brings_the_same_visitor_back(webchat):
    first, ready = await visitor(webchat)
    assert ready["config"]["company_name"] == "Shop"
    assert ready["operators_online"] is False
    assert ready["offline_message"] == "We are away; we answer within a day."
    await first.disconnect()

    again, ready_again = await visitor(webchat, token=ready["token"])
    assert ready_again["visitor"]["id"] == ready["visitor"]["id"]
    await again.disconnect()

    forged, ready_forged = await visitor(webchat, token=ready["token"] + "x")
    assert ready_forged["visitor"]["id"] != ready["visitor"]["id"]
    await forged.disconnect()


async def test_frames_before_hello_are_refused(webchat):
    communicator = widget_socket(webchat)
    await communicator.connect()

    await communicator.send_json_to({"type": "message", "text": "hi"})

    assert (await communicator.receive_json_from())["code"] == "hello_required"
    assert await stored_messages(webchat) == []
    await communicator.disconnect()


# -- messages both ways -------------------------------------------------------------------


async def test_a_visitor_message_is_stored_and_operators_see_it(webchat, operator):
    inbox = await operator_socket(operator)
    widget, ready = await visitor(webchat)

    echo = await write(widget, "Where is my <b>parcel</b>?", client_id="c-1")

    assert echo["message"]["body"] == "Where is my <b>parcel</b>?"
    assert echo["message"]["client_id"] == "c-1"
    created = await next_frame(inbox, "message.created")
    assert created["message"]["body"] == "Where is my <b>parcel</b>?"
    assert created["message"]["direction"] == "in"
    [message] = await stored_messages(webchat)
    assert message.external_id == f"webchat:{ready['visitor']['id']}:c-1"
    customer = await customer_of(webchat, ready["visitor"]["id"])
    assert await sync_to_async(
        Identity.objects.filter(
            customer=customer, kind="webchat", value=f"{webchat.public_id}:{ready['visitor']['id']}"
        ).exists
    )()
    await widget.disconnect()
    await inbox.disconnect()


async def test_with_no_operator_online_the_first_message_says_when_to_expect_an_answer(webchat):
    widget, ready = await visitor(webchat)
    assert ready["operators_online"] is False

    await write(widget, "Anyone there?")

    notice = await next_frame(widget, "notice")
    assert notice == {
        "type": "notice",
        "code": "offline",
        "message": "We are away; we answer within a day.",
    }
    await write(widget, "Hello?")
    assert await widget.receive_nothing(timeout=0.3)
    await widget.disconnect()


async def test_the_same_client_id_twice_stores_one_message(webchat):
    widget, _ = await visitor(webchat)

    await write(widget, "Hello", client_id="same")
    await write(widget, "Hello", client_id="same")

    assert len(await stored_messages(webchat)) == 1
    await widget.disconnect()


async def test_an_operator_reply_reaches_the_visitor_live_and_after_reconnect(webchat, operator):
    widget, ready = await visitor(webchat)
    echo = await write(widget, "Hello?")
    conversation_id = await sync_to_async(
        lambda: Message.objects.get(pk=echo["message"]["id"]).conversation_id
    )()
    api = await sync_to_async(client_for)(operator)

    response = await sync_to_async(api.post)(
        f"/api/v1/conversations/{conversation_id}/messages/",
        {"body": "It ships <today>."},
        format="json",
    )
    assert response.status_code == 201, response.content
    note = await sync_to_async(api.post)(
        f"/api/v1/conversations/{conversation_id}/messages/",
        {"body": "customer seems upset", "private": True},
        format="json",
    )
    assert note.status_code == 201
    reply_id = response.json()["id"]
    await sync_to_async(message_deliver)(message_id=reply_id, attempt=1, max_attempts=3)

    delivered = await next_frame(widget, "message")
    assert delivered["message"]["id"] == reply_id
    assert delivered["message"]["body"] == "It ships <today>."
    assert delivered["message"]["author"] == {"name": "Anna"}
    reply = await sync_to_async(Message.objects.get)(pk=reply_id)
    assert reply.status == MessageStatus.SENT
    await widget.disconnect()

    back, _ = await visitor(webchat, token=ready["token"])
    await back.send_json_to({"type": "history"})
    history = await next_frame(back, "history")
    assert [m["body"] for m in history["messages"]] == ["Hello?", "It ships <today>."]
    assert history["messages"][1]["author"] == {"name": "Anna"}

    await back.send_json_to({"type": "read", "message_id": reply_id})
    await asyncio.sleep(0.3)
    await sync_to_async(reply.refresh_from_db)()
    assert reply.status == MessageStatus.READ
    await back.disconnect()


async def test_another_visitor_sees_nothing_of_the_thread(webchat):
    first, _ = await visitor(webchat)
    await write(first, "My secret order")
    second, _ = await visitor(webchat)

    await second.send_json_to({"type": "history"})

    assert (await next_frame(second, "history"))["messages"] == []
    await first.disconnect()
    await second.disconnect()


async def test_typing_reaches_both_sides(webchat, operator):
    inbox = await operator_socket(operator)
    widget, _ = await visitor(webchat)
    echo = await write(widget, "Hi")
    conversation_id = (
        echo["message"]
        and await sync_to_async(
            lambda: Message.objects.get(pk=echo["message"]["id"]).conversation_id
        )()
    )

    await widget.send_json_to({"type": "typing", "is_typing": True})
    typing = await next_frame(inbox, "typing")
    assert typing["conversation_id"] == conversation_id
    assert typing["is_customer"] is True and typing["is_typing"] is True

    await realtime.operator_typing_to_customer(
        conversation_id=conversation_id,
        operator={"id": operator.pk, "username": "anna", "name": "Anna"},
        is_typing=True,
    )
    assert await next_frame(widget, "typing") == {
        "type": "typing",
        "is_typing": True,
        "name": "Anna",
    }
    await widget.disconnect()
    await inbox.disconnect()


async def test_an_operator_opening_the_conversation_marks_the_visitors_messages_read(
    webchat, operator
):
    inbox = await operator_socket(operator)
    widget, ready = await visitor(webchat)
    await write(widget, "First")
    second = (await write(widget, "Second"))["message"]
    conversation_id = await sync_to_async(
        lambda: Message.objects.get(pk=second["id"]).conversation_id
    )()

    await inbox.send_json_to({"type": "viewing", "conversation_id": conversation_id})

    assert await next_frame(widget, "read") == {"type": "read", "message_id": second["id"]}
    statuses = [message.status for message in await stored_messages(webchat)]
    assert statuses == [MessageStatus.READ, MessageStatus.READ]
    # A reload shows them read too.
    reloaded, _ = await visitor(webchat, token=ready["token"])
    await reloaded.send_json_to({"type": "history"})
    history = await next_frame(reloaded, "history")
    assert {message["status"] for message in history["messages"]} == {"read"}
    for socket in (widget, reloaded, inbox):
        await socket.disconnect()


# -- identity -----------------------------------------------------------------------------


async def test_a_signed_in_user_cannot_take_over_a_profile_by_naming_its_email(webchat):
    victim = await customer_known_by_email("victim@example.com")
    widget, ready = await visitor(webchat)

    # The user's own id is signed; the email is not.
    await widget.send_json_to(
        {
            "type": "identify",
            "user_id": "666",
            "user_hash": user_hash("666"),
            "email": "victim@example.com",
        }
    )
    identified = await next_frame(widget, "identified")
    assert identified["visitor"]["is_verified"] is True
    await write(widget, "Show me my orders")

    customer = await customer_of(webchat, ready["visitor"]["id"])
    assert customer.pk != victim.pk
    assert "victim@example.com" in await claimed_values_of(customer)
    assert await email_identities_of(customer) == []
    await widget.disconnect()


async def test_frames_with_lone_surrogates_get_an_answer_not_a_crash(webchat):
    widget, _ = await visitor(webchat, token="\ud800:forged")
    await widget.send_json_to({"type": "identify", "user_id": "\ud800", "user_hash": "a"})

    assert (await next_frame(widget, "error"))["code"] == "identity_invalid"
    await widget.disconnect()


async def test_a_prechat_email_stays_a_claim_and_never_merges(webchat):
    known = await customer_known_by_email("jane@example.com")
    widget, ready = await visitor(webchat)

    await widget.send_json_to({"type": "identify", "name": "Jane", "email": "jane@example.com"})
    identified = await next_frame(widget, "identified")
    assert identified["visitor"]["is_verified"] is False
    await write(widget, "Hi, it's Jane")

    customer = await customer_of(webchat, ready["visitor"]["id"])
    assert customer.pk != known.pk
    assert customer.name == "Jane"
    assert "jane@example.com" in await claimed_values_of(customer)
    assert await email_identities_of(customer) == []
    await widget.disconnect()


async def test_a_site_vouched_user_becomes_the_customer_with_that_email(webchat):
    known = await customer_known_by_email("jane@example.com")
    widget, ready = await visitor(webchat)

    await widget.send_json_to(
        {
            "type": "identify",
            "user_id": "42",
            "email": "Jane@Example.com",
            "name": "Jane",
            "user_hash": user_hash("42"),
            "email_hash": email_hash("Jane@Example.com"),
        }
    )
    identified = await next_frame(widget, "identified")
    assert identified["visitor"]["is_verified"] is True
    await widget.disconnect()
    # The verified identity travels in the new token.
    again, _ = await visitor(webchat, token=identified["token"])
    await write(again, "Logged in now")

    customer = await customer_of(webchat, ready["visitor"]["id"])
    assert customer.pk == known.pk
    assert await sync_to_async(
        Identity.objects.filter(
            customer=known, kind="webchat", value=f"{webchat.public_id}:user:42"
        ).exists
    )()
    await again.disconnect()


async def test_a_wrong_user_hash_is_refused_and_links_nothing(webchat):
    known = await customer_known_by_email("jane@example.com")
    widget, ready = await visitor(webchat)

    await widget.send_json_to(
        {
            "type": "identify",
            "user_id": "42",
            "email": "jane@example.com",
            "user_hash": user_hash("42", secret="guessed"),
        }
    )
    error = await next_frame(widget, "error")
    assert error["code"] == "identity_invalid"
    await write(widget, "Hello")

    customer = await customer_of(webchat, ready["visitor"]["id"])
    assert customer.pk != known.pk
    assert not await sync_to_async(Identity.objects.filter(value__contains=":user:").exists)()
    assert await email_identities_of(customer) == []
    await widget.disconnect()


# -- limits -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "message", "text": "x" * 5_001}, "too_large"),
        ({"type": "message", "text": "x" * 4_000, "padding": "y" * 70_000}, "too_large"),
        ({"type": "message", "text": "   "}, "invalid"),
        ({"type": "message", "text": 5}, "invalid"),
    ],
)
async def test_oversize_or_malformed_messages_are_refused_and_nothing_is_stored(
    webchat, frame, code
):
    widget, _ = await visitor(webchat)

    await widget.send_json_to(frame)

    assert (await next_frame(widget, "error"))["code"] == code
    assert await stored_messages(webchat) == []
    await widget.disconnect()


async def start_of_a_counting_window(seconds: int) -> None:
    """Wait for a fresh rate-limit window when the current one is nearly over, so that
    what a test sends is counted in one window."""
    left = seconds - time.time() % seconds
    if left < 5:
        await asyncio.sleep(left + 0.05)


async def test_a_flood_is_refused_past_twenty_messages_in_ten_seconds(webchat):
    widget, _ = await visitor(webchat)
    await start_of_a_counting_window(VISITOR_WINDOW_SECONDS)
    for number in range(20):
        await write(widget, f"message {number}", client_id=f"c{number}")

    await widget.send_json_to({"type": "message", "text": "one too many", "client_id": "c20"})

    assert (await next_frame(widget, "error"))["code"] == "rate_limited"
    bodies = [message.body for message in await stored_messages(webchat)]
    assert len(bodies) == 20 and "one too many" not in bodies
    await widget.disconnect()


# -- CSAT -----------------------------------------------------------------------------------


@sync_to_async
def resolve_and_send_survey(conversation_id: int, operator, kind: str = "csat") -> None:
    from datetime import timedelta

    from django.utils import timezone

    from channels_app.services import csat_survey_send
    from inbox import csat
    from inbox.models import CsatSurvey
    from inbox.services import conversation_resolve, message_reply

    conversation = Conversation.objects.get(pk=conversation_id)
    message_reply(conversation=conversation, author=operator, body="Fixed it for you.")
    conversation_resolve(conversation=conversation, resolved_by=operator)
    CsatSurvey.objects.update(due_at=timezone.now() - timedelta(seconds=1), kind=kind)
    for survey_id in csat.csat_surveys_queue_due():
        csat_survey_send(survey_id=survey_id)


async def test_a_rating_card_is_answered_from_the_widget(webchat, operator):
    from inbox.models import ConversationStatus, CsatSurvey, SurveyStatus

    widget, _ = await visitor(webchat)
    echo = await write(widget, "Broken zipper")
    conversation_id = await sync_to_async(
        lambda: Message.objects.get(pk=echo["message"]["id"]).conversation_id
    )()

    await resolve_and_send_survey(conversation_id, operator)

    card = await next_frame(widget, "rating_request")
    assert [rating["value"] for rating in card["ratings"]] == [1, 2, 3, 4, 5]
    four = next(rating for rating in card["ratings"] if rating["value"] == 4)
    await widget.send_json_to(
        {"type": "rating", "survey": card["survey"], "rating": 4, "payload": four["payload"]}
    )
    await next_frame(widget, "message")

    survey = await sync_to_async(CsatSurvey.objects.get)(conversation_id=conversation_id)
    assert (survey.status, survey.rating) == (SurveyStatus.ANSWERED, 4)
    conversation = await sync_to_async(Conversation.objects.get)(pk=conversation_id)
    assert conversation.status == ConversationStatus.RESOLVED
    await widget.disconnect()


async def test_a_rating_card_is_in_the_visitors_language(webchat, operator):
    widget, _ = await visitor(webchat, language="pl")
    echo = await write(widget, "Zepsuty zamek")
    conversation_id = await sync_to_async(
        lambda: Message.objects.get(pk=echo["message"]["id"]).conversation_id
    )()

    await resolve_and_send_survey(conversation_id, operator)

    card = await next_frame(widget, "rating_request")
    assert card["question"] == "Jak oceniasz otrzymaną pomoc?"
    assert [rating["label"] for rating in card["ratings"]] == [
        "Bardzo źle", "Źle", "Przeciętnie", "Dobrze", "Doskonale",
    ]  # fmt: skip
    await widget.disconnect()


async def test_an_nps_card_holds_zero_to_ten_and_zero_answers_it(webchat, operator):
    from inbox.models import CsatSurvey, SurveyStatus

    widget, _ = await visitor(webchat)
    echo = await write(widget, "Broken zipper")
    conversation_id = await sync_to_async(
        lambda: Message.objects.get(pk=echo["message"]["id"]).conversation_id
    )()

    await resolve_and_send_survey(conversation_id, operator, kind="nps")

    card = await next_frame(widget, "rating_request")
    assert card["kind"] == "nps"
    assert [rating["value"] for rating in card["ratings"]] == list(range(11))
    assert "0 = not at all likely, 10 = extremely likely" in card["question"]
    zero = card["ratings"][0]
    await widget.send_json_to(
        {"type": "rating", "survey": card["survey"], "rating": 0, "payload": zero["payload"]}
    )
    await next_frame(widget, "message")

    survey = await sync_to_async(CsatSurvey.objects.get)(conversation_id=conversation_id)
    assert (survey.status, survey.rating) == (SurveyStatus.ANSWERED, 0)
    await widget.disconnect()


@pytest.mark.parametrize("rating", [11, -1, True, "5"])
async def test_a_rating_off_every_scale_is_refused_by_the_widget_socket(webchat, rating):
    widget, _ = await visitor(webchat)

    await widget.send_json_to({"type": "rating", "survey": 1, "rating": rating, "payload": "x"})

    error = await next_frame(widget, "error")
    assert error["message"] == "rating must be a whole number from 0 to 10"
    assert await stored_messages(webchat) == []
    await widget.disconnect()


# -- HTTP side -----------------------------------------------------------------------------


async def test_a_stranger_cannot_post_widget_messages_as_a_webhook(webchat):
    from django.test import AsyncClient

    response = await AsyncClient().post(
        f"/webhooks/webchat/{webchat.public_id}/",
        data=b'{"visitor_id": "abc", "client_id": "1", "text": "spoofed"}',
        content_type="application/json",
    )

    assert response.status_code == 401
    assert await stored_messages(webchat) == []


async def test_the_loader_script_is_served_to_any_site_with_its_styles():
    from django.test import AsyncClient

    response = await AsyncClient().get("/widget.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "max-age=" in response["Cache-Control"]
    body = response.content.decode()
    assert "__WIDGET_CSS__" not in body and ".launcher" in body
    assert "innerHTML" not in body


async def test_another_account_on_the_same_browser_starts_a_new_thread(webchat):
    widget, ready = await visitor(webchat)
    await widget.send_json_to({"type": "identify", "user_id": "1", "user_hash": user_hash("1")})
    first = await next_frame(widget, "identified")
    assert first["visitor"]["id"] == ready["visitor"]["id"]
    await write(widget, "I am user one")

    await widget.send_json_to({"type": "identify", "user_id": "2", "user_hash": user_hash("2")})
    second = await next_frame(widget, "identified")
    await widget.send_json_to({"type": "history"})

    assert second["visitor"]["id"] != first["visitor"]["id"]
    assert (await next_frame(widget, "history"))["messages"] == []
    await widget.disconnect()


async def test_a_flood_of_other_frames_is_refused_too(webchat):
    widget, _ = await visitor(webchat)

    for _ in range(70):
        await widget.send_json_to({"type": "ping"})
    frames = [await widget.receive_json_from() for _ in range(70)]

    assert {"type": "error", "code": "rate_limited", "message": "too many frames; slow down"} in (
        frames
    )
    await widget.disconnect()


async def test_one_user_in_two_browsers_gets_each_browsers_thread_there(webchat):
    laptop, _ = await visitor(webchat)
    phone, _ = await visitor(webchat)
    for widget in (laptop, phone):
        await widget.send_json_to({"type": "identify", "user_id": "7", "user_hash": user_hash("7")})
    laptop_visitor = (await next_frame(laptop, "identified"))["visitor"]["id"]
    phone_visitor = (await next_frame(phone, "identified"))["visitor"]["id"]

    await write(laptop, "From my laptop")
    await write(phone, "From my phone")

    conversations = await sync_to_async(
        lambda: {
            conversation.recipient_address: (
                conversation.customer_id,
                [message.body for message in conversation.messages.all()],
            )
            for conversation in Conversation.objects.filter(channel=webchat)
        }
    )()
    assert conversations.keys() == {laptop_visitor, phone_visitor}
    assert conversations[laptop_visitor][1] == ["From my laptop"]
    assert conversations[phone_visitor][1] == ["From my phone"]
    # One person all the same.
    assert conversations[laptop_visitor][0] == conversations[phone_visitor][0]
    await laptop.disconnect()
    await phone.disconnect()


@pytest.mark.parametrize(
    "path", ["/ws/widget/not-a-channel/", "/ws/widget/", "/ws/widget/x/y/z/", "/ws/nowhere/"]
)
async def test_a_socket_path_nothing_serves_is_refused_not_an_error(path, operator):
    token = await sync_to_async(people.operator_api_token)(user=operator)
    communicator = WebsocketCommunicator(
        application,
        path,
        headers=[
            (b"origin", b"http://127.0.0.1:8000"),
            (b"authorization", f"Token {token}".encode()),
        ],
    )

    connected, code = await communicator.connect()

    assert connected is False
    assert code == 4404
    await communicator.disconnect()


async def test_toggling_typing_cannot_flood_the_operators(webchat, operator):
    inbox = await operator_socket(operator)
    widget, _ = await visitor(webchat)
    await write(widget, "Hi")

    for index in range(20):
        await widget.send_json_to({"type": "typing", "is_typing": index % 2 == 0})
    await widget.send_json_to({"type": "ping"})
    await next_frame(widget, "pong")
    await asyncio.sleep(0.3)

    typing_events = []
    while not await inbox.receive_nothing(timeout=0.3):
        frame = await inbox.receive_json_from()
        if frame["type"] == "typing":
            typing_events.append(frame["is_typing"])
    assert typing_events == [True, False]

    # After a pause, typing again shows at once.
    await asyncio.sleep(1.1)
    await widget.send_json_to({"type": "typing", "is_typing": True})
    assert (await next_frame(inbox, "typing"))["is_typing"] is True
    await widget.disconnect()
    await inbox.disconnect()


async def test_the_address_limit_counts_an_ipv6_slash_64_as_one_sender():
    def random_slash_64() -> str:
        return f"2001:db8:{random.randrange(65536):x}:{random.randrange(65536):x}"

    network, neighbour = random_slash_64(), random_slash_64()
    await start_of_a_counting_window(ADDRESS_WINDOW_SECONDS)
    allowed = [
        await visitor_message_allowed(visitor_id=f"v{index}", address=f"{network}::{index + 1:x}")
        for index in range(ADDRESS_MESSAGES_PER_WINDOW)
    ]

    assert all(allowed)
    assert not await visitor_message_allowed(visitor_id="v-next", address=f"{network}::ffff")
    assert await visitor_message_allowed(visitor_id="v-other", address=f"{neighbour}::1")
