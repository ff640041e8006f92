"""Admins see their outgoing webhooks on the settings page, each with its latest
deliveries and the buttons that test and redeliver; nobody else sees them."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from inbox.models import WebhookDelivery
from inbox.outgoing_webhooks.deliveries import webhook_attempt_record
from inbox.outgoing_webhooks.emitting import MESSAGE_CREATED, webhook_event_emit
from tests.outgoing_webhooks.conftest import subscribe

pytestmark = pytest.mark.django_db


def page_for(user) -> tuple[str, int]:
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/settings/")
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_an_admin_sees_each_webhook_with_its_latest_deliveries(admin_user, receiver):
    subscription = subscribe(receiver.url, [MESSAGE_CREATED], description="CRM")
    webhook_event_emit(event=MESSAGE_CREATED, data=lambda: {"id": 1})
    delivery = WebhookDelivery.objects.get()
    webhook_attempt_record(
        delivery=delivery, attempted_at=delivery.created_at, duration_ms=5, response_status=502
    )

    page, _ = page_for(admin_user)

    assert receiver.url in page
    assert f'data-webhook-id="{subscription.pk}"' in page
    assert f'data-delivery-id="{delivery.delivery_id}"' in page
    assert "HTTP 502" in page
    assert "1 failed attempt in a row" in page
    assert "data-webhook-test" in page and "data-redeliver" in page


def test_the_section_reads_in_a_flat_number_of_queries(admin_user, receiver):
    def queries_with(subscriptions: int) -> int:
        while len(WebhookDelivery.objects.values("subscription").distinct()) < subscriptions:
            subscribe(receiver.url, [MESSAGE_CREATED])
            for _ in range(7):
                webhook_event_emit(event=MESSAGE_CREATED, data=lambda: {"id": 1})
        return page_for(admin_user)[1]

    assert queries_with(1) == queries_with(4)


def test_operators_and_supervisors_do_not_see_webhooks(operator, supervisor, receiver):
    subscribe(receiver.url, [MESSAGE_CREATED])
    for user in (operator, supervisor):
        page, _ = page_for(user)
        assert receiver.url not in page
        assert 'id="webhooks"' not in page


def test_the_section_follows_the_admins_language(admin_user, receiver):
    subscribe(receiver.url, [MESSAGE_CREATED])
    admin_user.language = "ru"
    admin_user.save()

    page, _ = page_for(admin_user)

    assert "Outgoing webhooks" not in page
    assert "Send test event" not in page
