"""Customers' names from VK's users.get, asked by a task after their message is stored."""

import pytest
from celery.exceptions import Retry
from django.core.cache import cache

from channels_app.contracts import FETCH_SENDER_NAME_TASK
from channels_app.sender_profiles import RETRY_DELAYS_SECONDS
from channels_app.tasks import sender_name_fetch
from config.celery import app as celery_app
from customers.models import Customer, Identity
from tests.channels_app.vk.helpers import MARIA_ID, event, event_body, post_event
from tests.fakes.vk import INTERNAL_ERROR, TOO_MANY_REQUESTS

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


def test_the_screen_name_is_kept_with_the_name_and_shown_in_the_profile(
    client, vk_channel, fake_vk, supervisor_client
):
    fake_vk.users[MARIA_ID] = MARIA
    post_event(client, vk_channel, event_body("message_new_text"))

    sender_name_fetch(vk_channel.pk, MARIA_ID)

    [call] = fake_vk.calls_to("users.get")
    assert "screen_name" in call.params["fields"].split(",")
    customer = Customer.objects.get()
    assert (customer.name, customer.identities.get(kind="vk").username) == (
        "Мария Иванова",
        "maria",
    )
    profile = supervisor_client.get(f"/api/v1/customers/{customer.pk}/").json()
    assert {"kind": "vk", "value": MARIA_ID, "username": "maria"}.items() <= profile["identities"][
        0
    ].items()


def test_a_phone_is_never_taken_from_vk(client, vk_channel, fake_vk):
    # A page that shows its numbers to everyone: users.get would give them if asked.
    fake_vk.users[MARIA_ID] = {**MARIA, "mobile_phone": "+79161234567", "home_phone": "123"}
    post_event(client, vk_channel, event_body("message_new_text"))

    sender_name_fetch(vk_channel.pk, MARIA_ID)

    customer = Customer.objects.get()
    assert customer.name == "Мария Иванова"
    assert customer.phone == ""
    assert list(customer.identities.values_list("kind", flat=True)) == ["vk"]
    [call] = fake_vk.calls_to("users.get")
    assert "contacts" not in call.params["fields"].split(",")


def test_a_page_without_a_screen_name_of_its_own_has_no_handle(client, vk_channel, fake_vk):
    fake_vk.users[MARIA_ID] = {**MARIA, "screen_name": f"id{MARIA_ID}"}
    post_event(client, vk_channel, event_body("message_new_text"))

    sender_name_fetch(vk_channel.pk, MARIA_ID)

    assert Identity.objects.get(kind="vk").username == ""


def test_a_deleted_page_gives_no_name_and_is_not_asked_again(client, vk_channel, fake_vk):
    fake_vk.users[MARIA_ID] = {**MARIA, "first_name": "DELETED", "deactivated": "deleted"}
    post_event(client, vk_channel, event_body("message_new_text"))

    for _ in range(2):
        sender_name_fetch(vk_channel.pk, MARIA_ID)

    assert Customer.objects.get().name == ""
    assert len(fake_vk.calls_to("users.get")) == 1


@pytest.mark.parametrize("failure", ["rate limited", "VK internal error", "answer lost"])
def test_a_failed_first_ask_is_asked_again_with_growing_delays(
    client, vk_channel, fake_vk, failure
):
    fake_vk.users[MARIA_ID] = MARIA
    if failure == "rate limited":
        fake_vk.fail_next(TOO_MANY_REQUESTS, method="users.get")
    elif failure == "VK internal error":
        fake_vk.fail_next(INTERNAL_ERROR, method="users.get")
    else:
        fake_vk.lose_next_answer("users.get")
    post_event(client, vk_channel, event_body("message_new_text"))

    with pytest.raises(Retry) as retry:
        sender_name_fetch.apply(args=[vk_channel.pk, MARIA_ID], throw=True)

    assert retry.value.when == RETRY_DELAYS_SECONDS[0]
    assert Customer.objects.get().name == ""
    # The retry Celery runs later:
    sender_name_fetch.apply(args=[vk_channel.pk, MARIA_ID], retries=1, throw=True)

    assert Customer.objects.get().name == "Мария Иванова"
    assert len(fake_vk.calls_to("users.get")) == 2


def test_the_delays_grow_and_the_tries_are_bounded(client, vk_channel, fake_vk):
    fake_vk.users[MARIA_ID] = MARIA
    fake_vk.fail_next(INTERNAL_ERROR, method="users.get", times=len(RETRY_DELAYS_SECONDS) + 1)
    post_event(client, vk_channel, event_body("message_new_text"))

    delays = []
    for retries in range(len(RETRY_DELAYS_SECONDS) + 1):
        try:
            sender_name_fetch.apply(args=[vk_channel.pk, MARIA_ID], retries=retries, throw=True)
        except Retry as retry:
            delays.append(retry.when)

    assert delays == list(RETRY_DELAYS_SECONDS)
    assert delays == sorted(delays)
    assert len(fake_vk.calls_to("users.get")) == len(RETRY_DELAYS_SECONDS) + 1
    assert Customer.objects.get().name == ""


def test_after_the_last_try_failed_a_later_message_asks_again(
    client, vk_channel, fake_vk, enqueued_tasks, django_capture_on_commit_callbacks
):
    fake_vk.users[MARIA_ID] = MARIA
    fake_vk.fail_next(INTERNAL_ERROR, method="users.get")
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, vk_channel, _message(301))
    sender_name_fetch.apply(
        args=[vk_channel.pk, MARIA_ID], retries=len(RETRY_DELAYS_SECONDS), throw=True
    )
    assert Customer.objects.get().name == ""

    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, vk_channel, _message(302))
    assert _name_tasks(enqueued_tasks) == [[vk_channel.pk, MARIA_ID]]  # not yet

    cache.delete(f"sender-name-asked:{vk_channel.public_id}:{MARIA_ID}")  # an hour later
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, vk_channel, _message(303))
    assert _name_tasks(enqueued_tasks) == [[vk_channel.pk, MARIA_ID]] * 2
    sender_name_fetch.apply(args=[vk_channel.pk, MARIA_ID], throw=True)
    assert Customer.objects.get().name == "Мария Иванова"


def test_a_customer_who_has_a_name_is_not_asked_about(
    client, vk_channel, enqueued_tasks, django_capture_on_commit_callbacks
):
    post_event(client, vk_channel, _message(301))
    Customer.objects.update(name="Maria")

    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, vk_channel, _message(302))

    assert _name_tasks(enqueued_tasks) == []


def _name_tasks(enqueued_tasks) -> list:
    return [args for name, args in enqueued_tasks if name == FETCH_SENDER_NAME_TASK]


def _message(message_id: int) -> dict:
    callback = event("message_new_text")
    callback["event_id"] = f"{message_id:040x}"
    callback["object"]["message"]["id"] = message_id
    return callback
