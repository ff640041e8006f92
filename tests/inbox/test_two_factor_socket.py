"""The operator socket holds a role that requires two steps to them as the pages do: a
session that did not pass the second step is refused; a token is not asked for one."""

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from inbox.models import Role
from tests.inbox.test_inbox_consumer import connect, connect_with_cookie
from tests.inbox.two_factor_support import (
    a_user,
    an_address,
    app_code,
    code_step,
    password_step,
    with_app,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture(autouse=True)
def required_for_supervisors(settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["supervisor"]


def a_supervisor_with_an_app():
    supervisor = a_user(role=Role.SUPERVISOR)
    device, _ = with_app(supervisor)
    return supervisor, device


def cookie_signed_in_with_both_steps(supervisor, device) -> str:
    client, address = Client(), an_address()
    password_step(client, supervisor, address=address)
    code_step(client, app_code(device), address=address)
    return client.cookies["sessionid"].value


def cookie_signed_in_without_the_second_step(supervisor) -> str:
    client = Client()
    client.force_login(supervisor)
    return client.cookies["sessionid"].value


async def test_a_session_without_the_second_step_is_refused():
    supervisor, _ = await sync_to_async(a_supervisor_with_an_app)()
    cookie = await sync_to_async(cookie_signed_in_without_the_second_step)(supervisor)

    assert await connect_with_cookie(cookie) == (False, 4401)


async def test_a_session_signed_in_with_both_steps_connects():
    supervisor, device = await sync_to_async(a_supervisor_with_an_app)()
    cookie = await sync_to_async(cookie_signed_in_with_both_steps)(supervisor, device)

    assert await connect_with_cookie(cookie) == (True, None)


async def test_a_token_connects_without_a_second_step():
    supervisor, _ = await sync_to_async(a_supervisor_with_an_app)()

    communicator = await connect(supervisor)

    await communicator.disconnect()
