"""Customers' names from VK's users.get, asked by a task after their message is stored."""

import pytest

from channels_app.contracts import FETCH_SENDER_NAME_TASK
from channels_app.tasks import sender_name_fetch
from config.celery import app as celery_app
from customers.models import Customer
from tests.channels_app.vk.helpers import MARIA_ID, event, event_body, post_event
from tests.fakes.vk import TOO_MANY_REQUESTS

pytestmark = pytest.mark.django_db

MARIA = {"id": int(MARIA_ID), "first_name": "Мария", "last_name": "Иванова", "screen_name": "maria"}


@pytest.fixture
def enqueued_tasks(monkeypatch):
    sent: list[tuple[str, list]] = []
    monkeypatch.setattr(
        celery_app, "send_task", lambda name, args=None, **options: sent.append((name, args))
    )
    return sent


def test_a_new_customers_name_is_asked_once_after_their_messages_are_stored(
    client, vk_channel, enqueued_tasks, django_capture_on_commit_callbacks
):
    second = event("message_new_text")
    second["object"]["message"]["id"] = 302

    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, vk_channel, event_body("message_new_text"))
        post_event(client, vk_channel, second)

    assert [task for task in enqueued_tasks if task[0] == FETCH_SENDER_NAME_TASK] == [
        (FETCH_SENDER_NAME_TASK, [vk_channel.pk, MARIA_ID])
    ]


def test_the_task_gives_the_customer_their_vk_name(client, vk_channel, fake_vk):
    fake_vk.users[MARIA_ID] = MARIA
    post_event(client, vk_channel, event_body("message_new_text"))

    sender_name_fetch(vk_channel.pk, MARIA_ID)

    assert Customer.objects.get().name == "Мария Иванова"
    [call] = fake_vk.calls_to("users.get")
    assert call.params["user_ids"] == MARIA_ID


def test_a_name_an_operator_gave_is_kept(client, vk_channel, fake_vk):
    fake_vk.users[MARIA_ID] = MARIA
    post_event(client, vk_channel, event_body("message_new_text"))
    Customer.objects.update(name="Maria (VIP)")

    sender_name_fetch(vk_channel.pk, MARIA_ID)

    assert Customer.objects.get().name == "Maria (VIP)"


@pytest.mark.parametrize("answer", ["deleted page", "rate limited"])
def test_no_name_is_given_when_vk_has_none_to_give(client, vk_channel, fake_vk, answer):
    if answer == "deleted page":
        fake_vk.users[MARIA_ID] = {**MARIA, "first_name": "DELETED", "deactivated": "deleted"}
    else:
        fake_vk.fail_next(TOO_MANY_REQUESTS, method="users.get")
    post_event(client, vk_channel, event_body("message_new_text"))

    sender_name_fetch(vk_channel.pk, MARIA_ID)

    assert Customer.objects.get().name == ""
