"""Operator presence: what the socket records, what others hear, what a page load reads."""

import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.core.cache import cache

from inbox.selectors import operator_presence_list
from inbox.services import (
    operator_presence_keep_alive,
    operator_presence_update,
    presence_cache_key,
)
from tests.factories import UserFactory
from tests.inbox.test_inbox_consumer import connect, next_event_of_type


@pytest.fixture(autouse=True)
def _forget_presence():
    # Never cache.clear(): in production mode the cache is the shared Redis.
    yield
    from inbox.models import User

    cache.delete_many([presence_cache_key(pk) for pk in User.objects.values_list("pk", flat=True)])


def statuses() -> dict[str, str]:
    return {entry["operator"]["username"]: entry["status"] for entry in operator_presence_list()}


@pytest.mark.django_db
def test_the_list_holds_active_operators_online_or_away(operator, team, django_assert_num_queries):
    ben = UserFactory(username="ben", teams=[team])
    gone = UserFactory(username="gone", is_active=False)
    UserFactory(username="carl", teams=[team])
    for user, status in ((operator, "online"), (ben, "away"), (gone, "online")):
        async_to_sync(operator_presence_update)(
            operator={"id": user.pk, "username": user.username, "name": user.display_name},
            status=status,
        )

    with django_assert_num_queries(1):
        assert statuses() == {"anna": "online", "ben": "away"}

    async_to_sync(operator_presence_update)(
        operator={"id": ben.pk, "username": "ben", "name": "ben"}, status="offline"
    )
    assert statuses() == {"anna": "online"}


@pytest.mark.django_db
def test_keep_alive_extends_a_status_and_never_records_offline(operator):
    key = presence_cache_key(operator.pk)

    async_to_sync(operator_presence_keep_alive)(operator_id=operator.pk, status="offline")
    assert cache.get(key) is None

    async_to_sync(operator_presence_keep_alive)(operator_id=operator.pk, status="away")
    assert cache.get(key) == "away"


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


@pytest.mark.django_db
def test_the_presence_endpoint_needs_login_and_lists_who_is_on(client, operator):
    assert client.get("/inbox/presence/").status_code == 302
    async_to_sync(operator_presence_update)(
        operator={"id": operator.pk, "username": "anna", "name": "Anna"}, status="online"
    )
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
