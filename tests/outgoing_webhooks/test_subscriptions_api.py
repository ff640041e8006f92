"""Admins manage webhook subscriptions through the API: the secret is write-only, events
and addresses are checked with clear 400s, and the delivery log reads in a flat number of
queries."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels_app.contracts import SEND_WEBHOOK_DELIVERIES_TASK
from channels_app.secrets import decrypt_secrets
from inbox.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from inbox.outgoing_webhooks.emitting import (
    CONVERSATION_CREATED,
    MESSAGE_CREATED,
    webhook_event_emit,
)
from tests.outgoing_webhooks.conftest import SECRET, subscribe

pytestmark = pytest.mark.django_db


def test_an_admin_subscribes_and_the_secret_is_never_shown(admin_client_api, receiver):
    response = admin_client_api.post(
        "/api/v1/webhooks/",
        {"url": receiver.url, "events": [MESSAGE_CREATED], "secret": SECRET},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["events"] == [MESSAGE_CREATED]
    assert body["active"] is True
    assert SECRET not in json.dumps(body)
    listed = admin_client_api.get("/api/v1/webhooks/").json()
    assert SECRET not in json.dumps(listed)
    stored = WebhookSubscription.objects.get()
    assert SECRET not in stored.secret_encrypted
    assert decrypt_secrets(stored.secret_encrypted) == {"secret": SECRET}


def test_a_change_without_a_secret_keeps_the_saved_one(admin_client_api, receiver):
    subscription = subscribe(receiver.url, [MESSAGE_CREATED])

    response = admin_client_api.patch(
        f"/api/v1/webhooks/{subscription.pk}/",
        {"events": [MESSAGE_CREATED, CONVERSATION_CREATED]},
        format="json",
    )

    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.events == [MESSAGE_CREATED, CONVERSATION_CREATED]
    assert decrypt_secrets(subscription.secret_encrypted) == {"secret": SECRET}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": ["message.exploded"]}, "events"),
        ({"events": []}, "events"),
        ({"events": "message.created"}, "events"),
        ({"secret": ""}, "secret"),
        ({"secret": "short"}, "secret"),
        ({"url": "ftp://files.example.com/in"}, "url"),
        ({"url": "not an address"}, "url"),
        ({"url": "http://10.1.2.3/hook"}, "url"),
        ({"url": "http://169.254.169.254/latest/meta-data/"}, "url"),
    ],
)
def test_a_bad_subscription_is_refused_with_the_field_named(admin_client_api, body, field):
    valid = {"url": "https://crm.example.com/hook", "events": [MESSAGE_CREATED], "secret": SECRET}

    response = admin_client_api.post("/api/v1/webhooks/", {**valid, **body}, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not WebhookSubscription.objects.exists()


def test_only_admins_manage_webhooks(operator_client, supervisor_client, receiver):
    subscription = subscribe(receiver.url, [MESSAGE_CREATED])
    for client in (operator_client, supervisor_client):
        assert client.get("/api/v1/webhooks/").status_code == 403
        assert client.post(f"/api/v1/webhooks/{subscription.pk}/test/").status_code == 403
        assert client.delete(f"/api/v1/webhooks/{subscription.pk}/").status_code == 403
    assert WebhookDelivery.objects.count() == 0


def test_a_test_event_is_sent_like_any_delivery(
    admin_client_api, receiver, broker, django_capture_on_commit_callbacks
):
    subscription = subscribe(receiver.url, [MESSAGE_CREATED])

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_api.post(f"/api/v1/webhooks/{subscription.pk}/test/")
    broker.run_deliveries()

    assert response.status_code == 202
    delivery_id = response.json()["id"]
    assert receiver.kept[delivery_id].event == "webhook.test"
    assert receiver.kept[delivery_id].payload["data"]["subscription"] == subscription.pk
    log = admin_client_api.get(f"/api/v1/webhooks/{subscription.pk}/deliveries/").json()
    [entry] = log["results"]
    assert entry["id"] == delivery_id
    assert entry["status"] == "delivered"
    assert entry["attempts"][0]["response_status"] == 200
    assert entry["attempts"][0]["response_body"] == '{"ok": true}'


def test_a_switched_off_subscription_takes_no_test_event(admin_client_api, receiver, broker):
    subscription = subscribe(receiver.url, [MESSAGE_CREATED], active=False)

    response = admin_client_api.post(f"/api/v1/webhooks/{subscription.pk}/test/")

    assert response.status_code == 400
    assert "active" in response.json()["fields"]
    assert not WebhookDelivery.objects.exists()


def test_redeliver_sends_the_same_delivery_again(
    admin_client_api, receiver, broker, django_capture_on_commit_callbacks
):
    subscription = subscribe(receiver.url, [MESSAGE_CREATED])
    with django_capture_on_commit_callbacks(execute=True):
        webhook_event_emit(event=MESSAGE_CREATED, data=lambda: {"id": 5})
    broker.run_deliveries()
    delivery = WebhookDelivery.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_api.post(
            f"/api/v1/webhooks/{subscription.pk}/deliveries/{delivery.delivery_id}/redeliver/"
        )
    broker.run_deliveries()

    assert response.status_code == 202
    assert receiver.attempts[str(delivery.delivery_id)] == 2
    assert delivery.attempts.count() == 2
    unknown = admin_client_api.post(
        f"/api/v1/webhooks/{subscription.pk}/deliveries/"
        "00000000-0000-0000-0000-000000000000/redeliver/"
    )
    assert unknown.status_code == 404


def test_the_delivery_log_reads_in_a_flat_number_of_queries(
    admin_client_api, receiver, broker, django_capture_on_commit_callbacks
):
    subscription = subscribe(receiver.url, [MESSAGE_CREATED])

    def log_with(deliveries: int) -> int:
        while WebhookDelivery.objects.count() < deliveries:
            with django_capture_on_commit_callbacks(execute=True):
                webhook_event_emit(event=MESSAGE_CREATED, data=lambda: {"id": 1})
        for delivery in WebhookDelivery.objects.filter(attempts=None):
            for status in (500, 200):
                WebhookAttempt.objects.create(
                    delivery=delivery,
                    attempted_at=delivery.created_at,
                    response_status=status,
                    response_body="x",
                )
        with CaptureQueriesContext(connection) as queries:
            response = admin_client_api.get(f"/api/v1/webhooks/{subscription.pk}/deliveries/")
        assert response.status_code == 200
        assert len(response.json()["results"]) == deliveries
        return len(queries)

    assert log_with(2) == log_with(20)
    assert broker.taken  # the deliveries were queued, not sent, in this test
    assert all(name == SEND_WEBHOOK_DELIVERIES_TASK for name, _, _ in broker.taken)
