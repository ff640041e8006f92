"""A subscription whose receiver has failed for long is switched off, and the admins are
told by email; one success, or an admin switching it on again, starts the count afresh."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import WebhookDelivery, WebhookSubscription
from inbox.outgoing_webhooks.deliveries import webhook_attempt_record
from inbox.outgoing_webhooks.emitting import MESSAGE_CREATED, webhook_event_emit
from tests.factories import UserFactory
from tests.outgoing_webhooks.conftest import subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _disable_rule(settings):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    settings.WEBHOOK_DISABLE_AFTER_HOURS = 24


def emit() -> WebhookDelivery:
    webhook_event_emit(event=MESSAGE_CREATED, data=lambda: {"id": 1})
    return WebhookDelivery.objects.latest("id")


def fail(delivery: WebhookDelivery, *, hours_ago: float = 0) -> None:
    webhook_attempt_record(
        delivery=delivery,
        attempted_at=timezone.now() - timedelta(hours=hours_ago),
        duration_ms=3,
        response_status=500,
        response_body=b"oops",
    )


def test_failing_for_long_and_often_switches_it_off_and_emails_the_admins(
    receiver, mailoutbox, django_capture_on_commit_callbacks
):
    UserFactory(username="root", role="admin", email="root@example.com", language="pl")
    UserFactory(username="op", role="operator", email="op@example.com")
    subscription = subscribe(receiver.url, [MESSAGE_CREATED])
    delivery = emit()

    fail(delivery, hours_ago=30)
    fail(delivery, hours_ago=20)
    subscription.refresh_from_db()
    assert subscription.is_active  # failing for long, but not often enough yet
    with django_capture_on_commit_callbacks(execute=True):
        fail(delivery)

    subscription.refresh_from_db()
    assert not subscription.is_active
    assert subscription.disabled_at is not None
    assert "3 failed attempts in a row" in subscription.disabled_reason
    [mail] = mailoutbox
    assert mail.to == ["root@example.com"]
    assert receiver.url in mail.body
    assert "webhook" in mail.subject.lower()  # "Webhook" in Polish too
    # Switched off: nothing more is recorded for it, and what waits is not sent.
    emit()
    assert WebhookDelivery.objects.count() == 1


def test_many_failures_in_a_short_time_do_not_switch_it_off(receiver, mailoutbox):
    subscription = subscribe(receiver.url, [MESSAGE_CREATED])
    delivery = emit()

    for _ in range(10):
        fail(delivery, hours_ago=1)

    subscription.refresh_from_db()
    assert subscription.is_active
    assert subscription.failures_in_a_row == 10
    assert mailoutbox == []


def test_one_success_starts_the_count_afresh(receiver):
    subscription = subscribe(receiver.url, [MESSAGE_CREATED])
    delivery = emit()
    fail(delivery, hours_ago=30)
    fail(delivery, hours_ago=29)

    webhook_attempt_record(
        delivery=delivery, attempted_at=timezone.now(), duration_ms=3, response_status=204
    )
    fail(emit())

    subscription.refresh_from_db()
    assert subscription.is_active
    assert subscription.failures_in_a_row == 1


def test_switching_it_on_again_starts_the_count_afresh(admin_client_api, receiver):
    subscription = subscribe(receiver.url, [MESSAGE_CREATED])
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        is_active=False,
        failures_in_a_row=40,
        failing_since=timezone.now() - timedelta(days=4),
        disabled_at=timezone.now(),
        disabled_reason="40 failed attempts in a row",
    )

    response = admin_client_api.patch(
        f"/api/v1/webhooks/{subscription.pk}/", {"active": True}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["active"] is True
    assert (body["failures_in_a_row"], body["failing_since"], body["disabled_at"]) == (
        0,
        None,
        None,
    )
