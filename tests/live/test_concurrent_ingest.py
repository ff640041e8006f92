"""Concurrent deliveries on real PostgreSQL: twins race, one row wins, nothing is lost."""

import threading

import pytest
from django.db import connection

from channels_app.contracts import WebhookRequest
from channels_app.services import webhook_receive
from customers.models import Customer
from inbox.models import Conversation, Message
from tests.helpers import api_payload, sign

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def deliver_all_at_once(channel, bodies: list[bytes]) -> list[int]:
    start = threading.Barrier(len(bodies))
    statuses: list[int] = []

    def deliver(body: bytes) -> None:
        try:
            start.wait()
            request = WebhookRequest(body=body, headers={"x-switchboard-signature": sign(body)})
            statuses.append(webhook_receive(channel=channel, request=request).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return statuses


def test_the_same_delivery_eight_times_at_once_stores_one_message(channel):
    body = api_payload(message_id="twin", sender_id="new-sender", email="twin@example.com")

    statuses = deliver_all_at_once(channel, [body] * 8)

    assert statuses == [200] * 8
    assert Message.objects.count() == 1
    assert Customer.objects.count() == 1
    assert Conversation.objects.count() == 1


def test_a_new_sender_writing_eight_messages_at_once_is_one_customer(channel):
    bodies = [
        api_payload(message_id=f"burst-{index}", sender_id="burst", phone="+4915112345678")
        for index in range(8)
    ]

    statuses = deliver_all_at_once(channel, bodies)

    assert statuses == [200] * 8
    assert Customer.objects.count() == 1
    assert Message.objects.count() == 8
    assert Conversation.objects.count() == 1
