"""Operator presence: what the socket records, what others hear, what a page load reads."""

import json
import time

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.core.cache import cache
from django.test import override_settings

from inbox import realtime
from inbox.selectors import operator_presence_list, presence_cache_key
from inbox.services import operator_presence_set
from tests.factories import UserFactory
from tests.inbox.test_inbox_consumer import connect, next_event_of_type
from tests.mail_servers import free_port


@pytest.fixture(autouse=True)
def _forget_presence():
    # Never cache.clear(): in production mode the cache is the shared Redis.
    yield
    from inbox.models import User

    cache.delete_many([presence_cache_key(pk) for pk in User.objects.values_list("pk", flat=True)])


@pytest.fixture
def broadcasts(monkeypatch):
    heard = []

    async def record(*, operator, status):
        heard.append((operator["username"], status))

    monkeypatch.setattr(realtime, "presence_changed", record)
    return heard


def statuses() -> dict[str, str]:
    return {entry["operator"]["username"]: entry["status"] for entry in operator_presence_list()}


def set_presence(user, status, socket="tab-1"):
    async_to_sync(operator_presence_set)(
        operator={"id": user.pk, "username": user.username, "name": user.display_name},
        socket=socket,
        status=status,
    )


@pytest.mark.django_db
def test_the_list_holds_active_operators_online_or_away(operator, team, django_assert_num_queries):
    ben = UserFactory(username="ben", teams=[team])
    gone = UserFactory(username="gone", is_active=False)
    UserFactory(username="carl", teams=[team])
    for user, status in ((operator, "online"), (ben, "away"), (gone, "online")):
        set_presence(user, status)

    with django_assert_num_queries(1):
        assert statuses() == {"anna": "online", "ben": "away"}

    set_presence(ben, "offline")
    assert statuses() == {"anna": "online"}


@pytest.mark.django_db
def test_an_operator_with_two_tabs_stays_online_until_the_last_one_closes(operator, broadcasts):
    set_presence(operator, "online", socket="tab-1")
    set_presence(operator, "online", socket="tab-2")
    assert broadcasts == [("anna", "online")]

    set_presence(operator, None, socket="tab-1")
    assert statuses() == {"anna": "online"}
    assert broadcasts == [("anna", "online")]

    # The tab left open is in the background: away, and only now do colleagues hear it.
    set_presence(operator, "away", socket="tab-2")
    assert statuses() == {"anna": "away"}
    set_presence(operator, None, socket="tab-2")
    assert statuses() == {}
    assert broadcasts == [("anna", "online"), ("anna", "away"), ("anna", "offline")]


@pytest.mark.django_db
def test_any_tab_in_front_makes_the_operator_online(operator, broadcasts):
    set_presence(operator, "away", socket="tab-1")
    set_presence(operator, "online", socket="tab-2")
    assert statuses() == {"anna": "online"}

    set_presence(operator, None, socket="tab-2")
    assert statuses() == {"anna": "away"}
    assert broadcasts == [("anna", "away"), ("anna", "online"), ("anna", "away")]


@pytest.mark.django_db
def test_a_socket_that_stopped_renewing_its_entry_lapses(operator, monkeypatch, broadcasts):
    set_presence(operator, "online", socket="tab-1")
    set_presence(operator, "away", socket="tab-2")
    later = time.time() + 91
    monkeypatch.setattr(time, "time", lambda: later)

    # tab-1's server died without a word; tab-2 kept pinging.
    set_presence(operator, "away", socket="tab-2")

    assert statuses() == {"anna": "away"}
    assert broadcasts == [("anna", "online"), ("anna", "away")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_socket_records_presence_and_colleagues_hear_it(operator, team):
    ben = await sync_to_async(UserFactory)(username="ben", first_name="Ben", teams=[team])
    anna_socket = await connect(operator)
    ben_socket = await connect(ben)
    assert await sync_to_async(statuses)() == {"anna": "online", "ben": "online"}

    await ben_socket.send_to(text_data=json.dumps({"type": "presence", "status": "away"}))
    event = await next_event_of_type(anna_socket, "presence")
    while event["operator"]["username"] != "ben" or event["status"] != "away":
        event = await next_event_of_type(anna_socket, "presence")
    assert event["operator"] == {"id": ben.pk, "username": "ben", "name": "Ben"}
    assert await sync_to_async(statuses)() == {"anna": "online", "ben": "away"}

    # A heartbeat keeps the chosen status rather than resetting it.
    await ben_socket.send_to(text_data=json.dumps({"type": "ping"}))
    assert json.loads(await ben_socket.receive_from())["type"] in {"pong", "presence"}
    assert await sync_to_async(statuses)() == {"anna": "online", "ben": "away"}

    await ben_socket.disconnect()
    assert await sync_to_async(statuses)() == {"anna": "online"}
    await anna_socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_closing_one_of_two_tabs_keeps_the_operator_online(operator, team):
    ben = await sync_to_async(UserFactory)(username="ben", first_name="Ben", teams=[team])
    anna_socket = await connect(operator)
    ben_first_tab = await connect(ben)
    ben_second_tab = await connect(ben)

    await ben_first_tab.disconnect()
    assert await sync_to_async(statuses)() == {"anna": "online", "ben": "online"}
    await ben_second_tab.disconnect()
    heard = []
    while not heard or heard[-1] != "offline":
        event = await next_event_of_type(anna_socket, "presence")
        if event["operator"]["username"] == "ben":
            heard.append(event["status"])

    # The second tab opening and the first one closing said nothing.
    assert heard == ["online", "offline"]
    assert await sync_to_async(statuses)() == {"anna": "online"}
    await anna_socket.disconnect()


@pytest.mark.django_db
def test_the_presence_endpoint_needs_login_and_lists_who_is_on(client, operator):
    assert client.get("/inbox/presence/").status_code == 302
    set_presence(operator, "online")
    client.force_login(operator)

    answer = client.get("/inbox/presence/").json()

    assert answer == {
        "operators": [
            {
                "operator": {"id": operator.pk, "username": "anna", "name": "Anna"},
                "status": "online",
            }
        ]
    }


@pytest.mark.django_db
def test_the_presence_endpoint_answers_while_redis_is_away(client, operator):
    set_presence(operator, "online")
    client.force_login(operator)
    # Nothing listens on that port: every cache call is refused, as when Redis is down.
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }

    with override_settings(CACHES=unreachable):
        response = client.get("/inbox/presence/")

    assert response.status_code == 200
    assert response.json() == {"operators": []}
